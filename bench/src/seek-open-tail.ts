/**
 * seek-open-tail (a tool): what distinguishes the slow opens of the seek bench's 6-hour session from the median
 * ones. The bench's own moments (seek.ts draws them from seededRandom(12345): the 1-hour session's 20 opens and
 * 50 seeks first, then the 6-hour's 20 opens), each opened as a share link in a new tab (assets cached) OPEN_TAIL_REPS
 * times, one after the other. Per open: drawn, the split (`/open` first byte = the server's head, its end = the
 * window's events in, the early frame's marks: events parsed, assets rewritten, Replayer built, paused, positioned),
 * renderer CPU (CDP ThreadTime) at the drawn frame, and, from the same `/open` answer fetched again, the window's
 * bytes and events and how many of them `pause(t)` applies (from the keyframe to t), by kind. Then the opens sorted
 * by drawn time, and the correlation of drawn time with each quantity.
 *
 * OPEN_TAIL_PROC_AB=1: side A on a backend in its own process (as the seek bench runs it by default), B in this process.
 *
 *   OPEN_TAIL_REPS=2 [OPEN_TAIL_DATA=/tmp/dir] [OPEN_TAIL_SEED=12345] node --import tsx bench/src/seek-open-tail.ts
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { BrowserContext } from 'playwright-core';
import { startBenchBackend } from './lib/backend.js';
import { launchChromium } from './lib/browser.js';
import { signedInDashboard } from './lib/dashboard.js';
import { generatedOpenSession, seededRandom } from './lib/seek-session.js';
import { startSeekBackendProcess, type ChildBackend } from './lib/seek-backend-process.js';
import type { BenchBackend } from './lib/backend.js';
import { median, percentile } from './lib/stats.js';
import { DRAWN_INIT, openSteps, waitDrawn } from './seek.js';
import { timeStoreCalls, type StoreCall } from './lib/store-calls.js';

const reps = Number(process.env.OPEN_TAIL_REPS ?? 2);
const keep = process.env.OPEN_TAIL_DATA;
const fresh = !keep || !existsSync(keep);
const MIN = 60_000;

interface Row {
  t: number;
  drawn: number;
  steps: Record<string, number>;
  thread: number;
  bytes: number;
  events: number;
  applied: number;
  /** ms of recording from the window's keyframe to t */
  span: number;
  kinds: string;
  load: number;
  side: string;
}

/** The moments the seek bench opens the 6-hour session at (seek.ts: the 1-hour's 20 opens and 50 seeks come first). */
function benchMoments(): number[] {
  const random = seededRandom(Number(process.env.OPEN_TAIL_SEED ?? 12345));
  for (let i = 0; i < 70; i++) random();
  return Array.from({ length: 20 }, () => Math.floor(random() * (360 * MIN - 2000)) + 1000);
}

const be = await startBenchBackend(keep ? { dataDir: keep } : {}, !!keep);
// Every storage call of the backend (in this process): name, start, end (performance.now()).
const calls: StoreCall[] = [];
timeStoreCalls(be.store, calls);
// Each chDB call (the driver's, below the store): start and settle, so a store call's time splits into its wait
// for the connection and chDB's own.
const chdbCalls: StoreCall[] = [];
{
  const { Session: ChdbSession } = await import('chdb');
  const proto = ChdbSession.prototype as any;
  for (const name of ['queryAsync', 'queryBindAsync', 'queryStream', 'queryStreamBind']) {
    const fn = proto[name];
    if (typeof fn !== 'function') continue;
    proto[name] = function (this: unknown, ...args: unknown[]) {
      const elu0 = performance.eventLoopUtilization();
      const call: StoreCall = { name: `${name} ${String(args[0]).replace(/\s+/g, ' ').slice(0, 40)}`, start: performance.now(), end: null };
      chdbCalls.push(call);
      const out = fn.apply(this, args);
      const done = () => ((call.end = performance.now()), (call.elu = performance.eventLoopUtilization(elu0).utilization));
      if (out && typeof out.then === 'function') out.then(done, done);
      else call.end = performance.now();
      return out;
    };
  }
}
const browser = await launchChromium();
const rows: Row[] = [];
let child: ChildBackend | null = null;
try {
  const ids = await generatedOpenSession(be.store, be.projectId!, 'opentail', 360, fresh);
  const ctxPlain: BrowserContext = await signedInDashboard(browser, be, [DRAWN_INIT]);
  // OPEN_TAIL_ROUTE_AB=1: side A opens in a context with a playwright route (as the seek bench sets for its baseline's
  // files), side B in one without.
  // OPEN_TAIL_ROUTE_AB=aa: the same two contexts, neither with a route (an A/A run: the noise).
  // OPEN_TAIL_PROC_AB=1: side A opens on a backend in a process of its own (lib/seek-backend-process.ts, the seek
  // seek bench's default setup, with the same generated session written into its own data directory), side B
  // on the one in this process; no route on either.
  child = process.env.OPEN_TAIL_PROC_AB === '1' ? await startSeekBackendProcess([{ minutes: 360, sessionId: ids.sessionId, tabId: ids.tabId }]) : null;
  const childBe = child ? ({ url: child.url, port: Number(new URL(child.url).port), projectKey: '', projectId: child.projectId, dataDir: '', store: null, close: () => child!.close() } as unknown as BenchBackend) : null;
  const ctxRouted: BrowserContext | null = childBe ? await signedInDashboard(browser, childBe, [DRAWN_INIT]) : process.env.OPEN_TAIL_ROUTE_AB ? await signedInDashboard(browser, be, [DRAWN_INIT]) : null;
  const urlOf = (c: BrowserContext) => (childBe && c === ctxRouted ? childBe.url : be.url);
  if (process.env.OPEN_TAIL_ROUTE_AB === '1') await ctxRouted?.route(`${be.url}/__bench/nothing.js`, (route) => route.fulfill({ contentType: 'text/javascript', body: '' }));
  let ctx = ctxPlain;
  const moments = benchMoments();
  // warm-up (chunks into the cache), not counted
  {
    for (const c of [ctxPlain, ctxRouted]) {
      if (!c) continue;
      const page = await c.newPage();
      await page.goto(`${urlOf(c)}/#/sessions/${ids.sessionId}?t=60000`);
      await waitDrawn(page, 'warm-up');
      await page.close();
    }
  }
  const lag = monitorEventLoopDelay({ resolution: 2 });
  lag.enable();
  const windowOf = new Map<number, Omit<Row, 'drawn' | 'steps' | 'thread' | 'load' | 'side'>>();
  for (let r = 0; r < reps; r++) {
    for (const [k, t] of moments.entries()) {
      // OPEN_TAIL_AB=<env var>: opens alternate (ABBA) between that variable '1' (A) and '0' (B) in this process.
      const side = [0, 3].includes((r * moments.length + k) % 4) ? 'A' : 'B';
      if (process.env.OPEN_TAIL_AB) process.env[process.env.OPEN_TAIL_AB] = side === 'A' ? '1' : '0';
      if (ctxRouted) ctx = side === 'A' ? ctxRouted : ctxPlain;
      const page = await ctx.newPage();
      const cdp = await ctx.newCDPSession(page);
      await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
      let openUrl = '';
      const from = performance.now();
      lag.reset();
      const leftOver = calls.filter((c) => c.end === null || c.end > from).map((c) => c.name);
      try {
        await page.goto(`${urlOf(ctx)}/#/sessions/${ids.sessionId}?t=${t}`);
        const drawn = await waitDrawn(page, `open at ${t}`);
        const steps = await openSteps(page);
        if (process.env.OPEN_TAIL_RESOURCES === '1') {
          console.log(calls.filter((c) => c.start >= from).map((c) => `${c.name} +${(c.start - from).toFixed(0)}..${c.end === null ? '?' : (c.end - from).toFixed(0)}`).join(', '));
          console.log(chdbCalls.filter((c) => c.start >= from).map((c) => `${c.name} +${(c.start - from).toFixed(0)}..${c.end === null ? '?' : (c.end - from).toFixed(0)}`).join('\n'));
          const res = await page.evaluate(() => (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).map((r) => `${r.startTime.toFixed(0)} ${r.responseStart.toFixed(0)} ${r.responseEnd.toFixed(0)} ${r.transferSize} ${r.initiatorType} ${r.name.replace(/^https?:[/][/][^/]+/, '').slice(0, 70)}`));
          console.log(res.join('\n'));
        }
        openUrl = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name).find((n) => /\/open\?/.test(n)) ?? '');
        const got = ((await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] }).metrics;
        const thread = (got.find((m) => m.name === 'ThreadTime')?.value ?? NaN) * 1000;
        if (!windowOf.has(t) && openUrl) {
          const res = await ctx.request.get(openUrl);
          const body = await res.text();
          const lines = body.split('\n').filter(Boolean);
          const head = JSON.parse(lines[0]) as { session: { tabs: { tabId: string; startedAt: number }[] }; tabId: string; offset: number };
          const tab = head.session.tabs.find((x) => x.tabId === head.tabId)!;
          const evs = lines.slice(1).map((l) => JSON.parse(l) as { type: number; timestamp: number; data?: { source?: number } });
          const before = evs.filter((e) => e.timestamp - tab.startedAt <= head.offset);
          const kinds = new Map<string, number>();
          for (const e of before) {
            const k = e.type === 3 ? `s${e.data?.source}` : `t${e.type}`;
            kinds.set(k, (kinds.get(k) ?? 0) + 1);
          }
          windowOf.set(t, {
            t, bytes: body.length, events: evs.length, applied: before.length,
            span: evs.length ? head.offset - (evs[0].timestamp - tab.startedAt) : NaN,
            kinds: [...kinds].sort().map(([k, n]) => `${k}:${n}`).join(' '),
          });
        }
        const gs = calls.find((c) => c.start >= from && c.name === 'getSession');
        const ev = calls.find((c) => c.start >= from && c.name === 'streamEvents');
        const gq = gs ? chdbCalls.find((c) => c.start >= gs.start && c.start <= (gs.end ?? Infinity)) : undefined;
        if (gq) steps.getSessionChdb = (gq.end ?? NaN) - gq.start, steps.getSessionWait = gq.start - gs!.start, steps.getSessionElu = (gq.elu ?? NaN) * 100;
        const server = gs ? `getSession +${(gs.start - from).toFixed(0)} ${((gs.end ?? NaN) - gs.start).toFixed(0)} ms (chDB ${gq ? `+${(gq.start - gs.start).toFixed(0)} ${((gq.end ?? NaN) - gq.start).toFixed(0)} elu ${((gq.elu ?? NaN) * 100).toFixed(0)}%` : '?'}), events ${ev ? ((ev.end ?? NaN) - ev.start).toFixed(0) : '-'} ms, lag ${(lag.max / 1e6).toFixed(0)}${leftOver.length ? `, left over: ${leftOver.join(' ')}` : ''}` : '';
        if (gs) steps.getSession = (gs.end ?? NaN) - gs.start;
        steps.lagMax = lag.max / 1e6;
        if (ev) steps.windowRead = (ev.end ?? NaN) - ev.start;
        rows.push({ ...windowOf.get(t)!, drawn, steps, thread, load: loadavg()[0], side });
        const s = steps;
        const f = (k: string) => (Number.isFinite(s[k]) ? s[k].toFixed(0) : '-').padStart(5);
        console.log(`${process.env.OPEN_TAIL_AB || ctxRouted ? side + ' ' : ''}rep ${r + 1} t ${String(t).padStart(8)}: drawn ${drawn.toFixed(0).padStart(5)} | open ${f('open start')} ${f('open first byte')} ${f('open end')} | events ${f('early-events')} assets ${f('early-assets')} built ${f('early-built')} paused ${f('early-paused')} pos ${f('early-positioned')} | thread ${thread.toFixed(0)} | applied ${windowOf.get(t)!.applied}/${windowOf.get(t)!.events} span ${(windowOf.get(t)!.span / 1000).toFixed(0)} s | load ${loadavg()[0].toFixed(1)} | ${server}`);
      } finally {
        await page.close();
      }
    }
  }
  await ctxPlain.close();
  await ctxRouted?.close();
} finally {
  await browser.close();
  await child?.close();
  await be.close();
}

if (process.env.OPEN_TAIL_AB || process.env.OPEN_TAIL_ROUTE_AB || process.env.OPEN_TAIL_PROC_AB) {
  for (const side of ['A', 'B']) {
    const rs = rows.filter((r) => r.side === side);
    const xs = rs.map((r) => r.drawn);
    const g = rs.map((r) => r.steps.getSession).filter(Number.isFinite);
    const head = rs.map((r) => r.steps['open first byte'] - r.steps['open start']).filter(Number.isFinite);
    console.log(`${side} (${process.env.OPEN_TAIL_AB}=${side === 'A' ? 1 : 0}) n ${xs.length}: drawn p50 ${median(xs).toFixed(0)} p90 ${percentile(xs, 90).toFixed(0)} p95 ${percentile(xs, 95).toFixed(0)}; getSession p50 ${median(g).toFixed(0)} p90 ${percentile(g, 90).toFixed(0)}; server head p50 ${median(head).toFixed(0)} p90 ${percentile(head, 90).toFixed(0)}`);
  }
}
const drawnAll = rows.map((r) => r.drawn);
console.log(`\n${rows.length} opens: drawn p50 ${median(drawnAll).toFixed(0)} p90 ${percentile(drawnAll, 90).toFixed(0)} p95 ${percentile(drawnAll, 95).toFixed(0)} max ${Math.max(...drawnAll).toFixed(0)}`);
const d = (r: Row, a: string, b: string) => (r.steps[b] ?? NaN) - (r.steps[a] ?? NaN);
const parts: [string, (r: Row) => number][] = [
  ['to /open start', (r) => r.steps['open start']],
  ['server head', (r) => d(r, 'open start', 'open first byte')],
  ['  getSession', (r) => r.steps.getSession],
  ['    its wait', (r) => r.steps.getSessionWait],
  ['    its chDB call', (r) => r.steps.getSessionChdb],
  ['    event loop busy %', (r) => r.steps.getSessionElu],
  ['  event loop max delay', (r) => r.steps.lagMax],
  ['  window read', (r) => r.steps.windowRead],
  ['head→end', (r) => d(r, 'open first byte', 'open end')],
  ['end→events', (r) => d(r, 'open end', 'early-events')],
  ['events→assets', (r) => d(r, 'early-events', 'early-assets')],
  ['assets→built', (r) => d(r, 'early-assets', 'early-built')],
  ['built→paused', (r) => d(r, 'early-built', 'early-paused')],
  ['paused→positioned', (r) => d(r, 'early-paused', 'early-positioned')],
  ['positioned→drawn', (r) => r.drawn - (r.steps['early-positioned'] ?? NaN)],
  ['thread ms', (r) => r.thread],
  ['applied events', (r) => r.applied],
  ['span s', (r) => r.span / 1000],
  ['window KB', (r) => r.bytes / 1024],
];
const sorted = [...rows].sort((a, b) => a.drawn - b.drawn);
const slow = sorted.slice(Math.floor(sorted.length * 0.9));
const mid = sorted.slice(Math.floor(sorted.length * 0.3), Math.ceil(sorted.length * 0.7));
const corr = (xs: number[], ys: number[]) => {
  const ok = xs.map((x, i) => [x, ys[i]]).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const mx = ok.reduce((s, [x]) => s + x, 0) / ok.length;
  const my = ok.reduce((s, [, y]) => s + y, 0) / ok.length;
  const sxy = ok.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = ok.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const syy = ok.reduce((s, [, y]) => s + (y - my) ** 2, 0);
  return sxy / Math.sqrt(sxx * syy);
};
console.log(`part (ms unless said)      median of the middle 40% | median of the slowest 10% (n ${slow.length}) | corr. with drawn`);
for (const [name, f] of parts) {
  const m = (rs: Row[]) => median(rs.map(f).filter(Number.isFinite)).toFixed(0).padStart(6);
  console.log(`  ${name.padEnd(22)} ${m(mid)} | ${m(slow)} | ${corr(rows.map(f), drawnAll).toFixed(2)}`);
}
console.log('slowest opens:');
for (const r of slow) console.log(`  t ${r.t} drawn ${r.drawn.toFixed(0)} applied ${r.applied} (${r.kinds}) load ${r.load.toFixed(1)}`);
