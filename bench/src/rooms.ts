/**
 * rooms: the real backend (startServer in a child process of its own, temp dataDir) holding N idle tab
 * sockets and M active rooms, each streaming 20 live:events batches/s from its tab socket to one agent
 * socket. Load generators are two more child processes (bench/src/lib/rooms-load.ts), each holding half
 * the idle tabs and driving half the rooms, tab and agent of a room in the same process (so a relay's emit
 * and receipt are stamped by one clock). Baseline in the same run, on the same backend before the load:
 * 0 idle sockets and 1 room.
 *
 *   node --import tsx bench/src/rooms.ts     (ROOMS_IDLE=10000 ROOMS_ACTIVE=500 ROOMS_SECONDS=20 ROOMS_PROCS=2)
 *
 * Two nodes (ROOMS_NODES=2, or `runRoomsTwoNodes`; issue 9): two backend children sharing Redis
 * (TANDEM_REDIS_URL) and one store (the chDB HTTP stand-in), M active rooms whose tabs are on node A,
 * half of them watched by an agent on node A (relay within one node) and half by an agent on node B
 * (every message crosses nodes through the Redis adapter), both halves measured in the same window by
 * two generator processes. DESIGN.md §10: cross-node p99 within 2× of one node.
 *
 *   ROOMS_NODES=2 node --import tsx bench/src/rooms.ts     (ROOMS2_ACTIVE=100 ROOMS2_SECONDS=15)
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { startBackendChild, type BackendChild } from './lib/backend-child.js';
import { forkChild, loginCookie, type IpcChild } from './lib/live-common.js';
import type { MeasureResult, ReadyInfo, RoomsLoadConfig } from './lib/rooms-load.js';
import { percentileSorted, quietSamples } from './lib/live-events.js';
import { BENCH_ROOT, atMost, recordResults, type ResultRow } from './lib/report.js';
import { fmtBytes, fmtInt, fmtMs, fmtRatio } from './lib/stats.js';
import { cpuBetween, sampleCpu } from './lib/sysload.js';
import { isMain } from './lib/main.js';

const BENCH = 'rooms';
const TARGET_SCALE = '10,000 idle sockets + 500 active rooms at 20 msg/s on one process';
const TARGET_P99 = 'p99 relay ≤ 100 ms';
const TARGET_RSS = 'backend RSS ≤ 1.5 GB';
const RSS_LIMIT = 1.5 * 1024 ** 3;
/** A second of the window is "quiet" when other processes on the machine took less than this. */
const QUIET_CORES = 0.25;

export interface RoomsOptions {
  idle?: number;
  active?: number;
  seconds?: number;
  baselineSeconds?: number;
  /** How idle tabs get their tokens: 'sign' (the backend's TokenSigner, shared secret) or 'start' (POST /ingest/v1/start each). */
  idleMint?: 'sign' | 'start';
  /** load generator processes (1–2); each holds its share of idle tabs and of active rooms */
  procs?: number;
}

const LOAD_FILE = resolve(BENCH_ROOT, 'src/lib/rooms-load.ts');

/** Pins a process (all its threads) to some CPUs (`taskset`); false when that is not possible. */
function pin(pid: number, cpus: string): boolean {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** One child's share of `total` (the first children take the remainder). */
export function share(total: number, parts: number, i: number): number {
  return Math.floor(total / parts) + (i < total % parts ? 1 : 0);
}

/** Several generators' windows as one: samples merged, counts summed, CPU/ELU per process kept. */
export function mergeResults(rs: MeasureResult[]): MeasureResult & { elus: number[] } {
  const n = rs.reduce((a, r) => a + r.samples.length, 0);
  const raw = new Float64Array(n);
  const sentAt = new Float64Array(n);
  let o = 0;
  for (const r of rs) raw.set(r.samples, o), sentAt.set(r.sampleSentAt, o), (o += r.samples.length);
  const all = raw.slice().sort();
  const lagN = rs.reduce((a, r) => a + r.lagSamples.length, 0);
  const lags = new Float64Array(lagN);
  o = 0;
  for (const r of rs) lags.set(r.lagSamples, o), (o += r.lagSamples.length);
  lags.sort();
  let sum = 0;
  for (let i = 0; i < all.length; i++) sum += all[i];
  const add = (k: keyof MeasureResult) => rs.reduce((a, r) => a + (r[k] as number), 0);
  const disconnects: Record<string, number> = {};
  for (const r of rs) for (const [k, v] of Object.entries(r.disconnects)) disconnects[k] = (disconnects[k] ?? 0) + v;
  return {
    windowMs: Math.max(...rs.map((r) => r.windowMs)),
    idleAtStart: add('idleAtStart'), idleAtEnd: add('idleAtEnd'), activeAtStart: add('activeAtStart'), activeAtEnd: add('activeAtEnd'),
    disconnects,
    sentEvents: add('sentEvents'), receivedEvents: add('receivedEvents'), sentBatches: add('sentBatches'),
    latency: {
      n: all.length, p50: percentileSorted(all, 50), p95: percentileSorted(all, 95), p99: percentileSorted(all, 99),
      max: all.length ? all[all.length - 1] : NaN, mean: all.length ? sum / all.length : NaN,
    },
    samples: raw,
    sampleSentAt: sentAt,
    gaps: add('gaps'), missing: add('missing'), duplicates: add('duplicates'), resyncs: add('resyncs'),
    sendLag: { p50: percentileSorted(lags, 50), p99: percentileSorted(lags, 99), max: lags.length ? lags[lags.length - 1] : NaN },
    lagSamples: lags,
    bytesPerBatch: rs.map((r) => r.bytesPerBatch).find(Number.isFinite) ?? NaN,
    elu: Math.max(...rs.map((r) => r.elu)),
    elus: rs.map((r) => r.elu),
    cpuCores: add('cpuCores'),
    rssBytes: add('rssBytes'),
  };
}

async function setupChild(label: string, cfg: RoomsLoadConfig, timeoutMs: number, cpus?: string): Promise<{ child: IpcChild; ready: ReadyInfo }> {
  const child = forkChild(LOAD_FILE, { TANDEM_ROOMS_CHILD: '1' }, label);
  if (cpus) pin(child.pid, cpus);
  try {
    const { info } = await child.request<{ info: ReadyInfo }>({ type: 'setup', cfg }, 'ready', timeoutMs);
    const sec = (ms: number) => (ms / 1000).toFixed(1);
    console.log(
      `[${label}] ready: ${info.idleConnected}/${info.idleRequested} idle (mint ${sec(info.idleTimes.mintMs)} s, connect ${sec(info.idleTimes.connectMs)} s), ` +
        `${info.activeConnected}/${info.activeRequested} active tabs, ${info.joined} agents joined, ${info.forwarding} forwarding ` +
        `(mint ${sec(info.activeTimes.mintMs)} s, connect ${sec(info.activeTimes.connectMs)} s, agents+join ${sec(info.activeTimes.joinMs)} s); generator RSS ${fmtBytes(info.rssBytes)}` +
        (Object.keys(info.errors).length ? `; errors ${JSON.stringify(info.errors)}` : ''),
    );
    return { child, ready: info };
  } catch (err) {
    await child.stop();
    throw err;
  }
}

function measure(child: IpcChild, windowMs: number, graceMs: number): Promise<MeasureResult> {
  return child.request<{ result: MeasureResult }>({ type: 'measure', windowMs, graceMs }, 'measured', windowMs + graceMs + 30_000).then((m) => m.result);
}

function describeRelay(r: MeasureResult): string {
  const pct = r.sentEvents ? (r.receivedEvents / r.sentEvents) * 100 : NaN;
  return `p50 ${fmtMs(r.latency.p50)}, p95 ${fmtMs(r.latency.p95)}, p99 ${fmtMs(r.latency.p99)}, max ${fmtMs(r.latency.max)}; delivered ${fmtInt(r.receivedEvents)}/${fmtInt(r.sentEvents)} events (${pct.toFixed(pct === 100 ? 0 : 3)}%) in ${fmtInt(r.sentBatches)} batches`;
}

export async function runRooms(opts: RoomsOptions = {}): Promise<ResultRow[]> {
  const idleN = opts.idle ?? Number(process.env.ROOMS_IDLE ?? 10_000);
  const activeM = opts.active ?? Number(process.env.ROOMS_ACTIVE ?? 500);
  const seconds = opts.seconds ?? Number(process.env.ROOMS_SECONDS ?? 20);
  const procs = Math.max(1, Math.min(2, opts.procs ?? Number(process.env.ROOMS_PROCS ?? 2)));
  const baseSeconds = opts.baselineSeconds ?? Math.min(10, seconds);
  const idleMint = opts.idleMint ?? ((process.env.ROOMS_IDLE_MINT as 'sign' | 'start' | undefined) ?? 'sign');
  const secret = randomBytes(32).toString('base64url');
  // Every simulated tab and agent connects from 127.0.0.1 and one project: the per-IP (and per-project)
  // new-session and new-socket limits are meant for real traffic, so the bench raises them. Per-tab,
  // per-message and backpressure limits stay at their defaults.
  const unlimited = { perSecond: 1_000_000, burst: 1_000_000 };
  const raised = { startRateLimit: unlimited, liveConnectRateLimit: unlimited, liveProjectConnectRateLimit: unlimited };
  // ROOMS_CPU_PROF=<dir>: the backend writes a V8 CPU profile there when it exits (to see what limits it).
  const prof = process.env.ROOMS_CPU_PROF;
  const backend = await startBackendChild({ overrides: { ...raised, secret }, execArgv: prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [] });
  const children: IpcChild[] = [];
  try {
    // ROOMS_PIN=1: the backend on CPU 0, the generators on CPU 1 (as if the clients ran elsewhere and the
    // backend had one core to itself; other processes on the machine still float over both).
    const pinned = process.env.ROOMS_PIN === '1' && pin(backend.pid, '0');
    console.log(`[${BENCH}] backend child pid ${backend.pid} at ${backend.url} (dataDir ${backend.dataDir}); RSS at start ${fmtBytes(backend.procMem().rss)}`);
    console.log(`[${BENCH}] raised for the bench (all sockets come from 127.0.0.1, one project): ${Object.keys(raised).join(', ')} → ${unlimited.perSecond}/s`);
    const cookie = await loginCookie(backend.url);
    const base: Omit<RoomsLoadConfig, 'idle' | 'active'> = {
      url: backend.url, projectKey: backend.projectKey, projectId: backend.projectId, secret, cookie, idleMint,
      batchesPerSecond: 20, eventsMin: 2, eventsMax: 4, connectConcurrency: 100, mintConcurrency: 128, seed: 1,
    };

    // ---- baseline: 0 idle sockets, 1 room, same backend, before any load
    const b = await setupChild('rooms-baseline', { ...base, idle: 0, active: 1 }, 60_000);
    children.push(b.child);
    if (b.ready.forwarding < 1) throw new Error(`the baseline room never forwarded: ${JSON.stringify(b.ready.errors)}`);
    await new Promise((r) => setTimeout(r, 1000));
    const bcpu0 = sampleCpu([backend.pid]);
    const baseline = await measure(b.child, baseSeconds * 1000, 1500);
    const bcpu = cpuBetween(bcpu0, sampleCpu([backend.pid]));
    await b.child.stop();
    children.pop();
    const rssQuiet = backend.procMem().rss;
    console.log(`[${BENCH}] baseline (0 idle, 1 room, ${baseSeconds} s): ${describeRelay(baseline)}; backend ${bcpu.pidCores[backend.pid].toFixed(2)} cores, RSS ${fmtBytes(rssQuiet)}`);

    // ---- the load: each generator ramps its idle tabs, then its active rooms
    const setups = await Promise.allSettled(
      Array.from({ length: procs }, (_, i) =>
        setupChild(`rooms-gen${i + 1}`, { ...base, idle: share(idleN, procs, i), active: share(activeM, procs, i), seed: i + 1 }, 300_000, pinned ? '1' : undefined),
      ),
    );
    for (const s of setups) if (s.status === 'fulfilled') children.push(s.value.child);
    const failed = setups.find((s) => s.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
    const gens = setups.map((s) => (s as PromiseFulfilledResult<{ child: IpcChild; ready: ReadyInfo }>).value);
    const forwarding = gens.reduce((a, g) => a + g.ready.forwarding, 0);
    const rssLoaded = backend.procMem().rss;
    console.log(`[${BENCH}] backend RSS with everything connected: ${fmtBytes(rssLoaded)}`);
    // Warm-up: every room streaming before the window opens.
    await new Promise((r) => setTimeout(r, 3000));

    let rssMax = 0;
    const rssTimer = setInterval(() => (rssMax = Math.max(rssMax, backend.procMem().rss)), 500);
    await backend.stats(); // resets the backend's event-loop utilisation window
    const pids = [backend.pid, ...gens.map((g) => g.child.pid)];
    const cpu0 = sampleCpu(pids, [backend.pid]);
    // Per-second CPU slices: which seconds of the window other processes left alone.
    const epochNow = () => performance.timeOrigin + performance.now();
    const slices: { from: number; to: number; otherCores: number }[] = [];
    let prevSlice = { cpu: cpu0, at: epochNow() };
    const sliceTimer = setInterval(() => {
      const cur = { cpu: sampleCpu(pids), at: epochNow() };
      slices.push({ from: prevSlice.at, to: cur.at, otherCores: cpuBetween(prevSlice.cpu, cur.cpu).otherCores });
      prevSlice = cur;
    }, 1000);
    const results = await Promise.all(gens.map((g) => measure(g.child, seconds * 1000, 2000)));
    clearInterval(sliceTimer);
    const cpu1 = sampleCpu(pids, [backend.pid]);
    clearInterval(rssTimer);
    const bstats = await backend.stats();
    const mem = backend.procMem();
    rssMax = Math.max(rssMax, mem.rss);
    const r = mergeResults(results);
    const cpu = cpuBetween(cpu0, cpu1);
    const backendCores = cpu.pidCores[backend.pid];
    const genCores = gens.map((g) => cpu.pidCores[g.child.pid]);
    const cpuNote =
      `CPU over the window (${cpu.seconds.toFixed(0)} s incl. grace): backend ${backendCores.toFixed(2)} cores (${bcpu.pidCores[backend.pid].toFixed(2)} with 1 room; its main thread on a CPU ${cpu.mainThreadCores[backend.pid].toFixed(2)}, ` +
      `runnable but waiting for a CPU ${(cpu.mainThreadWaitShare[backend.pid] * 100).toFixed(0)}% of the time, event-loop utilisation ${bstats.elu.toFixed(2)}), ` +
      `generators ${genCores.map((c, i) => `${c.toFixed(2)} (ELU ${r.elus[i].toFixed(2)})`).join(' + ')}, other processes ${cpu.otherCores.toFixed(2)} (of ${cpu.totalCores})`;
    const idleOk = r.idleAtEnd;
    const roomsOk = Math.min(forwarding, r.activeAtEnd / 2);
    console.log(`[${BENCH}] ${fmtInt(idleOk)} idle + ${fmtInt(roomsOk)} active rooms: ${describeRelay(r)}`);
    console.log(`[${BENCH}] gaps ${r.gaps} (${r.missing} events), duplicates ${r.duplicates}, resyncs ${r.resyncs}; generator send lag p50 ${fmtMs(r.sendLag.p50)} p99 ${fmtMs(r.sendLag.p99)} max ${fmtMs(r.sendLag.max)}; ~${fmtInt(r.bytesPerBatch)} B JSON per batch`);
    console.log(`[${BENCH}] disconnects in the window: ${JSON.stringify(r.disconnects)}`);
    const q = quietSamples(r.samples, r.sampleSentAt, slices, QUIET_CORES);
    const quietNote =
      q.sorted.length > 0
        ? `in the ${q.quietSeconds.toFixed(0)} of ${q.totalSeconds.toFixed(0)} s when other processes took < ${QUIET_CORES} cores (that second and the one before): p50 ${fmtMs(percentileSorted(q.sorted, 50))}, p95 ${fmtMs(percentileSorted(q.sorted, 95))}, p99 ${fmtMs(percentileSorted(q.sorted, 99))} (${fmtInt(q.sorted.length)} events)`
        : `no second of the window had other processes under ${QUIET_CORES} cores`;
    console.log(`[${BENCH}] other processes' cores per second: ${slices.map((x) => x.otherCores.toFixed(2)).join(' ')}; relay ${quietNote}`);
    console.log(`[${BENCH}] backend RSS ${fmtBytes(mem.rss)} (max sampled ${fmtBytes(rssMax)}, peak VmHWM ${fmtBytes(mem.peak)}; JS heap ${fmtBytes(bstats.heapUsed)}; after the baseline ${fmtBytes(rssQuiet)}); ${cpuNote}`);

    const delivered = r.sentEvents ? r.receivedEvents / r.sentEvents : NaN;
    const scaleMet = idleOk >= 10_000 && roomsOk >= 500 && delivered === 1;
    const tuned = idleN < 10_000 || activeM < 500;
    const ratio = r.latency.p99 / baseline.latency.p99;
    const scaleNote =
      `${fmtInt(idleOk)} idle sockets + ${fmtInt(roomsOk)} active rooms (asked ${fmtInt(idleN)} + ${fmtInt(activeM)}; ${procs} generator processes` +
      `${pinned ? '; backend pinned to CPU 0, generators to CPU 1' : ''}) held for ${seconds} s`;
    const lagNote = r.sendLag.p99 > 50 ? `; the generators were late on their own sends (p99 ${fmtMs(r.sendLag.p99)}), so they were short of CPU too and the relay figure includes their queueing` : '';
    return [
      atMost(
        BENCH,
        `relay tab emit → agent receipt with ${scaleNote}: ${describeRelay(r)}; ${quietNote}; baseline (0 idle, 1 room, same backend, same run) p50 ${fmtMs(baseline.latency.p50)}, p99 ${fmtMs(baseline.latency.p99)} → p99 ratio ${fmtRatio(ratio)}; ${cpuNote}${lagNote}`,
        r.latency.p99,
        100,
        TARGET_P99,
        ' ms',
      ),
      atMost(BENCH, `backend RSS ${fmtBytes(rssMax)} under the load (${scaleNote}; after the 1-room baseline ${fmtBytes(rssQuiet)}, peak VmHWM ${fmtBytes(mem.peak)})`, rssMax, RSS_LIMIT, TARGET_RSS, ' B'),
      {
        bench: BENCH,
        figure:
          `${scaleNote}; delivered ${(delivered * 100).toFixed(delivered === 1 ? 0 : 3)}% of the events sent in the window (gaps ${r.gaps}, duplicates ${r.duplicates}, resyncs ${r.resyncs}, disconnects ${JSON.stringify(r.disconnects)}); ` +
          `idle tabs' tokens ${idleMint === 'sign' ? "signed with the backend's own TokenSigner and secret (POST /ingest/v1/start costs ~1.5 ms of backend CPU each)" : 'from POST /ingest/v1/start'}, active tabs' from POST /ingest/v1/start`,
        target: `${TARGET_SCALE}, 100% delivered`,
        met: tuned ? null : scaleMet,
        gap: tuned
          ? `run with ROOMS_IDLE=${idleN} ROOMS_ACTIVE=${activeM}: below the target's scale`
          : scaleMet
            ? undefined
            : [
                idleOk < 10_000 ? `${fmtInt(10_000 - idleOk)} idle sockets short` : '',
                roomsOk < 500 ? `${fmtInt(500 - roomsOk)} rooms short` : '',
                delivered < 1 ? `${fmtInt(r.sentEvents - r.receivedEvents)} events not delivered` : '',
              ].filter(Boolean).join('; '),
      },
    ];
  } finally {
    for (const c of children) await c.stop().catch(() => {});
    const out = backend.output().trim();
    if (out) console.log(`[${BENCH}] backend output (last 1500 chars): ${out.slice(-1500)}`);
    await backend.close();
  }
}

/** Rooms across two nodes: the same rooms relayed within node A, then to agents on node B (see the header). */
export async function runRoomsTwoNodes(opts: { active?: number; seconds?: number } = {}): Promise<ResultRow[]> {
  const activeM = opts.active ?? Number(process.env.ROOMS2_ACTIVE ?? 100);
  const seconds = opts.seconds ?? Number(process.env.ROOMS2_SECONDS ?? 15);
  const bench = 'rooms-2-nodes';
  const { startRedis, stopChild } = await import('../../e2e/tests/support/cluster.js');
  const { freePort } = await import('../../e2e/tests/support/backend-process.js');
  const { spawnChdbHttpServer } = await import('@tandem/storage/testing');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(resolve(tmpdir(), 'tandem-rooms2-'));
  const redisPort = await freePort();
  const redis = await startRedis(redisPort);
  const chdb = await spawnChdbHttpServer({ dataDir: resolve(dir, 'chdb') });
  const secret = randomBytes(32).toString('base64url');
  const unlimited = { perSecond: 1_000_000, burst: 1_000_000 };
  const shared = {
    secret, redisUrl: `redis://127.0.0.1:${redisPort}`, clickhouseUrl: chdb.url,
    startRateLimit: unlimited, liveConnectRateLimit: unlimited, liveProjectConnectRateLimit: unlimited,
  };
  const nodes: BackendChild[] = [];
  const children: IpcChild[] = [];
  try {
    nodes.push(await startBackendChild({ overrides: { ...shared, nodeId: 'node-a' } }));
    nodes.push(await startBackendChild({ overrides: { ...shared, nodeId: 'node-b' } }));
    const [A, B] = nodes;
    const cookie = await loginCookie(A.url);
    const base: Omit<RoomsLoadConfig, 'active'> = {
      url: A.url, projectKey: A.projectKey, projectId: A.projectId, secret, cookie, idle: 0, idleMint: 'sign',
      batchesPerSecond: 20, eventsMin: 2, eventsMax: 4, connectConcurrency: 50, mintConcurrency: 64, seed: 1,
    };
    // Both measured in the same window, half of the rooms each (agents on A, agents on B; every tab on
    // A): the machine's load, node A's work and Redis are the same for both, so the ratio compares the
    // paths and not two moments of a shared machine (run one after the other, a busier second phase
    // alone could double the ratio).
    const half = Math.ceil(activeM / 2);
    const start = async (label: string, agentUrl: string, active: number, seed: number) => {
      const g = await setupChild(`${bench}-${label}`, { ...base, agentUrl, active, seed }, 300_000);
      children.push(g.child);
      return g;
    };
    const gSame = await start('within node A', A.url, half, 1);
    const gCross = await start('tab on A, agent on B', B.url, activeM - half, 2);
    await new Promise((r) => setTimeout(r, 3000));
    const [sameR, crossR] = await Promise.all([measure(gSame.child, seconds * 1000, 2000), measure(gCross.child, seconds * 1000, 2000)]);
    const same = { result: sameR, forwarding: gSame.ready.forwarding };
    const cross = { result: crossR, forwarding: gCross.ready.forwarding };
    for (const [label, r] of [['within node A', sameR], ['tab on A, agent on B', crossR]] as const) {
      console.log(`[${bench}] ${label}: ${describeRelay(r)}; gaps ${r.gaps}, duplicates ${r.duplicates}, resyncs ${r.resyncs}`);
    }
    const ratio = cross.result.latency.p99 / same.result.latency.p99;
    const load = (await import('node:os')).loadavg()[0].toFixed(1);
    const figure =
      `${activeM} rooms at 20 msg/s, tabs on node A, ${seconds} s, both measured in the same window: ${activeM - half} rooms with their agent on node B (relay crosses nodes through Redis) ` +
      `${describeRelay(cross.result)} (${cross.forwarding} forwarding) vs ${half} with their agent on node A ${describeRelay(same.result)} (${same.forwarding} forwarding) → cross-node p99 ${fmtRatio(ratio)} of one node; ` +
      `gaps ${cross.result.gaps}/${same.result.gaps}, duplicates ${cross.result.duplicates}/${same.result.duplicates}; machine load average ${load}`;
    return [atMost(bench, figure, ratio, 2, 'two nodes via Redis: cross-node p99 within 2× of one node', '×')];
  } finally {
    for (const c of children) await c.stop().catch(() => {});
    for (const n of nodes) await n.close().catch(() => {});
    await chdb.close();
    await stopChild(redis);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) {
  try {
    recordResults(process.env.ROOMS_NODES === '2' ? await runRoomsTwoNodes() : await runRooms());
  } catch (err) {
    console.error(err);
    recordResults([{ bench: BENCH, figure: 'not run', target: `${TARGET_SCALE}; ${TARGET_P99}; ${TARGET_RSS}`, met: null, gap: (err as Error).message.split('\n')[0] }]);
    process.exitCode = 1;
  }
}
