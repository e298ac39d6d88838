/**
 * tracker-overhead: main-thread cost of recording, Tandem tracker vs plain @rrweb/record (with Tandem's
 * options, and at rrweb's default options) vs no recording, same browser, same fixtures, same run.
 * Two measures per workload: main-thread CPU (CDP TaskDuration) and start-to-idle (wall time from the
 * workload's start until MutationObserver work is done and a frame is drawn). See bench/README.md.
 *
 *   node --import tsx bench/src/tracker-overhead.ts        (BENCH_REPS=n to change repetitions,
 *   OVERHEAD_WORKLOADS=a,b to pick workloads, OVERHEAD_PROFILE=1 for CPU profiles of unminified builds,
 *   TANDEM_BUNDLE=path to measure another build of /tracker.js, e.g. an older one; the last two print
 *   OVERHEAD_COMPARE=path adds that build as a fifth variant, tandem-before, in the same run; profiles and
 *   TANDEM_BUNDLE print their results without appending to BENCHMARKS.md)
 */
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { EVALUATE_SHIM, LONGTASK_INIT, launchChromium } from './lib/browser.js';
import { BROWSER_BUILD, RRWEB_BASELINE_DESCRIPTION, TMP_DIR, TRACKER_DIR, buildRrwebBundle, ensureTrackerBundle, readText } from './lib/bundles.js';
import { addSelfTimes, addTotalTimes, startProfile, stopProfile, topEntries, type SelfTimes } from './lib/cpu-profile.js';
import { bigPage, mutationPage } from './lib/fixtures.js';
import { startFixtureServer, type FixtureServer } from './lib/server.js';
import { fmtMs } from './lib/stats.js';
import { recordResults, type ResultRow } from './lib/report.js';
import { summarizeOverhead } from './lib/overhead-report.js';
import { loadTandem, startTandemIngest, type TandemIngest } from './lib/tandem.js';
import { isMain } from './lib/main.js';
import { rrwebSelectorMemoPlugin } from '../../patches/rrweb-record-selector-memo.mjs';
import type { InPageTimes, VariantDriver, VariantName } from './lib/variant.js';

const BENCH = 'tracker-overhead';
export const MUTATION_WORKLOADS = [
  'add-1000x10',
  'subtree-10000',
  'attributes-10000',
  'deep-nesting-1000',
  'add-remove-churn',
  'add-move-1000',
] as const;
export const SNAPSHOT_WORKLOAD = 'snapshot-60k';
export type Workload = (typeof MUTATION_WORKLOADS)[number] | typeof SNAPSHOT_WORKLOAD;
export interface RunResult {
  variant: VariantName;
  workload: Workload;
  rep: number;
  /** CDP Performance.getMetrics TaskDuration delta over [t0, t3 + settle]: all main-thread task time */
  taskMs: number;
  /** same, ScriptDuration: JS run by callbacks and timers (page.evaluate's own JS is not counted) */
  scriptMs: number;
  /** ScriptDuration over [t0, t3] only: the recorder's JS inside the workload's task (the workload itself runs from evaluate and is not counted) */
  windowScriptMs: number;
  /** TaskDuration over [t0, t3] */
  windowTaskMs: number;
  /** TaskDuration after t3 (forced flush + settle): the recorder's deferred work */
  laterTaskMs: number;
  /** t3 - t0: start-to-idle (workload start → MutationObserver work done → a frame drawn), wall ms */
  wallMs: number;
  /** t2 - t1: the recorder's share of the workload task (its MutationObserver callback) */
  inTaskRecorderMs: number;
  /** long tasks (>= 50 ms) that started after the first snapshot was done and outside [t0, t3] */
  laterLongTasks: number[];
  /** long tasks starting in [t0, t3] (the workload's own task and its rendering) */
  windowLongTasks: number[];
  /** requestIdleCallback callbacks (the recorder's idle work) that started in [t0, t3]: wall ms summed, and how many */
  windowIdleMs: number;
  windowIdleRuns: number;
  /** JS heap used and total (MB, CDP JSHeapUsedSize / JSHeapTotalSize) when the workload started */
  heapAtStartMb: [number, number];
  events: number;
  /** rrweb variant: JSON.stringify of the events the workload produced, timed afterwards (wall ms) */
  stringifyMs: number;
  eventBytes: number;
  /** OVERHEAD_PROFILE: the run's CPU profile, self and total time per function */
  self?: SelfTimes;
  total?: SelfTimes;
}

export interface OverheadOptions {
  reps?: number;
  settleMs?: number;
  browser?: Browser;
  workloads?: Workload[];
  variants?: VariantName[];
}



type Metrics = { task: number; script: number; heapUsed: number; heapTotal: number };

/**
 * Idle callbacks wait from t3 (a frame drawn after the workload) until the CPU window is read. Without
 * this the page goes idle at t3, a recorder's idle callback (the tracker serialises events and sends its
 * start request there) starts at once, and CDP's getMetrics, which reaches the page a round trip later,
 * waits for it: work done after the page was idle counted in start-to-idle. Held callbacks run after the
 * read and count in the workload + flush + settle CPU. Plain rrweb schedules none, so it is unaffected.
 */
const IDLE_HOLD = `(() => {
  const real = window.requestIdleCallback && window.requestIdleCallback.bind(window);
  if (!real) return;
  let held = null;
  window.__holdIdle = () => { held = held || []; };
  window.__releaseIdle = () => { const h = held || []; held = null; for (const f of h) f(); };
  // Every idle callback that ran (not held): when and how long, to place the recorder's idle work.
  window.__idleRuns = [];
  window.requestIdleCallback = (cb, opts) => real(function run(deadline) {
    if (held) { held.push(() => real(run, opts)); return; }
    const start = performance.now();
    try { cb(deadline); } finally { window.__idleRuns.push({ start, dur: performance.now() - start, timedOut: deadline.didTimeout }); }
  }, opts);
})();`;
const releaseIdle = (page: Page) => page.evaluate(() => (window as any).__releaseIdle?.());
/** Idle time after loading/starting before anything is measured. */
const IDLE_MS = 300;

async function metrics(cdp: CDPSession): Promise<Metrics> {
  const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] };
  const get = (n: string) => (metrics.find((m) => m.name === n)?.value ?? NaN) * 1000;
  return { task: get('TaskDuration'), script: get('ScriptDuration'), heapUsed: get('JSHeapUsedSize') / 1e9, heapTotal: get('JSHeapTotalSize') / 1e9 };
}

/** Runs the page's workload in one task, then waits for MO callbacks, one frame and one macrotask. */
async function runWorkload(page: Page, name: string): Promise<InPageTimes> {
  return page.evaluate(async (name) => {
    const w = (window as any).__workloads[name];
    const t0 = performance.now();
    w.run();
    const t1 = performance.now();
    // The MutationObserver notification microtask was queued at the first mutation, before this
    // continuation: when it resumes, every recorder's MO callback has run.
    await null;
    const t2 = performance.now();
    await new Promise((r) => requestAnimationFrame(() => setTimeout(() => ((window as any).__holdIdle?.(), r(null)), 0)));
    const t3 = performance.now();
    return { t0, t1, t2, t3 };
  }, name);
}

/**
 * Tandem on the snapshot page, timed as the rrweb variants are: start() takes the first full snapshot
 * in its synchronous part (rrweb's record() inside it), so start-to-idle runs from start() to the frame
 * after that task. The session request, and the snapshot's publishing once the session is known, come
 * at the next idle moment and are counted in the workload + flush + settle CPU. A build that does not
 * take the snapshot synchronously is waited for until it publishes it (the previous measure).
 */
async function startTandemSnapshot(page: Page): Promise<InPageTimes> {
  return page.evaluate(async () => {
    const w = window as any;
    const t0 = performance.now();
    void w.Tandem.tracker.start();
    const t1 = performance.now();
    const mirror = w.Tandem.tracker.getMirror?.();
    const taken = !!mirror && mirror.getId(document.documentElement) > 0;
    if (!taken) await w.__tandemSnapshot;
    const t2 = performance.now();
    await new Promise((r) => requestAnimationFrame(() => setTimeout(() => ((window as any).__holdIdle?.(), r(null)), 0)));
    return { t0, t1, t2, t3: performance.now() };
  });
}

function noneVariant(): VariantDriver {
  return {
    name: 'none',
    async load() {},
    async start(page) {
      return page.evaluate(async () => {
        const t0 = performance.now();
        await null;
        const t2 = performance.now();
        await new Promise((r) => requestAnimationFrame(() => setTimeout(() => ((window as any).__holdIdle?.(), r(null)), 0)));
        return { t0, t1: t0, t2, t3: performance.now() };
      });
    },
    async events() {
      return 0;
    },
    async flush() {},
  };
}

/** rrweb: Tandem's options; rrweb-default: `record({ emit })`. emit pushes to an array, nothing more. */
function rrwebVariant(server: FixtureServer, name: 'rrweb' | 'rrweb-default'): VariantDriver {
  return {
    name,
    async load(page) {
      await page.addScriptTag({ url: `${server.url}/rrweb-record.js` });
    },
    async start(page) {
      return page.evaluate(async (defaults) => {
        const w = window as any;
        w.__events = [];
        const t0 = performance.now();
        const push = (e: unknown) => w.__events.push(e);
        w.__stopRecording = defaults ? w.rrwebBaseline.startDefault(push) : w.rrwebBaseline.start(push);
        const t1 = performance.now();
        await null;
        const t2 = performance.now();
        await new Promise((r) => requestAnimationFrame(() => setTimeout(() => ((window as any).__holdIdle?.(), r(null)), 0)));
        return { t0, t1, t2, t3: performance.now() };
      }, name === 'rrweb-default');
    },
    async events(page) {
      return page.evaluate(() => (window as any).__events.length);
    },
    async flush() {},
  };
}

async function oneRun(
  browser: Browser,
  server: FixtureServer,
  variant: VariantDriver,
  workload: Workload,
  rep: number,
  settleMs: number,
  profile: boolean,
): Promise<RunResult> {
  let context: BrowserContext | undefined;
  try {
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.on('pageerror', (e) => console.warn(`[${variant.name}/${workload}] page error: ${e.message}`));
    await page.addInitScript(EVALUATE_SHIM + LONGTASK_INIT + IDLE_HOLD);
    const cdp = await context.newCDPSession(page);
    // threadTicks: durations are the renderer main thread's CPU time, so other processes on this shared
    // 2-core machine (the backend, other jobs) do not inflate them.
    await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
    const isSnapshot = workload === SNAPSHOT_WORKLOAD;
    const isTandem = variant.name === 'tandem' || variant.name === 'tandem-before';
    await page.goto(`${server.url}/${isSnapshot ? 'big.html' : 'mutations.html'}`, { waitUntil: 'load' });
    if (!isSnapshot) {
      await page.evaluate((name) => (window as any).__workloads[name].setup?.(), workload);
    }
    await variant.load(page);
    // Let parsing, the script load and startup tasks finish before measuring.
    await page.waitForTimeout(IDLE_MS);

    let times: InPageTimes;
    let m0: Metrics;
    let firstSnapshotDoneAt: number;
    let eventsBefore = 0;
    const profiling = profile && variant.name !== 'none';
    if (isSnapshot) {
      if (profiling) await startProfile(cdp);
      m0 = await metrics(cdp);
      times = await (isTandem ? startTandemSnapshot(page) : variant.start(page));
      firstSnapshotDoneAt = times.t3;
    } else {
      const started = await variant.start(page);
      await releaseIdle(page);
      // Send the first snapshot now and let the page go idle before the workload.
      await variant.flush(page);
      await page.waitForTimeout(IDLE_MS);
      firstSnapshotDoneAt = started.t3;
      await page.evaluate(() => ((window as any).__mark = ((window as any).__events ?? []).length));
      eventsBefore = await variant.events(page);
      // OVERHEAD_GC_BEFORE=1 (diagnostic, not for the figures): a full GC before the workload, so that
      // garbage left by what ran before it (the first snapshot's handling) is not collected inside it.
      if (process.env.OVERHEAD_GC_BEFORE === '1') {
        await cdp.send('HeapProfiler.collectGarbage');
        await page.waitForTimeout(50);
      }
      if (profiling) await startProfile(cdp);
      m0 = await metrics(cdp);
      times = await runWorkload(page, workload);
    }
    const mMid = await metrics(cdp);
    // OVERHEAD_PROFILE_WINDOW=1: the profile covers the workload to idle only (what start-to-idle counts):
    // stopped before the held idle callbacks are released, or they would run inside it.
    const windowProf = profiling && process.env.OVERHEAD_PROFILE_WINDOW === '1' ? await stopProfile(cdp) : undefined;
    await releaseIdle(page);
    // The snapshot is sent once the session is known (start request at idle): wait for it to be published.
    if (isSnapshot && isTandem) await page.evaluate(() => (window as any).__tandemSnapshot);
    // The tracker's deferred work (batch body, hand-off to the compression worker, the request and its
    // answer) happens at its next flush: force it now instead of waiting for the timer.
    await variant.flush(page);
    await page.waitForTimeout(settleMs);
    const m1 = await metrics(cdp);
    const prof = windowProf ?? (profiling ? await stopProfile(cdp) : undefined);
    // Every recorder must have recorded the workload (a baseline that silently records nothing would
    // make any ratio look good): a full snapshot for the snapshot page, new events for the mutations.
    const events = await variant.events(page);
    if (variant.name !== 'none') {
      const recorded = isSnapshot
        ? await page.evaluate(() => {
            const w = window as any;
            return Array.isArray(w.__events) ? w.__events.some((e: { type: number }) => e.type === 2) : !!w.__tandemSnapAt;
          })
        : events > eventsBefore;
      if (!recorded) throw new Error(`${variant.name} recorded nothing for ${workload} (events ${eventsBefore} → ${events})`);
    }
    // Diagnostic, outside the measurement: what serialising the events this workload produced costs
    // (plain rrweb only; the Tandem tracker does this once per event).
    const stringify =
      variant.name === 'rrweb'
        ? await page.evaluate(() => {
            const w = window as any;
            const evs = w.__events.slice(w.__mark ?? 0);
            const t = performance.now();
            let bytes = 0;
            for (const e of evs) bytes += JSON.stringify(e).length;
            return { ms: performance.now() - t, bytes };
          })
        : { ms: NaN, bytes: NaN };
    const longtasks: { start: number; dur: number }[] = await page.evaluate(() => (window as any).__longtasks);
    const idleRuns: { start: number; dur: number }[] = await page.evaluate(() => (window as any).__idleRuns ?? []);
    const idleInWindow = idleRuns.filter((t) => t.start >= times.t0 && t.start <= times.t3);
    // A long task overlapping [t0, t3] is the workload's own task (or its rendering): it starts a little
    // before t0, when the task that runs page.evaluate began.
    const inWindow = (t: { start: number; dur: number }) => t.start <= times.t3 && t.start + t.dur >= times.t0;
    return {
      variant: variant.name,
      workload,
      rep,
      taskMs: m1.task - m0.task,
      scriptMs: m1.script - m0.script,
      windowScriptMs: mMid.script - m0.script,
      windowTaskMs: mMid.task - m0.task,
      laterTaskMs: m1.task - mMid.task,
      wallMs: times.t3 - times.t0,
      inTaskRecorderMs: times.t2 - times.t1,
      windowLongTasks: longtasks.filter(inWindow).map((t) => t.dur),
      windowIdleMs: idleInWindow.reduce((a, t) => a + t.dur, 0),
      windowIdleRuns: idleInWindow.length,
      heapAtStartMb: [m0.heapUsed, m0.heapTotal],
      laterLongTasks: longtasks.filter((t) => t.start > firstSnapshotDoneAt && !inWindow(t)).map((t) => t.dur),
      events,
      stringifyMs: stringify.ms,
      eventBytes: stringify.bytes,
      self: prof ? addSelfTimes(prof, new Map()) : undefined,
      total: prof ? addTotalTimes(prof, new Map()) : undefined,
    };
  } finally {
    await context?.close().catch(() => {});
  }
}

/** OVERHEAD_PROFILE: the tracker and rrweb unminified (readable function names in the profiles). */
async function buildProfileBundles(): Promise<{ tracker: string; rrweb: string }> {
  const esbuild = await import('esbuild');
  const tracker = resolve(TMP_DIR, 'tandem-profile.iife.js');
  await esbuild.build({
    ...BROWSER_BUILD,
    minify: false,
    entryPoints: [resolve(TRACKER_DIR, 'src/snippet.ts')],
    outfile: tracker,
    define: { __TANDEM_RTC_VERSION__: '"profile"' },
    logLevel: 'warning',
    metafile: true,
    // As tracker/build.mjs: @rrweb/record with Tandem's patch (the plain-rrweb baselines stay unpatched).
    plugins: [rrwebSelectorMemoPlugin()],
  });
  const rrwebMin = await buildRrwebBundle();
  const rrweb = resolve(TMP_DIR, 'rrweb-record-profile.iife.js');
  await esbuild.build({ ...BROWSER_BUILD, minify: false, entryPoints: [resolve(TMP_DIR, 'rrweb-record-entry.js')], outfile: rrweb, logLevel: 'warning' });
  void rrwebMin;
  return { tracker, rrweb };
}

function shuffle<T>(xs: T[], seed: number): T[] {
  const a = [...xs];
  let s = seed * 2654435761 || 1;
  for (let i = a.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) >>> 0;
    const j = s % (i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

export interface OverheadSummary {
  rows: ResultRow[];
  results: RunResult[];
}

const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

export async function runTrackerOverhead(opts: OverheadOptions = {}): Promise<OverheadSummary> {
  const reps = opts.reps ?? Number(process.env.BENCH_REPS ?? 6);
  const picked = process.env.OVERHEAD_WORKLOADS?.split(',').filter(Boolean) as Workload[] | undefined;
  const workloads = opts.workloads ?? picked ?? [...MUTATION_WORKLOADS, SNAPSHOT_WORKLOAD];
  const profile = process.env.OVERHEAD_PROFILE === '1';
  const server = await startFixtureServer({ discardIngest: true });
  const profileBundles = profile ? await buildProfileBundles() : undefined;
  const rrwebPath = profileBundles?.rrweb ?? (await buildRrwebBundle());
  server.routes.set('/rrweb-record.js', { type: 'text/javascript', body: readText(rrwebPath) });
  server.routes.set('/mutations.html', { type: 'text/html', body: mutationPage() });
  server.routes.set('/big.html', { type: 'text/html', body: bigPage(60_000) });

  // Frames are drawn as soon as the work is done instead of at the next 60 Hz tick: start-to-idle then
  // measures the work, not where in the vsync period it happened to end (±16.7 ms otherwise).
  const browser = opts.browser ?? (await launchChromium(['--disable-frame-rate-limit', '--disable-gpu-vsync']));
  let ingest: TandemIngest | undefined;
  const notes: string[] = [];
  const loadAtStart = load();
  try {
    const variants: VariantDriver[] = [noneVariant()];
    const tracker = ensureTrackerBundle();
    let tandemError: string | undefined = tracker.error;
    if (!tandemError) {
      try {
        ingest = await startTandemIngest(server);
        const bundle = profileBundles?.tracker ?? process.env.TANDEM_BUNDLE ?? tracker.path;
        server.routes.set('/tandem.js', { type: 'text/javascript', body: readText(bundle) });
        // The idle chunk /tracker.js fetches after the first snapshot (the pagehide gzip and the compression
        // worker's source): served as the backend serves it, or the tracker compresses on the main thread.
        server.routes.set('/tracker-gzip.js', { type: 'text/javascript', body: readText(resolve(TRACKER_DIR, 'dist/tandem-gzip.js')) });
        if (bundle !== tracker.path) notes.push(`Tandem bundle: ${bundle}`);
        notes.push(`Tandem ingest: ${ingest.describe}`);
      } catch (err) {
        tandemError = (err as Error).message;
      }
    }
    variants.push(rrwebVariant(server, 'rrweb'), rrwebVariant(server, 'rrweb-default'));
    if (ingest && !tandemError) variants.push(ingest.variant(server));
    const compare = process.env.OVERHEAD_COMPARE;
    if (ingest && !tandemError && compare) {
      const ing = ingest;
      server.routes.set('/tandem-before.js', { type: 'text/javascript', body: readText(compare) });
      variants.push({ ...ing.variant(server), name: 'tandem-before', load: (page) => loadTandem(page, `${server.url}/tandem-before.js`, ing.projectKey, ing.ingestUrl) });
      notes.push(`tandem-before: ${compare}`);
    }
    if (opts.variants) variants.splice(0, variants.length, ...variants.filter((v) => opts.variants!.includes(v.name)));
    notes.push(`plain rrweb options: ${RRWEB_BASELINE_DESCRIPTION}; rrweb-default: record({ emit })`);
    const settleMs = opts.settleMs ?? 500;
    console.log(`[${BENCH}] chromium ${browser.version()}, ${reps} reps, settle ${settleMs} ms, variants: ${variants.map((v) => v.name).join(', ')}, load average ${loadAtStart}${profile ? ', PROFILING (unminified builds)' : ''}`);
    for (const n of notes) console.log(`[${BENCH}] ${n}`);
    if (tandemError) console.log(`[${BENCH}] Tandem variant unavailable: ${tandemError}`);

    // Fixture size check for the snapshot page.
    {
      const ctx = await browser.newContext();
      const p = await ctx.newPage();
      await p.addInitScript(EVALUATE_SHIM);
      await p.goto(`${server.url}/big.html`);
      const n = await p.evaluate(() => {
        const w = document.createTreeWalker(document, NodeFilter.SHOW_ALL);
        let c = 0;
        while (w.nextNode()) c++;
        return c;
      });
      console.log(`[${BENCH}] big.html has ${n} DOM nodes`);
      await ctx.close();
    }

    const results: RunResult[] = [];
    for (let rep = 0; rep < reps; rep++) {
      for (const workload of workloads) {
        for (const v of shuffle(variants, rep * 31 + workloads.indexOf(workload))) {
          const r = await oneRun(browser, server, v, workload, rep, settleMs, profile);
          results.push(r);
          console.log(
            `[${BENCH}] rep ${rep} ${workload.padEnd(18)} ${v.name.padEnd(13)} idle ${fmtMs(r.wallMs).padStart(9)}  task ${fmtMs(r.taskMs).padStart(9)} (window ${fmtMs(r.windowTaskMs).padStart(9)}, later ${fmtMs(r.laterTaskMs).padStart(8)})` +
              `  recorder JS in task ${fmtMs(r.windowScriptMs).padStart(8)}  events ${r.events}` +
              `  heap ${r.heapAtStartMb.map((x) => x.toFixed(1)).join('/')} MB` +
              (r.windowIdleRuns ? `  idle callbacks in window ${r.windowIdleRuns} (${fmtMs(r.windowIdleMs)})` : '') +
              (r.laterLongTasks.length ? `  later long tasks ${r.laterLongTasks.map((d) => d.toFixed(0)).join(',')}` : ''),
          );
        }
      }
    }
    if (profile) printProfiles(results, workloads);
    const loads = `load average ${loadAtStart} at start, ${load()} at end`;
    return { rows: summarize(results, variants.map((v) => v.name), workloads, tandemError, notes, loads), results };
  } finally {
    if (!opts.browser) await browser.close().catch(() => {});
    await ingest?.close().catch(() => {});
    await server.close();
  }
}

/** Per workload: the functions where Tandem's main thread spends more than rrweb's, summed over runs. */
function printProfiles(results: RunResult[], workloads: Workload[]): void {
  for (const w of workloads) {
    for (const kind of ['self', 'total'] as const) {
      const sum = (v: VariantName) => {
        const out: SelfTimes = new Map();
        const runs = results.filter((r) => r.workload === w && r.variant === v && r[kind]);
        for (const r of runs) for (const [k, ms] of r[kind]!) out.set(k, (out.get(k) ?? 0) + ms / runs.length);
        return out;
      };
      const t = sum('tandem');
      const d = sum('rrweb-default');
      const o = sum('rrweb');
      console.log(`\n[${BENCH}] profile ${w}, ${kind} time per run (mean), tandem:`);
      for (const line of topEntries(t, kind === 'self' ? 25 : 40)) console.log(`  ${line}`);
      console.log(`[${BENCH}] profile ${w}, ${kind} time, rrweb (Tandem options):`);
      for (const line of topEntries(o, 15)) console.log(`  ${line}`);
      console.log(`[${BENCH}] profile ${w}, ${kind} time, rrweb-default:`);
      for (const line of topEntries(d, 15)) console.log(`  ${line}`);
    }
  }
}

function summarize(results: RunResult[], variants: VariantName[], workloads: Workload[], tandemError: string | undefined, notes: string[], loads: string): ResultRow[] {
  return summarizeOverhead({ bench: BENCH, results, variants, workloads, tandemError, notes, loads, snapshotWorkload: SNAPSHOT_WORKLOAD });
}

if (isMain(import.meta.url)) {
  const { rows } = await runTrackerOverhead();
  if (process.env.OVERHEAD_PROFILE === '1' || process.env.TANDEM_BUNDLE) {
    for (const r of rows) console.log(`[${r.met ? 'MET   ' : 'MISSED'}] ${r.figure} | ${r.target}${r.gap ? ` | ${r.gap}` : ''}`);
  } else recordResults(rows);
}
