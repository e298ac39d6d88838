/**
 * Where the server makes an open wait (a tool, not a bench): the backend runs in this process, so its
 * event loop's delay and its storage calls can be watched while share links are opened one after the
 * other in new tabs, as bench/src/seek.ts opens them (player after player, each page closed at its
 * drawn frame). Per open: the document's, `/auth/me`'s and `/open`'s first byte, the drawn frame,
 * the event loop's longest delay meanwhile, and the storage calls still running when the open began
 * (left over from the previous page) or made during it.
 *
 *   PROFILE_MINUTES=360 OPEN_STALL_OPENS=10 OPEN_CPU_DATA=/tmp/x node --import tsx bench/src/seek-open-stalls.ts
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Session } from 'node:inspector/promises';
import { startBenchBackend } from './lib/backend.js';
import { launchChromium } from './lib/browser.js';
import { signedInDashboard } from './lib/dashboard.js';
import { seededRandom, generatedOpenSession } from './lib/seek-session.js';
import { DRAWN_INIT } from './seek.js';
import { timeStoreCalls, type StoreCall } from './lib/store-calls.js';

const minutes = Number(process.env.PROFILE_MINUTES ?? 360);
const opens = Number(process.env.OPEN_STALL_OPENS ?? 10);
const keep = process.env.OPEN_CPU_DATA;
const fresh = !keep || !existsSync(keep);
const be = await startBenchBackend(keep ? { dataDir: keep } : {}, !!keep);

// Every storage call: name, start and end (ms, performance.now() of this process).
const calls: StoreCall[] = [];
timeStoreCalls(be.store, calls);

// How long each of chDB's calls holds the event loop before it returns (its synchronous part), per method.
const syncMs = new Map<string, number[]>();
if (process.env.OPEN_STALL_CHDB === '1') {
  const { Session: ChdbSession } = await import('chdb');
  const proto = ChdbSession.prototype as any;
  for (const name of ['queryAsync', 'queryBindAsync', 'queryStream', 'queryStreamBind', 'insert']) {
    const fn = proto[name];
    proto[name] = function (this: unknown, ...args: unknown[]) {
      const t0 = performance.now();
      try {
        return fn.apply(this, args);
      } finally {
        syncMs.set(name, [...(syncMs.get(name) ?? []), performance.now() - t0]);
      }
    };
  }
}
const browser = await launchChromium();
try {
  const ids = await generatedOpenSession(be.store, be.projectId!, 'opencpu', minutes, fresh);
  const ctx = await signedInDashboard(browser, be, [DRAWN_INIT]);
  const random = seededRandom(4242);
  const results: Record<'A' | 'B', Record<string, number>[]> = { A: [], B: [] };
  const lag = monitorEventLoopDelay({ resolution: 2 });
  lag.enable();
  // OPEN_STALL_PROFILE=1: this process's CPU profile over the opens, self time by function (the server's
  // main thread; the bench's own playwright client shows up too, under node_modules/playwright-core).
  const inspector = process.env.OPEN_STALL_PROFILE === '1' ? new Session() : null;
  if (inspector) {
    inspector.connect();
    await inspector.post('Profiler.enable');
    await inspector.post('Profiler.setSamplingInterval', { interval: 500 });
    await inspector.post('Profiler.start');
  }
  for (let i = 0; i < opens; i++) {
    const t = Math.floor(random() * (minutes * 60_000 - 2000)) + 1000;
    // OPEN_STALL_AB=<env var>: opens alternate with that variable '1' (B) and '0' (A), in ABBA order.
    const ab = process.env.OPEN_STALL_AB;
    const variant = [0, 3].includes(i % 4) ? 'A' : 'B';
    if (ab) {
      if (variant === 'B') process.env[ab] = '1';
      else process.env[ab] = '0';
    }
    const page = await ctx.newPage();
    lag.reset();
    const from = performance.now();
    const running = calls.filter((c) => c.end === null || c.end > from).map((c) => `${c.name}${c.end === null ? ' (running)' : ` (ends +${(c.end - from).toFixed(0)})`}`);
    await page.goto(`${be.url}/#/sessions/${ids.sessionId}?t=${t}`);
    await page.waitForFunction(() => (window as any).__drawnAt !== null, null, { timeout: 60_000, polling: 20 });
    const maxLag = lag.max / 1e6;
    const steps = await page.evaluate(() => {
      const out: Record<string, number> = {};
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      out.doc = nav.responseStart;
      for (const r of performance.getEntriesByType('resource') as PerformanceResourceTiming[]) {
        const p = new URL(r.name).pathname;
        const k = p.endsWith('/open') ? 'open' : p === '/api/v1/auth/me' ? 'me' : null;
        if (k) (out[`${k} asked`] = r.startTime), (out[`${k} byte`] = r.responseStart);
      }
      for (const m of performance.getEntriesByType('mark')) if (m.name.startsWith('tandem:')) out[m.name.slice(7)] = m.startTime;
      out.drawn = (window as any).__drawnAt;
      return out;
    });
    const during = calls.filter((c) => c.start >= from).map((c) => `${c.name} +${(c.start - from).toFixed(0)}..${c.end === null ? '?' : `+${(c.end - from).toFixed(0)}`}`);
    if (ab && i > 0) results[variant].push({ ...steps, lag: maxLag });
    console.log(`${ab ? variant + ' ' : ''}open ${i + 1} at ${t} (load ${loadavg()[0].toFixed(1)}): ${Object.entries(steps).sort((a, b) => a[1] - b[1]).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}`);
    console.log(`  server event loop: max delay ${maxLag.toFixed(0)} ms, p99 ${(lag.percentile(99) / 1e6).toFixed(0)}; left over: ${running.join(', ') || 'none'}; during: ${during.join(', ')}`);
    await page.close();
  }
  lag.disable();
  if (process.env.OPEN_STALL_AB) {
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.9) - 1)];
    for (const v of ['A', 'B'] as const) {
      const rs = results[v];
      const keys = ['doc', 'me byte', 'open byte', 'app-mounted', 'auth-checked', 'window-read', 'drawn', 'lag'];
      console.log(`${v}${v === 'B' ? ` (${process.env.OPEN_STALL_AB}=1)` : ''} n ${rs.length}: ${keys.map((k) => `${k} ${med(rs.map((r) => r[k]).filter(Number.isFinite)).toFixed(0)}/${p90(rs.map((r) => r[k]).filter(Number.isFinite)).toFixed(0)}`).join(', ')} (median/p90 ms)`);
    }
  }
  for (const [k, v] of syncMs) {
    const xs = [...v].sort((a, b) => a - b);
    console.log(`chDB ${k}: ${xs.length} calls, sync part p50 ${xs[Math.floor(xs.length / 2)].toFixed(1)} p90 ${xs[Math.floor(xs.length * 0.9)].toFixed(1)} max ${xs.at(-1)!.toFixed(1)} sum ${xs.reduce((a, b) => a + b, 0).toFixed(0)} ms`);
  }
  if (inspector) {
    const { profile } = (await inspector.post('Profiler.stop')) as any;
    const self = new Map<number, number>();
    profile.samples.forEach((id: number, k: number) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[k] ?? 0)));
    const byFn = new Map<string, number>();
    const byFile = new Map<string, number>();
    for (const n of profile.nodes) {
      const us = self.get(n.id) ?? 0;
      if (!us) continue;
      const f = n.callFrame;
      const file = f.url.replace(/^.*node_modules\//, 'nm/').replace(/^.*\/work\/wt\/[^/]+\//, '');
      byFn.set(`${f.functionName || '(anon)'} ${file}:${f.lineNumber}`, (byFn.get(`${f.functionName || '(anon)'} ${file}:${f.lineNumber}`) ?? 0) + us);
      const pkg = file.startsWith('nm/') ? file.split('/').slice(0, file.startsWith('nm/@') ? 3 : 2).join('/') : file.split('/').slice(0, 2).join('/') || f.functionName;
      byFile.set(pkg, (byFile.get(pkg) ?? 0) + us);
    }
    // The callers (5 frames up) of the hottest functions, by self time.
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const nodeById = new Map<number, any>(profile.nodes.map((n: any) => [n.id, n]));
    const chains = new Map<string, number>();
    for (const n of profile.nodes) {
      const us = self.get(n.id) ?? 0;
      const f = n.callFrame;
      if (!us || ['(idle)', '(program)', '(garbage collector)'].includes(f.functionName)) continue;
      const chain: string[] = [];
      for (let cur: number | undefined = n.id; cur !== undefined && chain.length < 7; cur = parent.get(cur)) {
        const cf = nodeById.get(cur).callFrame;
        chain.push(`${cf.functionName || '(anon)'}@${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber}`);
      }
      chains.set(chain.join(' < '), (chains.get(chain.join(' < ')) ?? 0) + us);
    }
    const show = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `  ${(v / 1000).toFixed(0).padStart(7)} ms  ${k}`).join('\n');
    console.log(`\nthis process's CPU over ${opens} opens, by package/dir:\n${show(byFile, 20)}\nby function:\n${show(byFn, 25)}\nby stack:\n${show(chains, 25)}`);
  }
  await ctx.close();
} finally {
  await browser.close();
  await be.close();
}
