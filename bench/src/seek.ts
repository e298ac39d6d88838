/**
 * seek: the session page's player over a generated 60-minute and 6-hour recording (lib/seek-session.ts:
 * realistic mutation rates, a checkout every 2 minutes, written through the storage writer).
 *
 * The backend serves from a process of its own (lib/seek-backend-process.ts), as a production server does.
 * Per session, in one signed-in Chromium context (dashboard assets cached):
 * - opens: SEEK_OPENS times, a new tab opens a share link `#/sessions/<id>?t=<random>` → the replay
 *   shows that moment (its `#clock` says the second) in an animation frame; ms since navigation start.
 * - seeks: in one open page, SEEK_SEEKS random targets anywhere in the session (mostly far away: a new
 *   keyframe window each time), set as the share link in the address (the page seeks on hash change);
 *   ms from the hash change to the right moment drawn.
 * - the longest task (Long Tasks API) during the seeks, and during opens.
 * - heap: after walking the whole session front to back (a seek every 2.5 minutes of recording, which
 *   loads and drops windows as playback does, then 15 s of playback at 16×), the page's JS heap after
 *   a GC (CDP Runtime.getHeapUsage), and the highest value sampled during the walk.
 * Baseline in the same run, interleaved with the opens: plain `@rrweb/replay` (bundled here) in a page
 * of the same origin, its page and bundle served by the backend with the same cache headers as the player's
 * (lib/seek-baseline-root.ts; the log counts each side's script files from the network and the cache), fetches every event of the tab (what the player did before windows), parses them,
 * `new Replayer(events)` and `pause(t)` → the same moment drawn; ms since navigation start. Its heap
 * after loading the 6-hour session is reported beside the player's.
 *
 *   node --import tsx bench/src/seek.ts      (SEEK_SEEKS=50 SEEK_OPENS=20 SEEK_SESSIONS=60,360 minutes)
 */
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { startBenchBackend, type BenchBackend } from './lib/backend.js';
import { launchChromium } from './lib/browser.js';
import { signedInDashboard } from './lib/dashboard.js';
import { BROWSER_BUILD, TMP_DIR } from './lib/bundles.js';
import { isMain } from './lib/main.js';
import { atLeast, atMost, recordResults, type ResultRow } from './lib/report.js';
import { clockAt, writeGeneratedSession, seededRandom } from './lib/seek-session.js';
import { startSeekBackendProcess } from './lib/seek-backend-process.js';
import { baselineRoot } from './lib/seek-baseline-root.js';
import { fmtBytes, fmtMs, fmtRatio, max, percentile } from './lib/stats.js';

const BENCH = 'seek';
const MIN = 60_000;
const TARGETS = {
  seek: 'seek p95 ≤ 250 ms to a drawn frame',
  task: 'no task > 100 ms',
  open: 'open at any timestamp ≤ 1 s (p95)',
  heap: 'dashboard JS heap ≤ 300 MB',
  ratio: '6-hour open ≥ 5× faster than plain @rrweb/replay loading it whole (p95)',
};
const DRAW_TIMEOUT_MS = 60_000;

/**
 * In every page: watches the replay iframe's `#clock` each animation frame and stamps `__drawnAt`
 * (performance.now()) when it shows the second `__expect` (±1: a target on a second's edge may land
 * on either side of that second's tick). `__expect` comes from the URL's `t` (opens) or is set by
 * the bench before a seek. The baseline page draws into `#root` instead of the player.
 */
export const DRAWN_INIT = `
  window.__expect = null; window.__drawnAt = null; window.__shown = null;
  (function () {
    const fromUrl = () => {
      const m = /[?&]t=(\\d+)/.exec(location.hash) || /[?&]t=(\\d+)/.exec(location.search);
      return m ? Math.max(0, Math.floor((Number(m[1]) - 3) / 1000)) : null;
    };
    window.__expect = fromUrl();
    const tick = () => {
      if (window.__expect !== null && window.__drawnAt === null) {
        // The player's replay, or a share link's early frame (frontend/src/lib/player/early-frame.ts: the same
        // Replayer, drawn on screen before the app, then adopted by the player).
        const frame = document.querySelector('[data-testid=player] iframe, [data-testid=player-early] iframe, #root iframe');
        const el = frame && frame.contentDocument && frame.contentDocument.getElementById('clock');
        if (el) {
          const shown = Number((el.textContent || '').replace(/^\\D+\\+/, ''));
          window.__shown = shown;
          if (Math.abs(shown - window.__expect) <= 1) window.__drawnAt = performance.now();
        }
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  })();
`;

/** The baseline's page, loading the bundled @rrweb/replay from `bundlePath` (lib/seek-baseline-root.ts serves both). */
export const baselineHtml = (bundlePath: string) => `<!doctype html><html><head><meta charset="utf-8"><style>#root{width:1280px;height:800px}</style></head>
<body><div id="root"></div><script src="${bundlePath}"></script><script>
  (async () => {
    const q = new URLSearchParams(location.search);
    const res = await fetch('/api/v1/sessions/' + q.get('id') + '/events?tabId=' + q.get('tab'), { credentials: 'same-origin' });
    const text = await res.text();
    const events = text.split('\\n').filter(Boolean).map((l) => JSON.parse(l));
    events.sort((a, b) => a.timestamp - b.timestamp);
    window.__events = events.length;
    const replayer = new rrwebReplay.Replayer(events, { root: document.getElementById('root'), showWarning: false });
    replayer.pause(Number(q.get('t')) + 1);
    window.__replayer = replayer;
  })().catch((e) => { window.__error = String(e); });
</script></body></html>`;

export async function buildReplayBundle(): Promise<string> {
  const esbuild = await import('esbuild');
  const out = resolve(TMP_DIR, 'rrweb-replay.iife.js');
  await esbuild.build({
    ...BROWSER_BUILD,
    stdin: { contents: `import { Replayer } from '@rrweb/replay'; window.rrwebReplay = { Replayer };`, resolveDir: resolve(TMP_DIR, '..'), loader: 'js' },
    outfile: out,
    logLevel: 'warning',
  });
  return readFileSync(out, 'utf8');
}

interface SessionUnderTest {
  name: string;
  minutes: number;
  sessionId: string;
  tabId: string;
  events: number;
  bytes: number;
}

export async function waitDrawn(page: Page, what: string): Promise<number> {
  const deadline = Date.now() + DRAW_TIMEOUT_MS;
  for (;;) {
    const state = await page.evaluate(() => ({ at: (window as any).__drawnAt as number | null, shown: (window as any).__shown, error: (window as any).__error }));
    if (state.at !== null) return state.at;
    if (state.error) throw new Error(`${what}: ${state.error}`);
    if (Date.now() > deadline) throw new Error(`${what}: not drawn in ${DRAW_TIMEOUT_MS / 1000} s (shows ${state.shown})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function longestTask(page: Page, since = 0): Promise<number> {
  return page.evaluate((from) => Math.max(0, ...((window as any).__longtasks as { start: number; dur: number }[]).filter((t) => t.start >= from).map((t) => t.dur)), since);
}

async function heapAfterGc(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  await cdp.detach();
  return usedSize;
}

async function heapNow(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  await cdp.detach();
  return usedSize;
}

/**
 * Where one open's time went: ms since navigation start of each step, from the page's own `tandem:*`
 * marks and the resource timing of its requests (start, first byte, end of `/open`; the sign-in check).
 * The slowest opens' steps are printed, so a run (the quiet one above all) says what its p95 tail is.
 */
type OpenSteps = Record<string, number>;

export async function openSteps(page: Page): Promise<OpenSteps> {
  return page.evaluate(() => {
    const out: Record<string, number> = {};
    for (const m of performance.getEntriesByType('mark')) if (m.name.startsWith('tandem:') && !(m.name.slice(7) in out)) out[m.name.slice(7)] = m.startTime;
    for (const r of performance.getEntriesByType('resource') as PerformanceResourceTiming[]) {
      const path = new URL(r.name).pathname;
      const name = /\/sessions\/[^/]+\/open$/.test(path) ? 'open' : path === '/api/v1/auth/me' ? 'me' : null;
      if (!name || `${name} start` in out) continue;
      out[`${name} start`] = r.startTime;
      out[`${name} first byte`] = r.responseStart;
      out[`${name} end`] = r.responseEnd;
    }
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
    if (nav) (out['document first byte'] = nav.responseStart), (out.DOMContentLoaded = nav.domContentLoadedEventStart);
    return out;
  });
}

function printSteps(name: string, opens: number[], steps: OpenSteps[]): void {
  if (!steps.length) return;
  const keys = [...new Set(steps.flatMap((st) => Object.keys(st)))];
  const median = (k: string) => percentile(steps.map((st) => st[k]).filter((v) => Number.isFinite(v)), 50);
  keys.sort((a, b) => median(a) - median(b));
  const slowest = opens.map((ms, i) => ({ ms, i })).sort((a, b) => b.ms - a.ms).slice(0, 2);
  console.log(`[${BENCH}] ${name} open steps, ms since navigation start: median | slowest two (${slowest.map((x) => fmtMs(x.ms, 0)).join(', ')})`);
  for (const k of keys) {
    console.log(`    ${k.padEnd(22)} ${median(k).toFixed(0).padStart(6)} | ${slowest.map((x) => (steps[x.i]?.[k] ?? NaN).toFixed(0).padStart(6)).join(' ')}`);
  }
}

/** Script files of the page from the network vs from the HTTP cache (transferSize 0), so the log shows both sides load their code alike. */
async function scriptsFetched(page: Page): Promise<{ network: number; cached: number }> {
  return page.evaluate(() => {
    const js = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter((r) => r.name.endsWith('.js'));
    return { network: js.filter((r) => r.transferSize > 0).length, cached: js.filter((r) => r.transferSize === 0).length };
  });
}

interface Measured {
  s: SessionUnderTest;
  /** script files from the network / from the cache, summed over opens (player, baseline) */
  scripts: { player: { network: number; cached: number }; baseline: { network: number; cached: number } };
  opens: number[];
  /** each open's steps, in the order of `opens` */
  openSteps: OpenSteps[];
  baseline: number[];
  openTask: number;
  seeks: number[];
  seekTask: number;
  heap: number;
  heapPeak: number;
  baselineHeap: number;
  /** 1-minute load average at the start and the end (the machine is shared: a high one slows every figure) */
  loadStart: number;
  load: number;
  errors: string[];
}

/*
 * No playwright route anywhere in this bench: with a route, playwright intercepts every request of the pages it
 * covers (each waits for a round trip through this process, whose event loop the in-process backend shares) and
 * turns their HTTP cache off. A context-wide route (the baseline's files, until session 15) made the player's pages
 * fetch every chunk again (seek-open-tail, same build, 30 opens each: drawn p50 477 vs 375 ms); a route on the
 * baseline's pages alone made the baseline fetch and compile its bundle on every open. Both sides' files now come
 * from the backend (lib/seek-baseline-root.ts) and its cache headers.
 */

async function measure(ctx: BrowserContext, be: BenchBackend, s: SessionUnderTest, opens: number, seeks: number, random: () => number, baselinePage: string): Promise<Measured> {
  const total = s.minutes * MIN;
  const m: Measured = { s, scripts: { player: { network: 0, cached: 0 }, baseline: { network: 0, cached: 0 } }, opens: [], openSteps: [], baseline: [], openTask: 0, seeks: [], seekTask: 0, heap: NaN, heapPeak: 0, baselineHeap: NaN, loadStart: loadavg()[0], load: NaN, errors: [] };
  // Opens and baseline opens, interleaved so machine noise hits both alike, in ABBA order (below).
  for (let i = 0; i < opens; i++) {
    const t = Math.floor(random() * (total - 2000)) + 1000;
    const player = async () => {
      const page = await ctx.newPage();
      try {
        await page.goto(`${be.url}/#/sessions/${s.sessionId}?t=${t}`);
        const drawn = await waitDrawn(page, `open ${s.name} at ${t}`);
        m.opens.push(drawn);
        const js = await scriptsFetched(page);
        m.scripts.player.network += js.network;
        m.scripts.player.cached += js.cached;
        m.openSteps.push({ ...(await openSteps(page)), DRAWN: drawn });
        m.openTask = Math.max(m.openTask, await longestTask(page));
      } catch (err) {
        m.errors.push((err as Error).message);
      } finally {
        await page.close();
      }
    };
    const baseline = async () => {
      const base = await ctx.newPage();
      try {
        await base.goto(`${be.url}${baselinePage}?id=${s.sessionId}&tab=${s.tabId}&t=${t}`);
        m.baseline.push(await waitDrawn(base, `baseline ${s.name} at ${t}`));
        const js = await scriptsFetched(base);
        m.scripts.baseline.network += js.network;
        m.scripts.baseline.cached += js.cached;
        if (i === 0) m.baselineHeap = await heapAfterGc(base);
      } catch (err) {
        m.errors.push((err as Error).message);
      } finally {
        await base.close();
      }
    };
    // ABBA order: the page opened right after the other one closed pays for its teardown (the baseline's
    // renderer frees a whole 45 MB tab; 2 cores), so neither side always goes second.
    if (i % 2 === 0) {
      await player();
      await baseline();
    } else {
      await baseline();
      await player();
    }
    console.log(`[${BENCH}] ${s.name} open ${i + 1}/${opens}: player ${fmtMs(m.opens.at(-1) ?? NaN, 0)}, baseline ${fmtMs(m.baseline.at(-1) ?? NaN, 0)}`);
  }

  printSteps(s.name, m.opens, m.openSteps);
  const sc = m.scripts;
  console.log(`[${BENCH}] ${s.name} script files over the opens, network/cached: player ${sc.player.network}/${sc.player.cached}, baseline ${sc.baseline.network}/${sc.baseline.cached}`);

  const page = await ctx.newPage();
  try {
    await page.goto(`${be.url}/#/sessions/${s.sessionId}?t=1000`);
    await waitDrawn(page, `open ${s.name} for seeks`);
    // Let the panels and the timeline (both asked for after the first frame) arrive before timing seeks.
    await page.locator('[data-testid=event-entry], [data-testid=panel-console] .empty, [data-testid=console-entry]').first().waitFor({ timeout: 120_000 }).catch(() => {});
    await page.waitForTimeout(1000);
    const seekFrom = await page.evaluate(() => performance.now());
    const seekAt = async (t: number): Promise<number> => {
      const start = await page.evaluate(({ id, t }) => {
        const w = window as any;
        w.__expect = Math.max(0, Math.floor((t - 3) / 1000));
        w.__drawnAt = null;
        const at = performance.now();
        location.hash = `#/sessions/${id}?t=${t}`;
        return at;
      }, { id: s.sessionId, t });
      return (await waitDrawn(page, `seek ${s.name} to ${t}`)) - start;
    };
    for (let i = 0; i < seeks; i++) {
      try {
        m.seeks.push(await seekAt(Math.floor(random() * (total - 2000)) + 1000));
      } catch (err) {
        m.errors.push((err as Error).message);
      }
    }
    m.seekTask = await longestTask(page, seekFrom);
    console.log(`[${BENCH}] ${s.name} seeks p50 ${fmtMs(percentile(m.seeks, 50), 0)} p95 ${fmtMs(percentile(m.seeks, 95), 0)} longest task ${fmtMs(m.seekTask, 0)}`);

    // Front to back, as playback crosses windows (at most SEEK_WALK_STEPS steps); heap sampled on the way.
    const step = Math.max(150_000, Math.floor(total / Number(process.env.SEEK_WALK_STEPS ?? 40)));
    for (let t = 1000, i = 0; t < total - 1000; t += step, i++) {
      try {
        await seekAt(t);
      } catch (err) {
        m.errors.push((err as Error).message);
      }
      if (i % 5 === 0) m.heapPeak = Math.max(m.heapPeak, await heapNow(page));
    }
    // Then play across window boundaries at 16×.
    try {
      await page.getByTestId('player-speed').selectOption('16', { timeout: 120_000 });
      await page.getByTestId('player-play').click({ timeout: 120_000 });
      await page.waitForTimeout(15_000);
      m.heapPeak = Math.max(m.heapPeak, await heapNow(page));
      await page.getByTestId('player-play').click({ timeout: 120_000 });
    } catch (err) {
      m.errors.push(`playback at 16×: ${(err as Error).message.split('\n')[0]}`);
    }
    m.heap = await heapAfterGc(page);
    m.load = loadavg()[0];
    console.log(`[${BENCH}] ${s.name} heap after the walk ${fmtBytes(m.heap)} (peak sampled ${fmtBytes(m.heapPeak)}); baseline heap with the whole tab loaded ${fmtBytes(m.baselineHeap)}`);
  } finally {
    await page.close();
  }
  return m;
}

/** Where the server ran, said in every row. */
let serverSetting = '';

function rows(results: Measured[]): ResultRow[] {
  const out: ResultRow[] = [];
  for (const r of results) {
    const { s } = r;
    const about = `${serverSetting}: ${s.name} generated session (${s.events.toLocaleString('en-US')} events, ${fmtBytes(s.bytes)} JSON, checkout every 2 min; machine load average ${r.loadStart.toFixed(0)}–${r.load.toFixed(0)} on ${cpus().length} cores)`;
    const fail = (row: ResultRow): ResultRow => (r.errors.length && row.met ? { ...row, met: false, gap: `${r.errors.length} draws failed: ${r.errors[0]}` } : row);
    out.push(fail(atMost(BENCH, `${about}: ${r.seeks.length} random seeks → right moment drawn, p50 ${fmtMs(percentile(r.seeks, 50), 0)} p95 ${fmtMs(percentile(r.seeks, 95), 0)} max ${fmtMs(max(r.seeks), 0)}`, percentile(r.seeks, 95), 250, TARGETS.seek, ' ms')));
    // The target is about seeking; an open's longest task (the dashboard booting in a new tab) is shown beside it.
    out.push(atMost(BENCH, `${about}: longest task during the seeks ${fmtMs(r.seekTask, 0)} (during opens, page boot included: ${fmtMs(r.openTask, 0)})`, r.seekTask, 100, TARGETS.task, ' ms'));
    const o95 = percentile(r.opens, 95);
    const b95 = percentile(r.baseline, 95);
    out.push(fail(atMost(BENCH, `${about}: ${r.opens.length} opens of a share link at a random time (new tab, assets cached) → drawn, p50 ${fmtMs(percentile(r.opens, 50), 0)} p95 ${fmtMs(o95, 0)}; baseline plain @rrweb/replay fetching the whole tab then pause(t): p50 ${fmtMs(percentile(r.baseline, 50), 0)} p95 ${fmtMs(b95, 0)} (${fmtRatio(b95 / o95)} slower at p95)`, o95, 1000, TARGETS.open, ' ms')));
    out.push(atMost(BENCH, `${about}: dashboard JS heap after walking the whole session and playing at 16× ${fmtBytes(r.heap)} after GC, ${fmtBytes(r.heapPeak)} highest sampled; baseline page with the whole tab loaded ${fmtBytes(r.baselineHeap)}`, Math.max(r.heap, r.heapPeak) / 1024 / 1024, 300, TARGETS.heap, ' MB'));
    if (s.minutes >= 360) out.push(atLeast(BENCH, `${about}: open p95 baseline/player ${fmtRatio(b95 / o95)} (${fmtMs(b95, 0)} / ${fmtMs(o95, 0)})`, b95 / o95, 5, TARGETS.ratio, '×'));
  }
  return out;
}

export async function runSeek(opts: { seeks?: number; opens?: number; minutes?: number[] } = {}): Promise<ResultRow[]> {
  const seeks = opts.seeks ?? Number(process.env.SEEK_SEEKS ?? 50);
  const opens = opts.opens ?? Number(process.env.SEEK_OPENS ?? 20);
  const minutes = opts.minutes ?? (process.env.SEEK_SESSIONS ?? '60,360').split(',').map(Number);
  // The backend in a process of its own (lib/seek-backend-process.ts), as a production server runs: in this
  // process its event loop also ran playwright's client, ~170 ms of CPU per open on the thread that answers
  // `/auth/me`, `/open` and the scripts (docs/decisions.md, "lead (session 10)" and "lead (session 16)").
  // SEEK_BACKEND=inprocess: in this process, as the runs before Dec 8.
  const own = process.env.SEEK_BACKEND !== 'inprocess';
  serverSetting = own ? 'backend in its own process' : 'backend in the bench\'s process (SEEK_BACKEND=inprocess)';
  console.log(`[${BENCH}] starting the backend${own ? ' (own process)' : ''} and Chromium`);
  const plan = minutes.map((m) => ({ minutes: m, sessionId: `seekbench${m}m`, tabId: `seektab${m}m` }));
  const t0 = Date.now();
  // The baseline's page and bundle, served by the backend like the player's files (lib/seek-baseline-root.ts).
  const root = baselineRoot(baselineHtml, await buildReplayBundle());
  const child = own ? await startSeekBackendProcess(plan, root.rootDir) : null;
  const be: BenchBackend = child
    ? { url: child.url, port: Number(new URL(child.url).port), projectKey: '', projectId: child.projectId, dataDir: '', store: null, close: () => child.close() }
    : await startBenchBackend({ rootDir: root.rootDir });
  const browser = await launchChromium();
  try {
    const sessions: SessionUnderTest[] = [];
    for (const { minutes: m, sessionId, tabId } of plan) {
      const ids = { projectId: be.projectId!, sessionId, tabId };
      const written = child ? child.written[sessionId] : await writeGeneratedSession(be.store, ids, { durationMs: m * MIN, startedAt: Date.now() - m * MIN - 60 * MIN, seed: m });
      const name = m >= 60 && m % 60 === 0 ? `${m / 60}-hour` : `${m}-minute`;
      console.log(`[${BENCH}] wrote the ${name} session: ${written.events} events, ${fmtBytes(written.bytes)} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      sessions.push({ name, minutes: m, sessionId: ids.sessionId, tabId: ids.tabId, ...written });
    }
    const ctx = await signedInDashboard(browser, be, [DRAWN_INIT]);
    const random = seededRandom(12345);
    const results: Measured[] = [];
    for (const s of sessions) results.push(await measure(ctx, be, s, opens, seeks, random, root.pagePath));
    await ctx.close();
    return rows(results);
  } finally {
    await browser.close();
    await be.close();
    root.remove();
  }
}

if (isMain(import.meta.url)) {
  try {
    recordResults(await runSeek());
  } catch (err) {
    console.error(err);
    recordResults([{ bench: BENCH, figure: 'not run', target: TARGETS.seek, met: null, gap: (err as Error).message.split('\n')[0] }]);
    process.exitCode = 1;
  }
}
