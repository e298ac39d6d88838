/**
 * ingest: the real backend (startServer, temp dataDir, in this process) under many simulated trackers
 * (a separate child process, bench/src/ingest-load.ts), then a check through the store that nothing was
 * lost or duplicated, then a baseline in the same run: raw inserts of equivalent rows into a scratch
 * table through the same chDB driver.
 *
 *   node --import tsx bench/src/ingest.ts     (INGEST_SESSIONS, INGEST_SECONDS to change the load; INGEST_RUNS loads, default 3,
 *   judged on the median run)
 */
import { fork } from 'node:child_process';
import { performance as perfHooks } from 'node:perf_hooks';
const eventLoopUtilization = perfHooks.eventLoopUtilization.bind(perfHooks);
import { resolve } from 'node:path';
import { startBenchBackend, type BenchBackend } from './lib/backend.js';
import { findEventsTable, type Driverish, type EventsTable } from './lib/chdb-inspect.js';
import { BENCH_ROOT, atLeast, atMost, recordResults, type ResultRow } from './lib/report.js';
import { fmtInt, fmtMs, fmtRatio, max, percentile } from './lib/stats.js';
import { isMain } from './lib/main.js';
import { makeEvent, rng, type LoadConfig, type LoadResult, type TabResult } from './ingest-load.js';

const BENCH = 'ingest';

export interface IngestOptions {
  sessions?: number;
  durationMs?: number;
  warmupMs?: number;
  eventsPerBatch?: number;
  minIntervalMs?: number;
  replayEvery?: number;
  baselineMs?: number;
}

/** Event-loop utilisation of this (the backend's) process between the child's load-start and load-end. */
let loadElu: number | undefined;

function runLoadChild(cfg: LoadConfig): Promise<LoadResult> {
  return new Promise((resolvePromise, reject) => {
    const child = fork(resolve(BENCH_ROOT, 'src/ingest-load.ts'), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, TANDEM_INGEST_CHILD: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let done = false;
    // Bounded: the load itself lasts durationMs; preparing bodies and draining take a little more.
    const killer = setTimeout(() => {
      if (!done) child.kill('SIGKILL');
    }, cfg.durationMs + cfg.warmupMs + 180_000);
    let elu0: ReturnType<typeof eventLoopUtilization> | undefined;
    child.on('message', (m: { ok: boolean; result?: LoadResult; error?: string; phase?: string }) => {
      if (m.phase === 'load-start') {
        elu0 = eventLoopUtilization();
        return;
      }
      if (m.phase === 'load-end') {
        if (elu0) loadElu = eventLoopUtilization(elu0).utilization;
        return;
      }
      done = true;
      clearTimeout(killer);
      if (m.ok && m.result) resolvePromise(m.result);
      else reject(new Error(`load generator failed: ${m.error}`));
    });
    child.on('exit', (code) => {
      clearTimeout(killer);
      if (!done) reject(new Error(`load generator exited with ${code} before answering`));
    });
    child.send(cfg);
  });
}

interface TabCheck {
  tabId: string;
  rows: number;
  distinct: number;
  minSeq: number;
  maxSeq: number;
}

interface Verification {
  tabsExpected: number;
  tabsFound: number;
  rows: number;
  distinct: number;
  duplicates: number;
  lost: number;
  ackedEvents: number;
  /** events sent after the last ack of a tab that never got an ack (neither lost nor required) */
  unackedTail: number;
  finalRows?: number;
}

async function verify(backend: BenchBackend, ev: EventsTable, tabs: TabResult[]): Promise<Verification> {
  const driver: Driverish = backend.store.driver;
  const sessionIds = [...new Set(tabs.map((t) => t.sessionId))];
  const rows = await driver.query<Record<string, string | number>>(
    `SELECT ${ev.tabCol} AS tab, count() AS rows, uniqExact(${ev.seqCol}) AS distinct, min(${ev.seqCol}) AS mn, max(${ev.seqCol}) AS mx
     FROM ${ev.qualified} WHERE ${ev.sessionCol} IN {ids:Array(String)} GROUP BY tab`,
    { ids: sessionIds },
  );
  const found = new Map<string, TabCheck>(
    rows.map((r) => [String(r.tab), { tabId: String(r.tab), rows: Number(r.rows), distinct: Number(r.distinct), minSeq: Number(r.mn), maxSeq: Number(r.mx) }]),
  );
  let lost = 0;
  let duplicates = 0;
  let totalRows = 0;
  let totalDistinct = 0;
  let acked = 0;
  let tail = 0;
  for (const t of tabs) {
    acked += t.ackSeq + 1;
    if (t.unackedTail) tail += t.lastSentSeq - t.ackSeq;
    const f = found.get(t.tabId);
    if (!f) {
      lost += t.ackSeq + 1;
      continue;
    }
    totalRows += f.rows;
    totalDistinct += f.distinct;
    duplicates += f.rows - f.distinct;
    if (f.minSeq === 0 && f.distinct === f.maxSeq + 1) {
      lost += Math.max(0, t.ackSeq - f.maxSeq);
    } else {
      // Gaps: count exactly which acked seqs are missing.
      const [g] = await driver.query<Record<string, string | number>>(
        `SELECT uniqExactIf(${ev.seqCol}, ${ev.seqCol} <= {ack:Int64}) AS have FROM ${ev.qualified} WHERE ${ev.tabCol} = {tab:String}`,
        { ack: t.ackSeq, tab: t.tabId },
      );
      lost += t.ackSeq + 1 - Number(g?.have ?? 0);
    }
  }
  const v: Verification = {
    tabsExpected: tabs.length,
    tabsFound: found.size,
    rows: totalRows,
    distinct: totalDistinct,
    duplicates,
    lost,
    ackedEvents: acked,
    unackedTail: tail,
  };
  if (duplicates > 0 && /Replacing|Collapsing/.test(ev.engine)) {
    const [r] = await driver.query<Record<string, string | number>>(
      `SELECT count() AS c FROM ${ev.qualified} FINAL WHERE ${ev.sessionCol} IN {ids:Array(String)}`,
      { ids: sessionIds },
    );
    v.finalRows = Number(r?.c);
  }
  return v;
}

/** Writes one tab of `n` generated events through the store (one batch), so the events table holds rows to copy. */
async function seedBaselineRows(backend: BenchBackend, n: number): Promise<string> {
  const sessionId = 'benchbaselinesession';
  const tabId = 'benchbaselinetab';
  const r = rng(4242);
  let ts = Date.now();
  const events = Array.from({ length: n }, (_, seq) => makeEvent(r, seq, (ts += 40)));
  await backend.store.startSession({
    projectId: backend.projectId, sessionId, tabId, visitorId: 'benchbaselinevisitor', userId: '', startedAt: Date.now(),
    url: 'https://shop.example.com/', referrer: '', userAgent: 'bench', screen: '1920x1080', language: 'en', timezone: 'UTC', ip: '127.0.0.1',
  });
  await backend.store.writeBatch({ projectId: backend.projectId, sessionId, tabId, events });
  await backend.store.flush();
  return sessionId;
}

interface Baseline {
  rowsPerSec: number;
  /** rows per CPU-second of this process (chDB's threads included) */
  rowsPerCpuSec: number;
  rows: number;
  inserts: number;
  batchRows: number;
  avgRowBytes: number;
}

/**
 * Inserts real rows (copied from the events table: the writer's own row shape) into a scratch table of the
 * same schema, through the store's driver, in batches of `batchRows`, for `budgetMs`.
 */
async function rawInsertBaseline(backend: BenchBackend, ev: EventsTable, sessionId: string, budgetMs: number, batchRows: number): Promise<Baseline> {
  const driver: Driverish = backend.store.driver;
  const scratch = `${ev.database}.bench_scratch_events`;
  await driver.command(`DROP TABLE IF EXISTS ${scratch}`);
  await driver.command(`CREATE TABLE ${scratch} AS ${ev.qualified}`);
  try {
    const rows = await driver.query<Record<string, unknown>>(
      `SELECT * FROM ${ev.qualified} WHERE ${ev.sessionCol} = {sid:String} LIMIT ${batchRows}`,
      { sid: sessionId },
    );
    if (rows.length < batchRows) throw new Error(`only ${rows.length} rows to copy`);
    const avgRowBytes = rows.reduce((a, r) => a + JSON.stringify(r).length, 0) / rows.length;
    await driver.insert(scratch, rows.slice(0, 100)); // warm the path
    let inserted = 0;
    let inserts = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    while (performance.now() - t0 < budgetMs && inserts < 1000) {
      await driver.insert(scratch, rows);
      inserted += rows.length;
      inserts++;
    }
    const secs = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuSecs = (cpu.user + cpu.system) / 1e6;
    return { rowsPerSec: inserted / secs, rowsPerCpuSec: inserted / cpuSecs, rows: inserted, inserts, batchRows, avgRowBytes };
  } finally {
    await driver.command(`DROP TABLE IF EXISTS ${scratch}`).catch(() => {});
  }
}

/** One load on a fresh backend: its three rows, and the figures the repeated runs are judged on. */
interface IngestRun {
  rows: ResultRow[];
  eps: number;
  p99: number;
  lost: number;
  duplicates: number;
}

/**
 * INGEST_RUNS loads (default 3), each on a fresh backend, judged on the median run by events/s: on this 2-core
 * machine one build gave 36.8k and 59.6k events/s in two consecutive quiet runs, so one run's figure is mostly
 * luck. Every run's events/s and p99 are listed; lost and duplicated events are counted over all runs.
 */
export async function runIngest(opts: IngestOptions = {}): Promise<ResultRow[]> {
  const runs = Math.max(1, Number(process.env.INGEST_RUNS ?? 3));
  const done: IngestRun[] = [];
  for (let i = 0; i < runs; i++) {
    console.log(`[${BENCH}] run ${i + 1} of ${runs}`);
    done.push(await runIngestOnce(opts));
  }
  const median = [...done].sort((a, b) => a.eps - b.eps)[Math.floor((done.length - 1) / 2)];
  if (runs === 1) return median.rows;
  const each = `runs: ${done.map((r) => `${fmtInt(r.eps)} events/s, p99 ${fmtMs(r.p99)}`).join('; ')}`;
  const [throughput, ack, integrity] = median.rows;
  const lost = done.reduce((a, r) => a + r.lost, 0);
  const duplicates = done.reduce((a, r) => a + r.duplicates, 0);
  return [
    { ...throughput, figure: `median of ${runs} runs (${each}); the median run: ${throughput.figure}` },
    { ...ack, figure: `the median run by events/s (${each}): ${ack.figure}` },
    { ...integrity, figure: `over ${runs} runs: lost ${lost}, duplicated ${duplicates}; the median run: ${integrity.figure}`, met: lost === 0 && duplicates === 0,
      gap: lost || duplicates ? `${lost} lost, ${duplicates} duplicated rows over ${runs} runs` : undefined },
  ];
}

async function runIngestOnce(opts: IngestOptions): Promise<IngestRun> {
  const cfgBase = {
    sessions: opts.sessions ?? Number(process.env.INGEST_SESSIONS ?? 200),
    eventsPerBatch: opts.eventsPerBatch ?? 50,
    durationMs: opts.durationMs ?? Number(process.env.INGEST_SECONDS ?? 20) * 1000,
    warmupMs: opts.warmupMs ?? 3000,
    // The backend's default per-tab batch limit is 10/s (burst 30); a tab posting no faster than every
    // 110 ms stays under it, as a real tracker (every ~2 s) does by far.
    minIntervalMs: opts.minIntervalMs ?? 110,
    replayEvery: opts.replayEvery ?? 10,
  };
  // All simulated tabs come from 127.0.0.1: the per-IP start limit (5/s, burst 50) is meant for one
  // office behind a NAT, so it is raised here; the per-tab batch limit stays at its default.
  const backend = await startBenchBackend({ startRateLimit: { perSecond: 100_000, burst: 100_000 } });
  try {
    console.log(`[${BENCH}] backend ${backend.url} (dataDir ${backend.dataDir}); ${cfgBase.sessions} tabs × ${cfgBase.eventsPerBatch} events/batch, ≥${cfgBase.minIntervalMs} ms apart, ${cfgBase.warmupMs / 1000} s warm-up + ${cfgBase.durationMs / 1000} s measured, every ${cfgBase.replayEvery}th batch replayed`);
    // Baseline first, on a quiet backend: raw inserts of rows shaped exactly like the writer's.
    const baseSession = await seedBaselineRows(backend, 5000);
    const ev = await findEventsTable(backend.store.driver);
    const baseBefore = await rawInsertBaseline(backend, ev, baseSession, opts.baselineMs ?? 5000, 5000);
    console.log(`[${BENCH}] baseline before the load: ${fmtInt(baseBefore.rowsPerSec)} rows/s raw driver.insert of ${baseBefore.batchRows}-row batches (${baseBefore.inserts} inserts, ~${fmtInt(baseBefore.avgRowBytes)} B/row as JSON)`);

    const w0 = { ...(backend.store.stats ?? {}) };
    const load = await runLoadChild({ url: backend.url, projectKey: backend.projectKey, ...cfgBase });
    await backend.store.flush();
    const w1 = { ...(backend.store.stats ?? {}) };
    const wd = (k: string) => Number(w1[k]) - Number(w0[k]);
    const writerNote = backend.store.stats
      ? `writer: ${fmtInt(wd('eventsWritten'))} events written in ${fmtInt(wd('flushes'))} flushes (${fmtInt(wd('eventsWritten') / wd('flushes'))} events per INSERT on average; ${fmtInt(wd('inserts'))} INSERT statements in all), ` +
        `${fmtInt(wd('eventsDropped'))} dropped as already stored/queued, ${wd('failedFlushes')} failed flushes`
      : 'writer stats not exposed';
    const v = await verify(backend, ev, load.tabs);

    const eps = load.windowEvents / (load.windowMs / 1000);
    const p50 = percentile(load.latencies, 50);
    const p99 = percentile(load.latencies, 99);
    const replays = load.tabs.reduce((a, t) => a + t.replays, 0);
    console.log(`[${BENCH}] ${writerNote}; replayed events sent: ${fmtInt(replays * cfgBase.eventsPerBatch)}`);
    const badAcks = load.tabs.reduce((a, t) => a + t.badAcks, 0);
    console.log(`[${BENCH}] statuses ${JSON.stringify(load.statuses)} errors ${JSON.stringify(load.errors)}`);
    console.log(`[${BENCH}] acked ${fmtInt(eps)} events/s in the window; latency p50 ${fmtMs(p50)} p99 ${fmtMs(p99)} max ${fmtMs(max(load.latencies))} (${load.latencies.length} answers); replays ${replays}; acks below the batch's last seq: ${badAcks}`);
    const m = load.machine;
    const cpuNote =
      `CPU during the load: backend process ${m.backendCores.toFixed(2)} cores (its main thread: on a CPU ${m.backendMainThreadCores.toFixed(2)}, waiting for a CPU ${m.backendMainThreadWait.toFixed(2)}, event-loop utilisation ${loadElu?.toFixed(2) ?? 'n/a'}), ` +
      `load generator ${m.generatorCores.toFixed(2)}, other processes on the machine ${m.otherCores.toFixed(2)} (of ${m.totalCores})`;
    console.log(`[${BENCH}] ${cpuNote}`);
    console.log(`[${BENCH}] generator CPU while loading ${fmtInt(load.loadCpuMs)} ms over ${fmtInt(load.loadWallMs)} ms (${((load.loadCpuMs / load.loadWallMs) * 100).toFixed(0)}% of one core, taken from the backend's 2 cores); total ${fmtInt(load.clientCpuMs.user + load.clientCpuMs.system)} ms incl. preparing ${load.batchesPrepared} batches, avg ${fmtInt(load.bodyBytes.raw / load.bodyBytes.batches)} B raw / ${fmtInt(load.bodyBytes.wire / load.bodyBytes.batches)} B gzip`);
    console.log(`[${BENCH}] store (${ev.qualified}, ${ev.engine}): ${v.tabsFound}/${v.tabsExpected} tabs, ${fmtInt(v.rows)} rows, ${fmtInt(v.distinct)} distinct (tab,seq), acked ${fmtInt(v.ackedEvents)}, lost ${v.lost}, duplicated ${v.duplicates}${v.finalRows !== undefined ? `, rows with FINAL ${v.finalRows}` : ''}, unacked tail ${v.unackedTail}`);

    const baseAfter = await rawInsertBaseline(backend, ev, baseSession, opts.baselineMs ?? 5000, 5000);
    console.log(`[${BENCH}] baseline after the load: ${fmtInt(baseAfter.rowsPerSec)} rows/s`);
    // The better of the two: the baseline is the ceiling the ingest path is compared against.
    const base = baseBefore.rowsPerSec >= baseAfter.rowsPerSec ? baseBefore : baseAfter;
    const baseEff = Math.max(baseBefore.rowsPerCpuSec, baseAfter.rowsPerCpuSec);
    // Efficiency, robust to other processes taking CPU: events acked per CPU-second of the backend process.
    const ackedAll = load.tabs.reduce((a, t) => a + t.ackedEvents, 0);
    const backendCpuSecs = load.machine.backendCores * load.machine.seconds;
    const eff = ackedAll / backendCpuSecs;
    console.log(`[${BENCH}] efficiency: ${fmtInt(eff)} events per backend CPU-second (baseline raw insert ${fmtInt(baseEff)} rows per CPU-second, ratio ${fmtRatio(eff / baseEff)})`);

    const ratio = eps / base.rowsPerSec;
    const rows: ResultRow[] = [
      atLeast(
        BENCH,
        `${fmtInt(eps)} events/s acked (${cfgBase.sessions} tabs, gzip batches of ${cfgBase.eventsPerBatch}, ${cfgBase.durationMs / 1000} s) = ${fmtRatio(ratio)} of the raw chDB driver.insert baseline ${fmtInt(base.rowsPerSec)} rows/s in the same run (before load ${fmtInt(baseBefore.rowsPerSec)}, after ${fmtInt(baseAfter.rowsPerSec)}); ` +
          `per backend CPU-second ${fmtInt(eff)} events vs baseline ${fmtInt(baseEff)} rows (${fmtRatio(eff / baseEff)}); ${cpuNote}`,
        eps,
        50_000,
        '≥ 50,000 events/s on 2 cores',
        ' events/s',
      ),
      atMost(BENCH, `ack latency p50 ${fmtMs(p50)}, p99 ${fmtMs(p99)} (client-side, ${load.latencies.length} answers)`, p99, 500, 'p99 ack ≤ 500 ms', ' ms'),
      {
        bench: BENCH,
        figure: `lost ${v.lost}, duplicated ${v.duplicates} of ${fmtInt(v.ackedEvents)} acked events (${replays} batches = ${fmtInt(replays * cfgBase.eventsPerBatch)} events replayed after their ack; ${fmtInt(v.rows)} rows stored, raw count without FINAL; ${writerNote})`,
        target: 'zero lost, zero duplicated',
        met: v.lost === 0 && v.duplicates === 0,
        gap: v.lost || v.duplicates ? `${v.lost} lost, ${v.duplicates} duplicated rows` : undefined,
      },
    ];
    return { rows, eps, p99, lost: v.lost, duplicates: v.duplicates };
  } finally {
    await backend.close();
  }
}

if (isMain(import.meta.url)) {
  try {
    recordResults(await runIngest());
  } catch (err) {
    console.error(err);
    recordResults([{ bench: BENCH, figure: 'not run', target: '≥ 50,000 events/s, p99 ack ≤ 500 ms, zero lost or duplicated', met: null, gap: (err as Error).message }]);
    process.exitCode = 1;
  }
}
