/**
 * Interleaved A/B of one env toggle read by the search at call time, over a copy of the search bench's cache:
 *   npx tsx storage/scripts/ab-env.ts <chdb dir> <ENV_NAME[,ENV_NAME…]> <cases> [reps=3]
 * Per case: CPU ms of the process per call with every ENV_NAME=0 (A, old) and unset (B, new), alternated, and
 * whether both returned the same rows.
 */
import { execSync } from 'node:child_process';
import type { SessionQuery, SessionStatsQuery } from '@tandem/protocol';
import { createChdbDriver, createSearch } from '../src/index.js';

const [dir, env, list] = process.argv.slice(2);
const reps = Number(process.argv[5] ?? 3);
const DAY = 86_400_000;
const d = createChdbDriver(dir);
await d.command('SYSTEM STOP MERGES'); // every table: background merges would count in the process's CPU
const now = Number((await d.query<{ n: string }>('SELECT toUnixTimestamp64Milli(max(started_at)) AS n FROM search_new.session_attrs'))[0].n) + 1000;
const all: Record<string, [SessionQuery | SessionStatsQuery, boolean?]> = {
  newest: [{}], user: [{ userId: 'user-1234' }], urlrare: [{ url: '/products/1234' }], urlconfirm: [{ url: '/checkout/confirm' }],
  errors: [{ hasErrors: true }], dur20: [{ minDuration: 20 * 60_000 }], dur60: [{ minDuration: 60_000, maxDuration: 120_000 }],
  samsung: [{ browser: 'Samsung Internet', hasErrors: true, minDuration: 25 * 60_000 }], safarierr: [{ browser: 'Safari', hasErrors: true }],
  usererr: [{ userId: 'user-1234', hasErrors: true }],
  chromeerr: [{ browser: 'Chrome', hasErrors: true }], iosdur: [{ os: 'iOS', minDuration: 20 * 60_000 }],
  mobiledur: [{ device: 'mobile', minDuration: 60_000, maxDuration: 120_000 }], edgeerrdur: [{ browser: 'Edge', hasErrors: true, minDuration: 10 * 60_000 }],
  samsungerr: [{ browser: 'Samsung Internet', hasErrors: true }], samsungdur: [{ browser: 'samsung', minDuration: 20 * 60_000 }],
  linuxerr: [{ os: 'Linux', hasErrors: true }], safarierrdur: [{ browser: 'Safari', hasErrors: true, minDuration: 25 * 60_000 }],
  chromeerrdur: [{ browser: 'Chrome', hasErrors: true, minDuration: 25 * 60_000 }], tableterrdur: [{ device: 'tablet', hasErrors: true, minDuration: 25 * 60_000 }], ios: [{ os: 'iOS', device: 'mobile' }],
  qcheckout: [{ q: 'checkout' }], quser: [{ q: 'user-4242' }], qnone: [{ q: 'zzqx-none' }], qsafari: [{ q: 'safari' }], qshoes: [{ q: 'shoes' }], qblog: [{ q: '/blog/12' }],
  eventrare: [{ event: 'experiment_1234' }], event: [{ event: 'coupon_applied' }], pagerare: [{ page: '/blog/1234' }], page: [{ page: '/cart' }],
  consolerare: [{ console: 'code 77777' }],
  statsall: [{ from: now - 29 * DAY, to: now }, true], statssafari: [{ browser: 'Safari', hasErrors: true, from: now - 29 * DAY, to: now }, true],
};
const search = createSearch(d, 'search_new');
// AB_WALL=1: wall ms per call instead of the process's CPU ms (for changes that trade CPU for wall time, e.g. threads).
const cpu = process.env.AB_WALL ? () => performance.now() : () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const call = (q: SessionQuery | SessionStatsQuery, stats?: boolean) => (stats ? search.sessionStats('p', { ...q, tz: 'UTC' } as SessionStatsQuery) : search.listSessions('p', q));
console.log(execSync('uptime').toString().trim());
for (const name of list.split(',')) {
  const [q, stats] = all[name];
  const t: Record<'A' | 'B', number[]> = { A: [], B: [] };
  const out: Record<string, string> = {};
  for (let r = 0; r < reps; r++) {
    for (const v of (r % 2 ? ['B', 'A'] : ['A', 'B']) as ('A' | 'B')[]) {
      for (const name of env.split(',')) if (v === 'A') process.env[name] = '0'; else delete process.env[name];
      const c = cpu();
      out[v] = JSON.stringify(await call(q, stats));
      t[v].push(cpu() - c);
    }
  }
  const f = (x: number[]) => x.map((y) => y.toFixed(0)).join(' ');
  console.log(`${name.padEnd(12)} A ${f(t.A).padEnd(20)} B ${f(t.B).padEnd(20)} ${out.A === out.B ? 'same' : 'DIFFER'}`);
}
console.log(execSync('uptime').toString().trim());
