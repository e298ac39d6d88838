/**
 * A/B of the player's seeks in one page (a tool, not a bench): writes one generated session, opens it,
 * then seeks SEEK_AB_SEEKS times to random moments, alternating `window.__tandemAb = {<flag>: true}` (A)
 * and none (B) seek by seek, so machine load hits both alike. Per seek: ms from the hash change to the
 * right moment drawn, and the longest task (Long Tasks API) from the hash change to 300 ms after the draw.
 *
 *   SEEK_AB=oneTask PROFILE_MINUTES=60 SEEK_AB_SEEKS=40 node --import tsx bench/src/seek-ab.ts
 */
import { loadavg } from 'node:os';
import { startBenchBackend } from './lib/backend.js';
import { launchChromium } from './lib/browser.js';
import { signedInDashboard } from './lib/dashboard.js';
import { writeGeneratedSession, seededRandom } from './lib/seek-session.js';
import { DRAWN_INIT } from './seek.js';

const minutes = Number(process.env.PROFILE_MINUTES ?? 60);
const seeks = Number(process.env.SEEK_AB_SEEKS ?? 40);
const flag = process.env.SEEK_AB ?? 'oneTask';
const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((q / 100) * xs.length) - 1)] ?? NaN;

const be = await startBenchBackend();
const browser = await launchChromium();
try {
  const ids = { projectId: be.projectId!, sessionId: `seekab${minutes}m`, tabId: `seekabtab${minutes}m` };
  const written = await writeGeneratedSession(be.store, ids, { durationMs: minutes * 60_000, startedAt: Date.now() - minutes * 60_000 - 3_600_000, seed: minutes });
  console.log(`wrote ${written.events} events`);
  const ctx = await signedInDashboard(browser, be, [DRAWN_INIT]);
  const page = await ctx.newPage();
  await page.goto(`${be.url}/#/sessions/${ids.sessionId}?t=1000`);
  await page.waitForFunction(() => (window as any).__drawnAt !== null, null, { timeout: 60_000, polling: 20 });
  await page.waitForTimeout(2000);
  const random = seededRandom(777);
  const out: Record<'A' | 'B', { drawn: number[]; task: number[] }> = { A: { drawn: [], task: [] }, B: { drawn: [], task: [] } };
  // SEEK_AB_TRACE=1: a devtools trace over the seeks; every main-thread task over 50 ms is printed with
  // what its time went to (self time by event name; a function call names its function).
  const cdp = process.env.SEEK_AB_TRACE === '1' ? await ctx.newCDPSession(page) : null;
  const traceEvents: any[] = [];
  let traceDone: Promise<void> | null = null;
  if (cdp) {
    cdp.on('Tracing.dataCollected', (e: any) => traceEvents.push(...e.value));
    traceDone = new Promise<void>((r) => cdp.once('Tracing.tracingComplete', () => r()));
    await cdp.send('Tracing.start', { categories: 'devtools.timeline,disabled-by-default-devtools.timeline,v8.execute', transferMode: 'ReportEvents' } as any);
  }
  for (let i = 0; i < seeks; i++) {
    const variant = i % 2 === 0 ? 'A' : 'B';
    const t = Math.floor(random() * (minutes * 60_000 - 2000)) + 1000;
    // SEEK_AB_CPU=1: a trace per seek; the longest task in thread (CPU) time, which the machine's load
    // stretches far less than wall time (a descheduled thread does not count).
    const perSeek = process.env.SEEK_AB_CPU === '1' ? await ctx.newCDPSession(page) : null;
    const seekEvents: any[] = [];
    let seekDone: Promise<void> | null = null;
    if (perSeek) {
      perSeek.on('Tracing.dataCollected', (e: any) => seekEvents.push(...e.value));
      seekDone = new Promise<void>((r) => perSeek.once('Tracing.tracingComplete', () => r()));
      await perSeek.send('Tracing.start', { categories: 'devtools.timeline,disabled-by-default-devtools.timeline', transferMode: 'ReportEvents' } as any);
    }
    const start = await page.evaluate(({ id, t, on, flag }) => {
      const w = window as any;
      w.__tandemAb = on ? { [flag]: true } : undefined;
      w.__expect = Math.max(0, Math.floor((t - 3) / 1000));
      w.__drawnAt = null;
      const at = performance.now();
      location.hash = `#/sessions/${id}?t=${t}`;
      return at;
    }, { id: ids.sessionId, t, on: variant === 'A', flag });
    await page.waitForFunction(() => (window as any).__drawnAt !== null, null, { timeout: 60_000, polling: 20 });
    await page.waitForTimeout(300);
    const r = await page.evaluate((from) => {
      const w = window as any;
      const tasks = (w.__longtasks as { start: number; dur: number }[]).filter((x) => x.start >= from && x.start <= w.__drawnAt + 300);
      return { drawn: w.__drawnAt - from, task: Math.max(0, ...tasks.map((x) => x.dur)) };
    }, start);
    out[variant].drawn.push(r.drawn);
    if (perSeek && seekDone) {
      await perSeek.send('Tracing.end');
      await seekDone;
      await perSeek.detach();
      const mains = new Set(seekEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
      const runs = seekEvents.filter((e) => e.ph === 'X' && e.name === 'RunTask' && mains.has(`${e.pid}:${e.tid}`) && e.tdur);
      r.task = Math.max(0, ...runs.map((e) => e.tdur / 1000));
    }
    out[variant].task.push(r.task);
    console.log(`${variant} seek ${i + 1} to ${t}: drawn ${r.drawn.toFixed(0)} ms, longest task ${r.task.toFixed(0)} ms (load ${loadavg()[0].toFixed(1)})`);
  }
  if (cdp && traceDone) {
    await cdp.send('Tracing.end');
    await traceDone;
    const main = new Set(traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
    const xs = traceEvents.filter((e) => e.ph === 'X' && e.dur && main.has(`${e.pid}:${e.tid}`)).sort((a, b) => a.ts - b.ts || b.dur - a.dur);
    const tasks = xs.filter((e) => e.name === 'RunTask' && e.dur > 50_000);
    for (const task of tasks) {
      const inside = xs.filter((e) => e !== task && e.pid === task.pid && e.tid === task.tid && e.ts >= task.ts && e.ts + e.dur <= task.ts + task.dur);
      const self = new Map<string, number>();
      const stack: any[] = [];
      for (const e of inside) {
        while (stack.length && stack.at(-1).ts + stack.at(-1).dur <= e.ts) stack.pop();
        const parent = stack.at(-1);
        const key = (x: any) => (x.name === 'FunctionCall' ? `FunctionCall ${x.args?.data?.functionName || '?'} ${String(x.args?.data?.url ?? '').split('/').pop()}:${x.args?.data?.lineNumber}` : x.name === 'TimerFire' || x.name === 'EventDispatch' ? `${x.name} ${x.args?.data?.type ?? ''}` : x.name);
        if (parent) self.set(key(parent), (self.get(key(parent)) ?? 0) - e.dur);
        self.set(key(e), (self.get(key(e)) ?? 0) + e.dur);
        stack.push(e);
      }
      const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, v]) => `${k} ${(v / 1000).toFixed(0)}`).join('; ');
      console.log(`task ${(task.dur / 1000).toFixed(0)} ms: ${top}`);
    }
  }
  for (const v of ['A', 'B'] as const) {
    const { drawn, task } = out[v];
    console.log(`${v}${v === 'A' ? ` (${flag})` : ''}: seeks p50 ${pct(drawn, 50).toFixed(0)} p95 ${pct(drawn, 95).toFixed(0)} ms; longest task p50 ${pct(task, 50).toFixed(0)} p95 ${pct(task, 95).toFixed(0)} max ${Math.max(...task).toFixed(0)} ms; seeks with a task > 100 ms: ${task.filter((x) => x > 100).length}/${task.length}`);
  }
  await ctx.close();
} finally {
  await browser.close();
  await be.close();
}
