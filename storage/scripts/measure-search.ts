/**
 * listSessions latency over 1,000,000 sessions (DESIGN §10 search target: common filters p95 <= 200 ms):
 *   npx tsx storage/scripts/measure-search.ts
 * Rows are inserted twice (two versions each, as the writer leaves them before merges), then merged.
 */
import { openStore } from '../src/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os'; import { join } from 'node:path';
const dir = mkdtempSync(join(tmpdir(), 'tandem-search-'));
const store = await openStore({ dataDir: dir });
const now = Date.now();
let t = performance.now();
// 1M sessions over 30 days in project p, two versions each (as the writer leaves them before merges).
for (const v of [1, 2]) await store.driver.command(`INSERT INTO tandem.sessions (project_id, session_id, version, updated_at, visitor_id, user_id, started_at, ended_at, duration_ms, first_url, last_url, page_count, event_count, error_count, browser, os, device)
  SELECT 'p', toString(generateUUIDv4()), ${v}, now64(3), 'v', if(number % 10 = 0, concat('user', toString(number % 5000)), ''),
    fromUnixTimestamp64Milli(toInt64(${now} - (number * 2592)), 'UTC'), fromUnixTimestamp64Milli(toInt64(${now} - (number * 2592) + 60000), 'UTC'), number % 600000,
    concat('https://shop.test/p/', toString(number % 1000)), concat('https://shop.test/c/', toString(number % 777)), 3, 100 * ${v}, number % 7 = 0, if(number % 3 = 0, 'Firefox', 'Chrome'), 'Windows', 'desktop'
  FROM numbers(1000000)`);
console.log('insert', (performance.now() - t).toFixed(0), 'ms');
for (const phase of ['2 versions per session', 'merged']) {
if (phase === 'merged') await store.driver.command('OPTIMIZE TABLE tandem.sessions FINAL');
console.log(phase);
const time = async (name: string, q: Parameters<typeof store.listSessions>[1]) => {
  const ts: number[] = [];
  let n = 0;
  for (let i = 0; i < 20; i++) { const s = performance.now(); n = (await store.listSessions('p', q)).sessions.length; ts.push(performance.now() - s); }
  ts.sort((a, b) => a - b);
  console.log('  ' + name.padEnd(24), 'p50', ts[10].toFixed(0), 'p95', ts[19].toFixed(0), 'ms', n, 'rows');
};
await time('newest 50', {});
await time('last day', { from: now - 86400000 });
await time('userId', { userId: 'user1230' });
await time('url', { url: '/p/123' });
await time('q', { q: 'firefox' });
await time('hasErrors', { hasErrors: true });
await time('minDuration', { minDuration: 500000 });
const first = await store.listSessions('p', { limit: 200 });
await time('page 2 (cursor)', { cursor: first.nextCursor ?? undefined });
}
await store.close();
rmSync(dir, { recursive: true, force: true });
