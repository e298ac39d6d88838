/**
 * Whose CPU an open takes (a tool): per open of a share link (new tab, assets cached, one after another as
 * in the seek bench), CPU ms of each kind of Chromium process (browser, renderer, GPU, utility) and of this
 * node process (server, chDB threads, playwright), from /proc, and the whole machine's busy time.
 *
 *   OPEN_PROCS_DATA=/tmp/x OPEN_PROCS_OPENS=10 node --import tsx bench/src/seek-open-procs.ts
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { startBenchBackend } from './lib/backend.js';
import { launchChromium } from './lib/browser.js';
import { signedInDashboard } from './lib/dashboard.js';
import { seededRandom, generatedOpenSession } from './lib/seek-session.js';
import { median } from './lib/stats.js';
import { DRAWN_INIT, waitDrawn } from './seek.js';

const minutes = Number(process.env.PROFILE_MINUTES ?? 360);
const opens = Number(process.env.OPEN_PROCS_OPENS ?? 10);
const keep = process.env.OPEN_PROCS_DATA;
const fresh = !keep || !existsSync(keep);

function jiffies(pid: string): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}
function kindOf(pid: string): string | null {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (pid === String(process.pid)) return 'node (server+playwright)';
    if (!/chrom/i.test(cmd.split('\0')[0])) return null;
    const type = /--type=([a-z-]+)/.exec(cmd)?.[1];
    if (!type) return 'chromium browser';
    if (type === 'utility') return `utility ${/--utility-sub-type=([\w.]+)/.exec(cmd)?.[1] ?? ''}`;
    return type;
  } catch {
    return null;
  }
}
function sample(): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    const kind = kindOf(pid);
    if (!kind) continue;
    out.set(`${kind}|${pid}`, jiffies(pid));
    if (kind === 'renderer' && process.env.OPEN_PROCS_THREADS === '1') {
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        let comm = '';
        try { comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim().replace(/\d+$/, ''); } catch { continue; }
        out.set(`  renderer thread ${comm}|${pid}/${tid}`, jiffies(`${pid}/task/${tid}`));
      }
    }
  }
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  out.set('machine busy|0', cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6] + (cpu[7] ?? 0));
  return out;
}

const be = await startBenchBackend(keep ? { dataDir: keep } : {}, !!keep);
const browser = await launchChromium();
const per = new Map<string, number[]>();
const walls: number[] = [];
try {
  const ids = await generatedOpenSession(be.store, be.projectId!, 'openab', minutes, fresh);
  const ctx = await signedInDashboard(browser, be, [DRAWN_INIT]);
  const random = seededRandom(31);
  for (let i = 0; i < opens; i++) {
    const t = Math.floor(random() * (minutes * 60_000 - 2000)) + 1000;
    const page = await ctx.newPage();
    if (process.env.OPEN_PROCS_REQUESTS === '1') page.on('requestfinished', async (r) => { const res = await r.response(); console.log(`    ${r.url().replace(be.url, '')} ${res?.status()} fromServiceWorker=${res?.fromServiceWorker()} timing ${JSON.stringify(r.timing()).slice(0, 120)}`); });
    const a = sample();
    const t0 = performance.now();
    await page.goto(`${be.url}/#/sessions/${ids.sessionId}?t=${t}`);
    const drawn = await waitDrawn(page, `open at ${t}`);
    const wall = performance.now() - t0;
    const b = sample();
    await page.close();
    await new Promise((r) => setTimeout(r, 1500)); // the page's after-frame queries finish before the next
    if (i === 0) continue;
    walls.push(drawn);
    const byKind = new Map<string, number>();
    for (const [k, v] of b) {
      const kind = k.split('|')[0];
      byKind.set(kind, (byKind.get(kind) ?? 0) + (v - (a.get(k) ?? 0)) * 10);
    }
    for (const [k, v] of byKind) per.set(k, [...(per.get(k) ?? []), v]);
    console.log(`open ${i} drawn ${drawn.toFixed(0)} (goto→drawn seen ${wall.toFixed(0)}) load ${loadavg()[0].toFixed(1)}: ${[...byKind].sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  await ctx.close();
} finally {
  await browser.close();
  await be.close();
}
console.log(`\nmedian CPU ms per open (n ${walls.length}, drawn median ${median(walls).toFixed(0)} ms):`);
for (const [k, v] of [...per].sort((x, y) => median(y[1]) - median(x[1]))) console.log(`  ${k.padEnd(30)} ${median(v).toFixed(0)}`);
