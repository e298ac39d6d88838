/**
 * Per-query profile of the list search over the search bench's cached 1M sessions (a COPY of
 * bench/.tmp/search-cache: this script stops merges but may run migrations):
 *   npx tsx storage/scripts/profile-search.ts <chdb dir> [case names, comma separated] [reps=3]
 * For each case and rep: wall ms, CPU ms of the process (chDB runs in it) and, per SQL statement the reader
 * sends, its wall and CPU ms, so the step that costs can be named under load.
 */
import { execSync } from 'node:child_process';
import type { SessionQuery, SessionStatsQuery } from '@tandem/protocol';
import { createChdbDriver, createSearch, type Driver } from '../src/index.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: profile-search.ts <chdb dir> [cases] [reps]');
const only = process.argv[3] ? process.argv[3].split(',') : undefined;
const reps = Number(process.argv[4] ?? 3);
const DAY = 86_400_000;
const base = createChdbDriver(dir);
await base.command('SYSTEM STOP MERGES'); // every table: background merges would count in the process's CPU
const now = Number((await base.query<{ n: string }>('SELECT toUnixTimestamp64Milli(max(started_at)) AS n FROM search_new.session_attrs'))[0].n) + 1000;
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
let log: string[] | undefined;
const traced: Driver = {
  ...base,
  async query<T>(sql: string, params?: Record<string, unknown>) {
    const [t, c] = [performance.now(), cpu()];
    const rows = await base.query<T>(sql, params);
    log?.push(`    ${(performance.now() - t).toFixed(0).padStart(5)} ms ${(cpu() - c).toFixed(0).padStart(5)} cpu ${String(rows.length).padStart(4)} rows  ${sql.replace(/\s+/g, ' ').slice(0, 150)}`);
    return rows;
  },
  command: base.command.bind(base),
} as Driver;
const search = createSearch(traced, 'search_new');
const cases: Array<[string, SessionQuery | SessionStatsQuery, boolean?]> = [
  ['newest', {}],
  ['user', { userId: 'user-1234' }],
  ['urlrare', { url: '/products/1234' }],
  ['errors', { hasErrors: true }],
  ['dur60', { minDuration: 60_000, maxDuration: 120_000 }], ['dur20', { minDuration: 20 * 60_000 }],
  ['samsung', { browser: 'Samsung Internet', hasErrors: true, minDuration: 25 * 60_000 }],
  ['qcheckout', { q: 'checkout' }],
  ['quser', { q: 'user-4242' }],
  ['eventrare', { event: 'experiment_1234' }],
  ['pagerare', { page: '/blog/1234' }],
  ['statsall', { from: now - 29 * DAY, to: now }, true],
  ['statssafari', { browser: 'Safari', hasErrors: true, from: now - 29 * DAY, to: now }, true],
];
console.log(execSync('uptime').toString().trim());
for (const [name, q, stats] of cases) {
  if (only && !only.includes(name)) continue;
  for (let r = 0; r < reps; r++) {
    log = [];
    const [t, c] = [performance.now(), cpu()];
    const res = stats ? await search.sessionStats('p', { ...q, tz: 'UTC' } as SessionStatsQuery) : await search.listSessions('p', q);
    const n = 'sessions' in res ? res.sessions.length : res.days.length;
    console.log(`${name.padEnd(12)} ${(performance.now() - t).toFixed(0).padStart(5)} ms ${(cpu() - c).toFixed(0).padStart(5)} cpu ${n} rows`);
    if (r === reps - 1) console.log(log.join('\n'));
  }
}
console.log(execSync('uptime').toString().trim());
