/**
 * join: an agent (signed in, dashboard assets already in the browser's cache) opens `#/live/<sessionId>`
 * in a new tab → the replay iframe draws the user's page (its known heading, in an animation frame).
 * JOIN_REPS joins per user page (the agent leaves between: the tab closes and the bench waits until the
 * user's plugin says nobody watches), on a light page and on a heavier one (~5,000 extra DOM nodes).
 * Each counted join is a FIRST join: the user's page reloads just before it, so its plugin has no run
 * kept from an earlier watch and answers with a new snapshot, as for an agent opening a session nobody
 * watched in the last minute (the judged figure). Right after each, the same agent joins again: that
 * re-join gets the run the page kept (assist-plugin run-log.ts) and is reported beside it, not judged.
 *
 * Baseline in the same run, interleaved with the joins: the same agent opens the blank `#/live` list in a
 * new tab (no session to draw): the floor of "a dashboard route opens" on this machine.
 *
 * Agent already waiting (issue 8: /tracker.js connects the assist socket only from its idle-time chunk,
 * after the first snapshot): the agent watches while the user's tab loads another page of the site; timed
 * from the user's navigation start to that page drawn in the agent's view (the new page's tracker starts,
 * fetches /tracker-assist.js at idle, connects, and the server's live:start brings the snapshot).
 *
 *   node --import tsx bench/src/join.ts      (JOIN_REPS=20 JOIN_HEAVY_NODES=5000)
 */
import type { Browser, BrowserContext } from 'playwright-core';
import { agentContext, assistState, freshUserPage, liveViewState, openUser, startLiveEnv, waitFor, type LiveEnv, type UserTab } from './lib/live-browser.js';
import { BENCH_PROJECT_KEY } from './lib/backend-child.js';
import { JOIN_WS_TAP_INIT, READY_TEXT, joinWatchInit, liveUserPage } from './lib/live-pages.js';
import { isMain } from './lib/main.js';
import { loadAverage } from './lib/sysload.js';
import { atMost, recordResults, type ResultRow } from './lib/report.js';
import { fmtInt, fmtMs, fmtRatio, median, percentile } from './lib/stats.js';

const BENCH = 'join';
const TARGET = 'first frame ≤ 1 s p95';
/** The live list has loaded and drawn what it got (its rows, or its empty state). */
export const LIST_SELECTOR = '[data-testid="live-list"] [data-testid="live-empty"], [data-testid="live-list"] [data-testid="live-row"]';

export interface JoinOptions {
  browser?: Browser;
  reps?: number;
  heavyNodes?: number;
}

interface JoinSample {
  firstFrame: number;
  liveAt: number | null;
  htmlEnd: number;
  domContentLoaded: number;
  /** the agent's socket open, its live:join sent, the first live:events frame received (ms since navigation) */
  wsCreated: number | null;
  wsOpen: number | null;
  joinSent: number | null;
  firstEvents: number | null;
  /** the live view attached (performance mark `tandem:live-attached`): the early join's log is handed to it from then */
  attached: number | null;
  /** the user's page, on the agent's clock (ms since the agent's navigation): `live:start` in, the snapshot's frame given to / back from `WebSocket.send` */
  userStart: number | null;
  userSnapshotSend: number | null;
  userSnapshotSent: number | null;
  /** characters of the snapshot's socket frame */
  snapshotChars: number | null;
  /** the agent page's performance.timeOrigin (wall clock), to line the steps up with a backend trace */
  origin: number;
}

/**
 * In the user's page: when `live:start` arrives (before the plugin's handler runs) and when the first
 * `live:events` frame after it goes into `WebSocket.send` and comes back out (the snapshot: rrweb's
 * serialize + socket.io's encode are between the first two, the send's own copy between the last two).
 * Wall-clock stamps (performance.timeOrigin + now), read against the agent page's origin.
 */
export const USER_JOIN_TAP_INIT = `(() => {
  const now = () => performance.timeOrigin + performance.now();
  window.__joinTap = null;
  window.__joinTapReset = () => { window.__joinTap = { start: null, send: null, sent: null, chars: null }; };
  window.__joinTapReset();
  const Orig = window.WebSocket;
  const send = Orig.prototype.send;
  Orig.prototype.send = function (data) {
    const j = window.__joinTap;
    if (j && j.start !== null && j.send === null && typeof data === 'string' && data.indexOf('"live:events"') >= 0) {
      j.send = now(); j.chars = data.length;
      const r = send.call(this, data);
      j.sent = now();
      return r;
    }
    return send.call(this, data);
  };
  function Tapped(...args) {
    const ws = new Orig(...args);
    ws.addEventListener('message', (e) => {
      const j = window.__joinTap;
      if (j && j.start === null && typeof e.data === 'string' && e.data.indexOf('"live:start"') >= 0) j.start = now();
    });
    return ws;
  }
  Tapped.prototype = Orig.prototype;
  for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) Tapped[k] = Orig[k];
  window.WebSocket = Tapped;
})();`;

async function openAndTime(ctx: BrowserContext, url: string, wait: 'frame' | 'list', user?: UserTab, timeoutMs = 15_000): Promise<JoinSample> {
  const page = await ctx.newPage();
  try {
    if (user) await user.page.evaluate(() => (window as any).__joinTapReset());
    await page.goto(url);
    const key = wait === 'frame' ? '__firstFrame' : '__listAt';
    await waitFor(wait === 'frame' ? "the user's page drawn in the replay iframe" : `the live list (${LIST_SELECTOR})`, () => page.evaluate((k) => (window as any)[k] !== null, key), timeoutMs, 50).catch(
      async (err) => {
        throw new Error(`${(err as Error).message} (${await liveViewState(page)})`);
      },
    );
    const tap = user
      ? await user.page.evaluate(() => (window as any).__joinTap as { start: number | null; send: number | null; sent: number | null; chars: number | null })
      : null;
    return await page.evaluate(([k, tap]) => {
      const w = window as any;
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
      const rel = (t: number | null | undefined) => (typeof t === 'number' ? t - performance.timeOrigin : null);
      return {
        origin: performance.timeOrigin,
        userStart: rel(tap?.start), userSnapshotSend: rel(tap?.send), userSnapshotSent: rel(tap?.sent), snapshotChars: tap?.chars ?? null,
        firstFrame: w[k] as number, liveAt: w.__liveAt as number | null, htmlEnd: nav?.responseEnd ?? NaN, domContentLoaded: nav?.domContentLoadedEventEnd ?? NaN,
        wsCreated: w.__wsCreated as number | null, wsOpen: w.__wsOpen as number | null, joinSent: w.__joinSent as number | null, firstEvents: w.__firstEvents as number | null,
        attached: performance.getEntriesByName('tandem:live-attached')[0]?.startTime ?? null,
      };
    }, [key, tap] as const);
  } finally {
    await page.close();
  }
}

/** The agent left: the user's plugin no longer counts any agent (bounded wait). */
export async function waitLeft(user: UserTab): Promise<void> {
  await waitFor('the agent to leave', async () => {
    const s = await assistState(user.page);
    return s && s.agents.length === 0 && !s.forwarding;
  }, 10_000, 100);
}

interface Series {
  name: string;
  nodes: number;
  /** first joins: the user's page reloaded just before, so it answers with a new snapshot (judged) */
  joins: JoinSample[];
  /** the same agent again right after each first join: the page answers with the run it kept (assist-plugin run-log.ts) */
  rejoins: JoinSample[];
  errors: string[];
  /** first joins answered with a kept run (must stay 0: otherwise the judged figure is not a first join) */
  coldReused: number;
  /** re-joins answered with a kept run */
  rejoinsReused: number;
}


function describeSeries(s: Series): string {
  const ff = s.joins.map((j) => j.firstFrame);
  const med = (f: (j: JoinSample) => number | null) => fmtMs(median(s.joins.map(f).filter((x): x is number => x !== null && Number.isFinite(x))), 0);
  return (
    `${s.name}: p50 ${fmtMs(percentile(ff, 50), 0)}, p95 ${fmtMs(percentile(ff, 95), 0)}, max ${fmtMs(Math.max(...ff), 0)} over ${ff.length} joins` +
    (s.errors.length ? ` (${s.errors.length} failed: ${s.errors[0]})` : '') +
    ` (each a first join: the user's page reloaded just before; ${s.coldReused} of them answered with a kept run)` +
    `; medians since navigation: HTML ${med((j) => j.htmlEnd)}, DOMContentLoaded ${med((j) => j.domContentLoaded)}, socket created ${med((j) => j.wsCreated)}, open ${med((j) => j.wsOpen)}, ` +
    `live:join sent ${med((j) => j.joinSent)}, user: live:start in ${med((j) => j.userStart)}, user: snapshot frame into WebSocket.send ${med((j) => j.userSnapshotSend)} ` +
    `(${fmtInt(median(s.joins.map((j) => j.snapshotChars ?? NaN).filter(Number.isFinite)))} chars), out of it ${med((j) => j.userSnapshotSent)}, ` +
    `first live:events frame (snapshot) ${med((j) => j.firstEvents)}, live view attached ${med((j) => j.attached)}, data-state=live ${med((j) => j.liveAt)}`
  );
}

interface WaitSample {
  /** user's navigation start → the new page drawn in the agent's view */
  shown: number;
  /** in the user's new page, ms since its navigation: /tracker-assist.js requested */
  chunkAt: number | null;
}

/**
 * The agent watches first; the user's tab then loads page after page (same tab, same session): each
 * new page must reach the waiting agent through the lazy assist chunk's late connect.
 */
async function waitingAgent(env: LiveEnv, ctx: BrowserContext, reps: number): Promise<{ samples: WaitSample[]; errors: string[] }> {
  const samples: WaitSample[] = [];
  const errors: string[] = [];
  const user = await openUser(env, { path: '/bench-wait-0.html' });
  await user.context.route(`${env.backend.url}/bench-wait-*.html`, (route) =>
    route.fulfill({ contentType: 'text/html', body: liveUserPage(BENCH_PROJECT_KEY).replace(READY_TEXT, `wait-${new URL(route.request().url()).pathname}`) }),
  );
  const agent = await ctx.newPage();
  try {
    await agent.goto(`${env.backend.url}/#/live/${encodeURIComponent(user.sessionId)}`);
    await waitFor('the first page drawn for the agent', () => agent.evaluate(() => (window as any).__firstFrame !== null), 15_000, 50);
    // In the agent's page: the wall-clock moment each page's marker is in the replay iframe (checked every frame).
    await agent.evaluate(() => {
      const w = window as any;
      w.__shownAt = {} as Record<string, number>;
      const loop = () => {
        const iframe = document.querySelector('[data-testid="live-stage"] iframe') as HTMLIFrameElement | null;
        const text = iframe?.contentDocument?.getElementById('join-ready')?.textContent ?? '';
        if (text.startsWith('wait-') && !(text in w.__shownAt)) w.__shownAt[text] = performance.timeOrigin + performance.now();
        requestAnimationFrame(loop);
      };
      requestAnimationFrame(loop);
    });
    for (let i = 1; i <= reps && errors.length < 3; i++) {
      const marker = `wait-/bench-wait-${i}.html`;
      try {
        const started = Date.now();
        await user.page.goto(`${env.backend.url}/bench-wait-${i}.html`);
        const at = await waitFor(`page ${i} drawn for the waiting agent`, () => agent.evaluate((m) => (window as any).__shownAt[m] as number | undefined, marker), 15_000, 20);
        const chunkAt = await user.page.evaluate(() => {
          const e = performance.getEntriesByType('resource').find((r) => new URL(r.name).pathname === '/tracker-assist.js');
          return e ? e.startTime : null;
        });
        samples.push({ shown: at - started, chunkAt });
      } catch (err) {
        errors.push((err as Error).message.split('\n')[0]);
      }
    }
  } finally {
    await agent.close();
    await user.close();
  }
  return { samples, errors };
}

export async function runJoin(opts: JoinOptions = {}): Promise<ResultRow[]> {
  const reps = opts.reps ?? Number(process.env.JOIN_REPS ?? 20);
  const heavyNodes = opts.heavyNodes ?? Number(process.env.JOIN_HEAVY_NODES ?? 5000);
  const env: LiveEnv = await startLiveEnv({ browser: opts.browser });
  try {
    console.log(`[${BENCH}] backend child pid ${env.backend.pid} at ${env.backend.url}; Chromium ${env.browser.version()}; ${reps} joins per page`);
    const ctx = await agentContext(env, [joinWatchInit(LIST_SELECTOR), JOIN_WS_TAP_INIT]);
    const listUrl = `${env.backend.url}/#/live`;
    const base: JoinSample[] = [];
    const baseErrors: string[] = [];
    // Warm the cache: the dashboard's assets, as an agent who used it before has them.
    await openAndTime(ctx, listUrl, 'list').catch((err) => baseErrors.push((err as Error).message));

    const series: Series[] = [];
    for (const kind of [
      { name: 'light page (~20 nodes)', nodes: 0 },
      { name: `heavier page (~${fmtInt(heavyNodes)} more nodes)`, nodes: heavyNodes },
    ]) {
      const s: Series = { ...kind, joins: [], rejoins: [], errors: [], coldReused: 0, rejoinsReused: 0 };
      series.push(s);
      const user = await openUser(env, { path: `/bench-join-${kind.nodes}.html`, nodes: kind.nodes, initScripts: [USER_JOIN_TAP_INIT] });
      try {
        const joinUrl = `${env.backend.url}/#/live/${encodeURIComponent(user.sessionId)}`;
        // One join first, not counted (the first snapshot of this page, the route's code).
        try {
          await openAndTime(ctx, joinUrl, 'frame', user);
          await waitLeft(user);
        } catch (err) {
          s.errors.push((err as Error).message.split('\n')[0]);
          console.log(`[${BENCH}] ${kind.name}: the first join failed: ${s.errors[0]}`);
          continue;
        }
        for (let i = 0; i < reps; i++) {
          try {
            // A first join on the page, as an agent opening a session nobody watched in the last minute:
            // the user's page reloads (the plugin keeps no run), then the agent joins.
            await freshUserPage(user);
            const j = await openAndTime(ctx, joinUrl, 'frame', user);
            s.joins.push(j);
            if (process.env.JOIN_VERBOSE) console.log(`[${BENCH}]   join ${i}: ${JSON.stringify(j)}`);
            await waitLeft(user);
            s.coldReused += (await assistState(user.page))?.reusedRuns ?? 0;
            // Again at once: a re-join within 60 s (another agent, a reloaded view) gets the run the page kept.
            const again = await openAndTime(ctx, joinUrl, 'frame', user);
            s.rejoins.push(again);
            await waitLeft(user);
            s.rejoinsReused += ((await assistState(user.page))?.reusedRuns ?? 0) > 0 ? 1 : 0;
          } catch (err) {
            s.errors.push((err as Error).message.split('\n')[0]);
            if (s.errors.length >= 3) break;
          }
          // Baseline interleaved with the light page's joins (same moments, same machine load).
          if (kind.nodes === 0) await openAndTime(ctx, listUrl, 'list').then((x) => base.push(x), (err) => baseErrors.push((err as Error).message.split('\n')[0]));
        }
      } finally {
        await user.close();
      }
      console.log(`[${BENCH}] ${describeSeries(s)}`);
      if (s.joins.length) {
        const slow = [...s.joins].sort((x, y) => y.firstFrame - x.firstFrame)[0];
        const f = (v: number | null) => (v === null ? '–' : v.toFixed(0));
        console.log(
          `[${BENCH}]   all first frames (ms): ${s.joins.map((j) => j.firstFrame.toFixed(0)).join(' ')}; slowest: DOMContentLoaded ${f(slow.domContentLoaded)}, socket created ${f(slow.wsCreated)}, ` +
            `open ${f(slow.wsOpen)}, live:join ${f(slow.joinSent)}, snapshot frame ${f(slow.firstEvents)}, live ${f(slow.liveAt)}, drawn ${f(slow.firstFrame)}`,
        );
      }
    }
    const waiting = await waitingAgent(env, ctx, reps);
    const shown = waiting.samples.map((w) => w.shown);
    const waitNote = shown.length
      ? `agent already watching while the user's tab loads another page: that page drawn p50 ${fmtMs(percentile(shown, 50), 0)}, p95 ${fmtMs(percentile(shown, 95), 0)}, ` +
        `max ${fmtMs(Math.max(...shown), 0)} after the user's navigation started, over ${shown.length} pages` +
        ` (median /tracker-assist.js requested ${fmtMs(median(waiting.samples.map((w) => w.chunkAt).filter((x): x is number => x !== null)), 0)} into the page)` +
        (waiting.errors.length ? `; ${waiting.errors.length} failed: ${waiting.errors[0]}` : '')
      : `agent already watching: not measured (${waiting.errors[0] ?? 'no sample'})`;
    console.log(`[${BENCH}] ${waitNote}`);
    const baseFF = base.map((b) => b.firstFrame);
    const base50 = median(baseFF);
    const baseNote = base.length
      ? `baseline: blank #/live list opened in a new tab (same agent, same run, interleaved) p50 ${fmtMs(base50, 0)}, p95 ${fmtMs(percentile(baseFF, 95), 0)} over ${base.length}`
      : `baseline not measured (${baseErrors[0] ?? 'no sample'})`;
    console.log(`[${BENCH}] ${baseNote}; load avg ${loadAverage()}`);
    const load = `; load avg at the end ${loadAverage()}`;
    const waitRow: ResultRow = shown.length
      ? atMost(BENCH, waitNote + load, percentile(shown, 95), 1000, `${TARGET} (here: from the user's page load, the agent already watching)`, ' ms')
      : { bench: BENCH, figure: waitNote, target: TARGET, met: null, gap: waiting.errors[0] ?? 'no sample' };
    const rows = series.map((s) => {
      const ff = s.joins.map((j) => j.firstFrame);
      if (ff.length === 0) return { bench: BENCH, figure: `${s.name}: not run`, target: TARGET, met: null, gap: s.errors[0] ?? 'no join succeeded' };
      const p50 = percentile(ff, 50);
      const row = atMost(
        BENCH,
        `agent opens #/live/<id> in a new tab (signed in, assets cached) → user's page drawn in the replay iframe, ${describeSeries(s)}; ${baseNote}` +
          (base.length ? `; join/list at p50 ${fmtRatio(p50 / base50)}` : '') +
          load,
        percentile(ff, 95),
        1000,
        TARGET,
        ' ms',
      );
      return s.errors.length && row.met ? { ...row, met: false, gap: `${s.errors.length} joins failed` } : row;
    });
    // Re-joins within a minute (a second agent, a reloaded view): informative, the judged figure is the first join.
    const rejoinRows: ResultRow[] = series.filter((s) => s.rejoins.length).map((s) => {
      const ff = s.rejoins.map((j) => j.firstFrame);
      return {
        bench: BENCH,
        figure:
          `${s.name}, the same agent again right after each first join (the page answers with the run it kept: ${s.rejoinsReused} of ${s.rejoins.length}): ` +
          `p50 ${fmtMs(percentile(ff, 50), 0)}, p95 ${fmtMs(percentile(ff, 95), 0)}, max ${fmtMs(Math.max(...ff), 0)}; first joins of the same pages p50 ${fmtMs(percentile(s.joins.map((j) => j.firstFrame), 50), 0)}` +
          load,
        target: `${TARGET} (judged on first joins; re-join shown for reference)`,
        met: null,
        gap: 'informational',
      };
    });
    return [...rows, ...rejoinRows, waitRow];
  } finally {
    await env.close();
  }
}

if (isMain(import.meta.url)) {
  try {
    recordResults(await runJoin());
  } catch (err) {
    console.error(err);
    recordResults([{ bench: BENCH, figure: 'not run', target: TARGET, met: null, gap: (err as Error).message.split('\n')[0] }]);
    process.exitCode = 1;
  }
}
