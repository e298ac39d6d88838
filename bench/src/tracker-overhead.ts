/**
 * tracker-overhead: main-thread cost of recording, Tandem tracker vs plain @rrweb/record vs no recording,
 * same browser, same fixtures, same run. See bench/README.md for exactly what is timed.
 *
 *   node --import tsx bench/src/tracker-overhead.ts        (BENCH_REPS=n to change repetitions)
 */
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { EVALUATE_SHIM, LONGTASK_INIT, launchChromium } from './lib/browser.js';
import { RRWEB_BASELINE_DESCRIPTION, buildRrwebBundle, ensureTrackerBundle, readText } from './lib/bundles.js';
import { bigPage, mutationPage } from './lib/fixtures.js';
import { startFixtureServer, type FixtureServer } from './lib/server.js';
import { fmtInt, fmtMs, fmtRatio, max, median } from './lib/stats.js';
import { atMost, recordResults, type ResultRow } from './lib/report.js';
import { startTandemIngest, type TandemIngest } from './lib/tandem.js';
import { isMain } from './lib/main.js';
import type { InPageTimes, VariantDriver, VariantName } from './lib/variant.js';

const BENCH = 'tracker-overhead';
export const MUTATION_WORKLOADS = ['add-1000x10', 'attributes-10000', 'deep-nesting-1000', 'add-remove-churn'] as const;
export const SNAPSHOT_WORKLOAD = 'snapshot-60k';
type Workload = (typeof MUTATION_WORKLOADS)[number] | typeof SNAPSHOT_WORKLOAD;
interface RunResult {
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
  /** t3 - t0 */
  wallMs: number;
  /** t2 - t1: the recorder's share of the workload task (its MutationObserver callback) */
  inTaskRecorderMs: number;
  /** long tasks (>= 50 ms) that started after the first snapshot was done and outside [t0, t3] */
  laterLongTasks: number[];
  /** long tasks starting in [t0, t3] (the workload's own task and its rendering) */
  windowLongTasks: number[];
  events: number;
  /** rrweb variant: JSON.stringify of the events the workload produced, timed afterwards (wall ms) */
  stringifyMs: number;
  eventBytes: number;
}

export interface OverheadOptions {
  reps?: number;
  settleMs?: number;
  browser?: Browser;
  workloads?: Workload[];
  variants?: VariantName[];
}



type Metrics = { task: number; script: number };
/** Idle time after loading/starting before anything is measured. */
const IDLE_MS = 300;

async function metrics(cdp: CDPSession): Promise<Metrics> {
  const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] };
  const get = (n: string) => (metrics.find((m) => m.name === n)?.value ?? NaN) * 1000;
  return { task: get('TaskDuration'), script: get('ScriptDuration') };
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
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    const t3 = performance.now();
    return { t0, t1, t2, t3 };
  }, name);
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
        await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
        return { t0, t1: t0, t2, t3: performance.now() };
      });
    },
    async events() {
      return 0;
    },
    async flush() {},
  };
}

function rrwebVariant(server: FixtureServer): VariantDriver {
  return {
    name: 'rrweb',
    async load(page) {
      await page.addScriptTag({ url: `${server.url}/rrweb-record.js` });
    },
    async start(page) {
      return page.evaluate(async () => {
        const w = window as any;
        w.__events = [];
        const t0 = performance.now();
        w.__stopRecording = w.rrwebBaseline.start((e: unknown) => w.__events.push(e));
        const t1 = performance.now();
        await null;
        const t2 = performance.now();
        await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
        return { t0, t1, t2, t3: performance.now() };
      });
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
): Promise<RunResult> {
  let context: BrowserContext | undefined;
  try {
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.on('pageerror', (e) => console.warn(`[${variant.name}/${workload}] page error: ${e.message}`));
    await page.addInitScript(EVALUATE_SHIM + LONGTASK_INIT);
    const cdp = await context.newCDPSession(page);
    // threadTicks: durations are the renderer main thread's CPU time, so other processes on this shared
    // 2-core machine (the backend, other jobs) do not inflate them.
    await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
    const isSnapshot = workload === SNAPSHOT_WORKLOAD;
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
    if (isSnapshot) {
      m0 = await metrics(cdp);
      times = await variant.start(page);
      firstSnapshotDoneAt = times.t3;
    } else {
      const started = await variant.start(page);
      // Send the first snapshot now and let the page go idle before the workload.
      await variant.flush(page);
      await page.waitForTimeout(IDLE_MS);
      firstSnapshotDoneAt = started.t3;
      await page.evaluate(() => ((window as any).__mark = ((window as any).__events ?? []).length));
      m0 = await metrics(cdp);
      times = await runWorkload(page, workload);
    }
    const mMid = await metrics(cdp);
    // The tracker's deferred work (batch body, hand-off to the compression worker, the request and its
    // answer) happens at its next flush: force it now instead of waiting for the 2 s timer.
    await variant.flush(page);
    await page.waitForTimeout(settleMs);
    const m1 = await metrics(cdp);
    // Diagnostic, outside the measurement: what serialising the events this workload produced costs
    // (plain rrweb only; the Tandem tracker does this once per event as it emits).
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
    const events = await variant.events(page);
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
      laterLongTasks: longtasks.filter((t) => t.start > firstSnapshotDoneAt && !inWindow(t)).map((t) => t.dur),
      events,
      stringifyMs: stringify.ms,
      eventBytes: stringify.bytes,
    };
  } finally {
    await context?.close().catch(() => {});
  }
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

export async function runTrackerOverhead(opts: OverheadOptions = {}): Promise<OverheadSummary> {
  const reps = opts.reps ?? Number(process.env.BENCH_REPS ?? 6);
  const workloads = opts.workloads ?? [...MUTATION_WORKLOADS, SNAPSHOT_WORKLOAD];
  const server = await startFixtureServer({ discardIngest: true });
  const rrwebPath = await buildRrwebBundle();
  server.routes.set('/rrweb-record.js', { type: 'text/javascript', body: readText(rrwebPath) });
  server.routes.set('/mutations.html', { type: 'text/html', body: mutationPage() });
  server.routes.set('/big.html', { type: 'text/html', body: bigPage(60_000) });

  const browser = opts.browser ?? (await launchChromium());
  let ingest: TandemIngest | undefined;
  const notes: string[] = [];
  try {
    const variants: VariantDriver[] = [noneVariant()];
    const tracker = ensureTrackerBundle();
    let tandemError: string | undefined = tracker.error;
    if (!tandemError) {
      try {
        ingest = await startTandemIngest(server);
        server.routes.set('/tandem.js', { type: 'text/javascript', body: readText(tracker.path) });
        notes.push(`Tandem ingest: ${ingest.describe}`);
      } catch (err) {
        tandemError = (err as Error).message;
      }
    }
    variants.push(rrwebVariant(server));
    if (ingest && !tandemError) variants.push(ingest.variant(server));
    if (opts.variants) variants.splice(0, variants.length, ...variants.filter((v) => opts.variants!.includes(v.name)));
    notes.push(`plain rrweb options: ${RRWEB_BASELINE_DESCRIPTION}`);
    const settleMs = opts.settleMs ?? 500;
    console.log(`[${BENCH}] chromium ${browser.version()}, ${reps} reps, settle ${settleMs} ms, variants: ${variants.map((v) => v.name).join(', ')}`);
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
          const r = await oneRun(browser, server, v, workload, rep, settleMs);
          results.push(r);
          console.log(
            `[${BENCH}] rep ${rep} ${workload.padEnd(18)} ${v.name.padEnd(6)} task ${fmtMs(r.taskMs).padStart(9)} (window ${fmtMs(r.windowTaskMs).padStart(9)}, later ${fmtMs(r.laterTaskMs).padStart(8)})` +
              `  recorder JS in task ${fmtMs(r.windowScriptMs).padStart(8)} (wall ${fmtMs(r.inTaskRecorderMs).padStart(8)})  events ${r.events}` +
              (r.laterLongTasks.length ? `  later long tasks ${r.laterLongTasks.map((d) => d.toFixed(0)).join(',')}` : ''),
          );
        }
      }
    }
    return { rows: summarize(results, variants.map((v) => v.name), workloads, tandemError, notes), results };
  } finally {
    if (!opts.browser) await browser.close().catch(() => {});
    await ingest?.close().catch(() => {});
    await server.close();
  }
}

function summarize(results: RunResult[], variants: VariantName[], workloads: Workload[], tandemError: string | undefined, notes: string[]): ResultRow[] {
  const rows: ResultRow[] = [];
  const med = (v: VariantName, w: Workload, f: (r: RunResult) => number) =>
    median(results.filter((r) => r.variant === v && r.workload === w).map(f));
  const has = (v: VariantName) => variants.includes(v);
  const reps = Math.max(...results.map((r) => r.rep)) + 1;

  console.log('');
  console.log('Medians over runs, main-thread CPU ms (CDP TaskDuration, threadTicks) from the workload start to after a forced flush + 500 ms:');
  console.log(`| workload | none | rrweb | tandem | tandem/rrweb | (tandem-none)/(rrweb-none) | recorder JS in the workload task: rrweb | tandem | deferred work after the task: rrweb | tandem | JSON of rrweb's events: bytes | stringify ms |`);
  console.log(`|---|---|---|---|---|---|---|---|---|---|---|---|`);
  const ratios: { w: Workload; r: number }[] = [];
  let sumT = 0;
  let sumR = 0;
  for (const w of workloads) {
    const n = med('none', w, (r) => r.taskMs);
    const rr = med('rrweb', w, (r) => r.taskMs);
    const t = has('tandem') ? med('tandem', w, (r) => r.taskMs) : NaN;
    ratios.push({ w, r: t / rr });
    sumT += t;
    sumR += rr;
    console.log(
      `| ${w} | ${n.toFixed(1)} | ${rr.toFixed(1)} | ${t.toFixed(1)} | ${fmtRatio(t / rr)} | ${fmtRatio((t - n) / (rr - n))} | ` +
        `${med('rrweb', w, (r) => r.windowScriptMs).toFixed(1)} | ${med('tandem', w, (r) => r.windowScriptMs).toFixed(1)} | ` +
        `${med('rrweb', w, (r) => r.laterTaskMs).toFixed(1)} | ${med('tandem', w, (r) => r.laterTaskMs).toFixed(1)} | ` +
        `${fmtInt(med('rrweb', w, (r) => r.eventBytes))} | ${med('rrweb', w, (r) => r.stringifyMs).toFixed(1)} |`,
    );
  }
  console.log('');

  if (!has('tandem')) {
    rows.push({
      bench: BENCH,
      figure: `Tandem/rrweb main-thread time: not measured (rrweb vs none only: ${workloads
        .map((w) => `${w} rrweb ${med('rrweb', w, (r) => r.taskMs).toFixed(0)} ms vs none ${med('none', w, (r) => r.taskMs).toFixed(0)} ms`)
        .join('; ')})`,
      target: '≤ 1.05× plain @rrweb/record',
      met: null,
      gap: tandemError ?? 'Tandem variant not run',
    });
    return rows;
  }

  const worst = ratios.reduce((a, b) => (b.r > a.r ? b : a));
  const total = sumT / sumR;
  // Interference from other processes only adds CPU time, so the fastest run is a second estimate.
  const minOf = (v: VariantName, w: Workload) => Math.min(...results.filter((r) => r.variant === v && r.workload === w).map((r) => r.taskMs));
  const minRatios = workloads.map((w) => `${w} ${fmtRatio(minOf('tandem', w) / minOf('rrweb', w))}`).join(', ');
  console.log(`fastest-run ratios Tandem/rrweb: ${minRatios}`);
  rows.push(
    atMost(
      BENCH,
      `Tandem/rrweb main-thread CPU time (median of ${reps} runs per workload): worst ${fmtRatio(worst.r)} (${worst.w}), all workloads summed ${fmtRatio(total)} ` +
        `[${ratios.map((x) => `${x.w} ${fmtRatio(x.r)}`).join(', ')}]; fastest run of each instead of median: [${minRatios}]; ingest: ${notes[0]?.includes('real backend') ? 'real backend' : 'discard endpoint'}`,
      worst.r,
      1.05,
      '≤ 1.05× plain @rrweb/record (same options), every workload',
      '×',
    ),
  );

  // Longest tracker task after the first snapshot. Inside each mutation workload's task the recorder
  // runs its MutationObserver callback (rrweb's work + Tandem's numbering/serialising of the events):
  // its JS CPU time is windowScriptMs. Separately, any long task (>= 50 ms, Long Tasks API) that started
  // after the first snapshot outside the workload windows.
  const mutation = workloads.filter((w) => w !== SNAPSHOT_WORKLOAD);
  const perW = mutation.map((w) => ({ w, tandem: med('tandem', w, (r) => r.windowScriptMs), rrweb: med('rrweb', w, (r) => r.windowScriptMs) }));
  const worstTask = perW.reduce((a, b) => (b.tandem > a.tandem ? b : a));
  const laterBy = (v: VariantName) => max(results.filter((r) => r.variant === v).flatMap((r) => r.laterLongTasks));
  const later = laterBy('tandem');
  const longest = Math.max(worstTask.tandem, Number.isFinite(later) ? later : 0);
  const added = perW.map((x) => `${x.w} ${(x.tandem - x.rrweb).toFixed(0)}`).join(', ');
  rows.push(
    atMost(
      BENCH,
      `longest tracker task after the first snapshot: ${fmtMs(longest)} = its MutationObserver callback on ${worstTask.w} (median JS CPU; plain rrweb's own callback there: ${fmtMs(worstTask.rrweb)}; ` +
        `Tandem minus rrweb per workload, ms: ${added}); separate tasks ≥ 50 ms after the snapshot: ${Number.isFinite(later) ? fmtMs(later) : 'none'}`,
      longest,
      50,
      'no tracker task > 50 ms after the first snapshot',
      ' ms',
    ),
  );
  return rows;
}

if (isMain(import.meta.url)) {
  const { rows } = await runTrackerOverhead();
  recordResults(rows);
}
