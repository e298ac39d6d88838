/**
 * join-ab: the `join` bench's heavy first join, two dashboard builds interleaved in one run (same backend,
 * same Chromium, same user page, same moments), so a change to the agent's side is judged against the build
 * before it on a busy machine. Each round joins once with each build, alternating which goes first.
 *
 * The builds: `frontend/dist/index-a.html` and `index-b.html` (with .br/.gz), both referring to hashed chunks
 * in `frontend/dist/assets` (copy the old build's assets next to the new ones: same name = same bytes).
 * The agent opens `/index-<v>.html#/live/<id>`.
 *
 *   JOIN_AB_REPS=8 JOIN_AB_NODES=5000 [JOIN_AB_TRACE=1] node --import tsx bench/src/join-ab.ts
 *
 * JOIN_AB_PAGE=canvas: the canvas-video bench's page instead (a 30 fps 2D canvas); each join then waits for the
 * first canvas video frame presented in the live view (`canvas presented`, as canvas-video judges it).
 *
 * JOIN_AB_HOLD_MS=<ms>: the user's page holds its first live:events frame (the snapshot) that long after each
 * join, so the canvas video's stream reaches the agent before the picture (the order on a quiet machine).
 *
 * JOIN_AB_TRACE=1: a Chromium trace of the agent page per join; prints the agent's main-thread CPU up to the
 * first frame and its tasks ≥ 8 ms (start, duration, what they spent it on).
 */
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { agentContext, freshUserPage, openUser, startLiveEnv, waitFor, liveViewState, type UserTab } from './lib/live-browser.js';
import { JOIN_WS_TAP_INIT, joinWatchInit } from './lib/live-pages.js';
import { BENCH_PROJECT_KEY } from './lib/backend-child.js';
import { CANVAS_WATCH_INIT, PC_TAP_INIT, WEBRTC_ARGS, canvasUserPage, rtcOf } from './lib/assist-bench.js';
import { LIST_SELECTOR, USER_JOIN_TAP_INIT, waitLeft } from './join.js';
import { loadAverage } from './lib/sysload.js';
import { median, percentile } from './lib/stats.js';
import { addSelfTimes, addTotalTimes, startProfile, stopProfile, topEntries, type SelfTimes } from './lib/cpu-profile.js';

const profSelf: SelfTimes = new Map();
const profTotal: SelfTimes = new Map();
let profiles = 0;

type Sample = Record<string, number | null>;

/** In the user's page: `__holdEvents(ms)` makes the next live:events frames wait `ms` (in order), other frames pass. */
const USER_HOLD_INIT = `(() => {
  const send = WebSocket.prototype.send;
  let hold = 0, queue = null;
  window.__holdEvents = (ms) => { hold = ms; };
  WebSocket.prototype.send = function (data) {
    const events = typeof data === 'string' && data.indexOf('"live:events"') >= 0;
    if (events && queue) { queue.push(data); return; }
    if (events && hold > 0) {
      const ws = this;
      queue = [data];
      setTimeout(() => { const q = queue; queue = null; for (const d of q) send.call(ws, d); }, hold);
      hold = 0;
      return;
    }
    return send.call(this, data);
  };
})();`;

interface TraceEvent { name: string; ph: string; ts: number; dur?: number; tdur?: number; pid: number; tid: number; cat: string; args?: any }

async function startTrace(cdp: CDPSession): Promise<() => Promise<TraceEvent[]>> {
  const events: TraceEvent[] = [];
  cdp.on('Tracing.dataCollected', (e) => {
    events.push(...(e.value as unknown as TraceEvent[]));
  });
  await cdp.send('Tracing.start', {
    transferMode: 'ReportEvents',
    traceConfig: { includedCategories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8.execute', 'blink.user_timing', 'toplevel', 'v8', 'disabled-by-default-devtools.timeline.stack'] },
  } as any);
  return async () => {
    const done = new Promise<void>((r) => cdp.once('Tracing.tracingComplete', () => r()));
    await cdp.send('Tracing.end');
    await done;
    return events;
  };
}

/** The agent page's main-thread tasks up to `untilMs` after its navigation start. */
function summarise(events: TraceEvent[], untilMs: number): { cpu: number; tasks: string[]; byKind: Record<string, number> } {
  const nav = events.find((e) => e.name === 'navigationStart' && String(e.args?.data?.documentLoaderURL ?? '').includes('/index-'));
  if (!nav) return { cpu: NaN, tasks: ['(no navigationStart)'], byKind: {} };
  const { pid, tid } = nav;
  const urls = new Set(events.filter((e) => e.pid === pid && e.name === 'navigationStart').map((e) => String(e.args?.data?.documentLoaderURL ?? '').slice(0, 60)));
  if (process.env.JOIN_AB_TASKS) console.log(`    documents on the agent's main thread: ${[...urls].join(' | ')}`);
  const t0 = nav.ts;
  const mine = events.filter((e) => e.pid === pid && e.tid === tid && e.ph === 'X' && e.ts >= t0 && e.ts <= t0 + untilMs * 1000);
  const tasks = mine.filter((e) => e.name === 'RunTask');
  const kinds: Record<string, string> = {
    FunctionCall: 'js', EvaluateScript: 'js', 'v8.compile': 'compile', 'v8.compileModule': 'compile', 'v8.evaluateModule': 'js', TimerFire: 'js', EventDispatch: 'js', FireAnimationFrame: 'js',
    ParseHTML: 'parse', UpdateLayoutTree: 'style', Layout: 'layout', Paint: 'paint', PrePaint: 'paint', Layerize: 'paint', MajorGC: 'gc', MinorGC: 'gc',
  };
  const byKind: Record<string, number> = {};
  let cpu = 0;
  if (process.env.JOIN_AB_TASKS)
    for (const e of mine.filter((e) => (e.name === 'Layout' || e.name === 'UpdateLayoutTree') && (e.dur ?? 0) >= 15000))
      console.log(`    ${e.name} at ${((e.ts - t0) / 1000).toFixed(0)} ${((e.dur ?? 0) / 1000).toFixed(0)} ms: ${JSON.stringify(e.args?.beginData ?? e.args?.elementCount ?? {}).slice(0, 300)}`);
  const lines: string[] = [];
  for (const t of tasks) {
    const d = (t.tdur ?? t.dur ?? 0) / 1000;
    cpu += d;
    if ((t.dur ?? 0) < 8000) continue;
    const inner = mine.filter((e) => e !== t && e.ts >= t.ts && e.ts + (e.dur ?? 0) <= t.ts + (t.dur ?? 0));
    const sums: Record<string, number> = {};
    // Outermost of each kind only (nested FunctionCalls are not double counted).
    const open: Record<string, number> = {};
    for (const e of inner.sort((a, b) => a.ts - b.ts)) {
      const k = kinds[e.name];
      if (!k) continue;
      if ((open[k] ?? -1) > e.ts) continue;
      open[k] = e.ts + (e.dur ?? 0);
      sums[k] = (sums[k] ?? 0) + (e.dur ?? 0) / 1000;
    }
    for (const [k, v] of Object.entries(sums)) byKind[k] = (byKind[k] ?? 0) + v;
    const what = Object.entries(sums).filter(([, v]) => v >= 2).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(' ');
    const fn = inner.find((e) => e.name === 'FunctionCall' || e.name === 'EvaluateScript' || e.name === 'v8.evaluateModule' || e.name === 'EventDispatch' || e.name === 'FireAnimationFrame' || e.name === 'TimerFire');
    const label = fn ? `${fn.name}${fn.args?.data?.url ? ' ' + String(fn.args.data.url).split('/').pop() : ''}${fn.args?.data?.type ? ' ' + fn.args.data.type : ''}` : '';
    lines.push(`${((t.ts - t0) / 1000).toFixed(0)}+${((t.dur ?? 0) / 1000).toFixed(0)} [${label}] ${what}`);
  }
  return { cpu, tasks: lines, byKind };
}

async function joinOnce(ctx: BrowserContext, url: string, user: UserTab, trace: boolean): Promise<{ sample: Sample; tasks?: string[] }> {
  const page: Page = await ctx.newPage();
  try {
    await user.page.evaluate(() => (window as any).__joinTapReset());
    if (holdMs) await user.page.evaluate((ms) => (window as any).__holdEvents(ms), holdMs);
    const cdp = await ctx.newCDPSession(page);
    // When the snapshot's frame reached the agent's network stack (before its main thread got to it).
    let docAt: number | null = null;
    let frameAt: number | null = null;
    cdp.on('Network.requestWillBeSent', (e: any) => {
      if (docAt === null && e.type === 'Document') docAt = e.timestamp;
    });
    cdp.on('Network.webSocketFrameReceived', (e: any) => {
      if (frameAt === null && String(e.response?.payloadData ?? '').includes('"live:events"')) frameAt = e.timestamp;
    });
    await cdp.send('Network.enable');
    const stop = trace ? await startTrace(cdp) : null;
    if (process.env.JOIN_AB_PROFILE) await startProfile(cdp);
    await page.goto(url);
    const done = canvas ? 'window.__canvasFirstFrame !== null && window.__firstFrame !== null' : 'window.__firstFrame !== null';
    await waitFor("the user's page drawn", () => page.evaluate(done), 15_000, 50).catch(async (err) => {
      throw new Error(`${(err as Error).message} (${await liveViewState(page)})`);
    });
    const tap = await user.page.evaluate(() => (window as any).__joinTap);
    const s = await page.evaluate((tap) => {
      const w = window as any;
      const rel = (t: number | null | undefined) => (typeof t === 'number' ? t - performance.timeOrigin : null);
      const mark = (n: string) => performance.getEntriesByName(n)[0]?.startTime ?? null;
      return {
        'join sent': w.__joinSent, 'user live:start': rel(tap?.start), 'user frame out': rel(tap?.sent), 'frame handled': w.__firstEvents,
        'view attached': mark('tandem:live-attached'), drawn: w.__firstFrame as number,
        'video element': rel(w.__canvasVideoAt), 'canvas presented': rel(w.__canvasFirstFrame),
        'drawn to canvas presented': typeof w.__canvasFirstFrame === 'number' ? rel(w.__canvasFirstFrame)! - w.__firstFrame : null,
      };
    }, tap);
    const nav = await page.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).requestStart);
    (s as Sample)['frame at network'] = docAt !== null && frameAt !== null ? (frameAt - docAt) * 1000 + nav : null;
    // The agent's own part once the snapshot is there: handling, rebuild, style, layout, paint.
    (s as Sample)['handled to drawn'] = typeof s['frame handled'] === 'number' ? (s.drawn as number) - s['frame handled'] : null;
    let tasks: string[] | undefined;
    if (process.env.JOIN_AB_PROFILE) {
      const prof = await stopProfile(cdp);
      addSelfTimes(prof, profSelf);
      addTotalTimes(prof, profTotal);
      profiles++;
    }
    if (stop) {
      const events = await stop();
      const sum = summarise(events, (s.drawn ?? 0) + 50);
      (s as Sample)['cpu to drawn'] = sum.cpu;
      for (const [k, v] of Object.entries(sum.byKind)) (s as Sample)[`cpu ${k}`] = v;
      tasks = sum.tasks;
    }
    return { sample: s as Sample, tasks };
  } finally {
    await page.close();
  }
}

/** join.ts's wait for the agent to leave, plus (canvas page) the user's page no longer streaming. */
async function waitLeftAndQuiet(user: UserTab): Promise<void> {
  await waitLeft(user);
  if (canvas)
    await waitFor('the user page to stop streaming', async () => {
      const rtc = await rtcOf(user.page);
      const open = await user.page.evaluate(() => ((window as any).__pcs ?? []).filter((pc: RTCPeerConnection) => pc.connectionState !== 'closed').length);
      return (rtc?.canvasStreams ?? 0) === 0 && open === 0;
    }, 20_000, 100);
}

const reps = Number(process.env.JOIN_AB_REPS ?? 8);
const nodes = Number(process.env.JOIN_AB_NODES ?? 5000);
const trace = !!process.env.JOIN_AB_TRACE;
const variants = (process.env.JOIN_AB_VARIANTS ?? 'a,b').split(',');
const canvas = process.env.JOIN_AB_PAGE === 'canvas';
const holdMs = Number(process.env.JOIN_AB_HOLD_MS ?? 0);
const env = await startLiveEnv(canvas ? { browserArgs: WEBRTC_ARGS } : {});
try {
  const ctx = await agentContext(env, [joinWatchInit(LIST_SELECTOR), JOIN_WS_TAP_INIT, ...(canvas ? [CANVAS_WATCH_INIT] : [])]);
  const user = canvas
    ? await openUser(env, { path: '/bench-canvas.html', html: canvasUserPage(BENCH_PROJECT_KEY, 30), initScripts: [USER_HOLD_INIT, USER_JOIN_TAP_INIT, PC_TAP_INIT] })
    : await openUser(env, { path: `/bench-join-${nodes}.html`, nodes, initScripts: [USER_JOIN_TAP_INIT] });
  const url = (v: string) => `${env.backend.url}/index-${v}.html#/live/${encodeURIComponent(user.sessionId)}`;
  const all: Record<string, Sample[]> = Object.fromEntries(variants.map((v) => [v, []]));
  try {
    // Warm-up, not counted: each build's chunks in the cache and compiled.
    for (const v of variants) {
      await freshUserPage(user);
      await joinOnce(ctx, url(v), user, false);
      await waitLeftAndQuiet(user);
    }
    for (let i = 0; i < reps; i++) {
      const order = i % 2 === 0 ? variants : [...variants].reverse();
      for (const v of order) {
        await freshUserPage(user);
        const { sample: s, tasks } = await joinOnce(ctx, url(v), user, trace);
        await waitLeftAndQuiet(user);
        all[v].push(s);
        console.log(`[join-ab] ${i} ${v}: ${Object.entries(s).map(([k, x]) => `${k} ${typeof x === 'number' ? x.toFixed(0) : x}`).join(', ')}; load ${loadAverage()}`);
        if (tasks && process.env.JOIN_AB_TASKS) for (const t of tasks) console.log(`    ${t}`);
      }
    }
  } finally {
    await user.close();
  }
  for (const v of variants) {
    const xs = all[v];
    const keys = [...new Set(xs.flatMap((s) => Object.keys(s)))];
    const ff = xs.map((s) => (canvas ? s['canvas presented'] : s.drawn) as number);
    console.log(
      `[join-ab] ${v}: ${canvas ? 'canvas presented' : 'drawn'} p50 ${percentile(ff, 50).toFixed(0)} p95 ${percentile(ff, 95).toFixed(0)} over ${ff.length}; medians: ` +
        keys.map((k) => `${k} ${median(xs.map((s) => s[k]).filter((x): x is number => typeof x === 'number'))?.toFixed(0)}`).join(', '),
    );
  }
  console.log(`[join-ab] load avg ${loadAverage()}`);
  if (profiles) {
    console.log(`[join-ab] CPU profile, per join (${profiles} joins), self:\n${topEntries(profSelf, 40, 1 / profiles).join('\n')}`);
    console.log(`[join-ab] total:\n${topEntries(profTotal, 60, 1 / profiles).join('\n')}`);
  }
} finally {
  await env.close();
}
