/**
 * Session-list read figures on embedded chDB, over the migration-6 aggregating `session_search`:
 *   npx tsx storage/scripts/measure-list.ts [sessions=50000] [deltas=3] [reps=15]
 * Generates `sessions` sessions over 30 days, each written as `deltas` delta rows (one INSERT per round,
 * so several unmerged parts, as flushes leave them), then times listSessions and sessionStats for the
 * common list queries with the reader as it was (FINAL over the window: `candidates: false`) and as it
 * is (newest keys first, then FINAL over those keys only), in the same run. Prints `uptime` with them.
 */
import { execSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionQuery } from '@tandem/protocol';
import { createSearch, openStore } from '../src/index.js';

const total = Number(process.argv[2] ?? 50_000);
const deltas = Number(process.argv[3] ?? 3);
const reps = Number(process.argv[4] ?? 15);
const dir = mkdtempSync(join(tmpdir(), 'tandem-measure-list-'));
const store = await openStore({ dataDir: dir });
const db = 'tandem';
try {
  const now = Date.now();
  const gap = Math.floor((30 * 86_400_000) / total);
  for (let d = 0; d < deltas; d++) {
    // Delta d of every session: counters add up over the rounds; attributes set by the first one.
    await store.driver.command(`INSERT INTO ${db}.sessions (project_id, session_id, version, updated_at, visitor_id, user_id,
        started_at, first_event_at, last_event_at, first_url, last_url, referrer, page_count, event_count, error_count,
        console_error_count, click_count, tab_ids, user_agent, browser, browser_version, os, device, screen, language, timezone, country)
      SELECT 'p', concat('s', toString(number)), ${d + 1}, now64(3), concat('v', toString(number % 20000)),
        if(${d} = 0 AND number % 3 = 0, concat('user', toString(number % 5000)), NULL),
        fromUnixTimestamp64Milli(toInt64(${now} - number * ${gap})), fromUnixTimestamp64Milli(toInt64(${now} - number * ${gap})),
        fromUnixTimestamp64Milli(toInt64(${now} - number * ${gap} + ${(d + 1) * 20_000})),
        concat('https://shop.test/p/', toString(number % 997)), concat('https://shop.test/c/', toString(number % 89)), '',
        1, 40, if(number % 7 = ${d}, 1, 0), 0, 3, ['t1'], 'Mozilla/5.0', if(number % 4 = 0, 'Firefox', 'Chrome'), '120', 'Windows 10',
        if(number % 5 = 0, 'mobile', 'desktop'), '1280x720', 'en', 'UTC', ''
      FROM numbers(${total})`);
  }
  // Parts stay as flushes leave them during the measurement (a merge in the middle would favour whichever
  // variant runs after it).
  await store.driver.command(`SYSTEM STOP MERGES ${db}.session_search`);
  const parts = await store.driver.query<{ n: number }>(`SELECT count() AS n FROM system.parts WHERE database = '${db}' AND table = 'session_search' AND active`);
  console.log(`${total} sessions × ${deltas} delta rows, session_search active parts: ${parts[0]?.n}`);

  const cases: Array<[string, SessionQuery]> = [
    ['newest 50', {}],
    ['newest 200', { limit: 200 }],
    ['page 2 (cursor)', { cursor: 'PAGE2' }],
    ['hasErrors', { hasErrors: true }],
    ['userId', { userId: 'user42' }],
    ['browser Firefox', { browser: 'Firefox' }],
    ['url text', { url: '/p/123' }],
    ['minDuration 50 s', { minDuration: 50_000 }],
    ['whole range (from 40 days)', { from: now - 40 * 86_400_000 }],
  ];
  const variants = { before: createSearch(store.driver, db, { candidates: false }), after: createSearch(store.driver, db, { candidates: true }) };
  const first = await variants.before.listSessions('p', {});
  const cursor = (await variants.before.listSessions('p', { limit: 50 })).nextCursor!;
  for (const [name, q0] of cases) {
    const q = q0.cursor ? { ...q0, cursor } : q0;
    const same = JSON.stringify(await variants.before.listSessions('p', q)) === JSON.stringify(await variants.after.listSessions('p', q));
    const fig: Record<string, string> = {};
    const times: Record<string, number[]> = { before: [], after: [] };
    for (let i = 0; i < reps; i++) {
      // Alternated, so a burst of load on the shared machine hits both variants alike.
      for (const [label, s] of Object.entries(variants)) {
        const t = performance.now();
        await s.listSessions('p', q);
        times[label].push(performance.now() - t);
      }
    }
    for (const [label, t] of Object.entries(times)) {
      t.sort((a, b) => a - b);
      fig[label] = `best ${t[0].toFixed(1)} / median ${t[Math.floor(reps / 2)].toFixed(1)} ms`;
    }
    console.log(`${name.padEnd(28)} before ${fig.before.padEnd(30)} after ${fig.after.padEnd(30)} ${same ? 'same rows' : 'ROWS DIFFER'}`);
  }
  void first;
  const stats: Record<string, string> = {};
  for (const [label, s] of Object.entries(variants)) {
    const times: number[] = [];
    for (let i = 0; i < Math.min(reps, 5); i++) {
      const t = performance.now();
      await s.sessionStats('p', { from: now - 30 * 86_400_000, to: now, tz: 'UTC' });
      times.push(performance.now() - t);
    }
    stats[label] = `best ${Math.min(...times).toFixed(1)} ms`;
  }
  console.log(`${'stats 30 days'.padEnd(28)} before ${stats.before.padEnd(30)} after ${stats.after}`);
  console.log(`uptime: ${execSync('uptime').toString().trim()}`);
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
