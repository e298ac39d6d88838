/**
 * rooms: the real backend (startServer in a child process of its own, temp dataDir) holding N idle tab
 * sockets and M active rooms, each streaming 20 live:events batches/s from its tab socket to one agent
 * socket. Load generators are two more child processes (bench/src/lib/rooms-load.ts): one holds the idle
 * tabs, the other the active tabs and their agents (so a relay's emit and receipt are stamped by the same
 * clock). Baseline in the same run, on the same backend before the load: 0 idle sockets and 1 room.
 *
 *   node --import tsx bench/src/rooms.ts     (ROOMS_IDLE=10000 ROOMS_ACTIVE=500 ROOMS_SECONDS=20)
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { startBackendChild, type BackendChild } from './lib/backend-child.js';
import { forkChild, loginCookie, type IpcChild } from './lib/live-common.js';
import type { MeasureResult, ReadyInfo, RoomsLoadConfig } from './lib/rooms-load.js';
import { BENCH_ROOT, atMost, recordResults, type ResultRow } from './lib/report.js';
import { fmtBytes, fmtInt, fmtMs, fmtRatio } from './lib/stats.js';
import { cpuBetween, sampleCpu } from './lib/sysload.js';
import { isMain } from './lib/main.js';

const BENCH = 'rooms';
const TARGET_SCALE = '10,000 idle sockets + 500 active rooms at 20 msg/s on one process';
const TARGET_P99 = 'p99 relay ≤ 100 ms';
const TARGET_RSS = 'backend RSS ≤ 1.5 GB';
const RSS_LIMIT = 1.5 * 1024 ** 3;

export interface RoomsOptions {
  idle?: number;
  active?: number;
  seconds?: number;
  baselineSeconds?: number;
  /** How idle tabs get their tokens: 'sign' (the backend's TokenSigner, shared secret) or 'start' (POST /ingest/v1/start each). */
  idleMint?: 'sign' | 'start';
}

const LOAD_FILE = resolve(BENCH_ROOT, 'src/lib/rooms-load.ts');

interface Phase {
  ready: ReadyInfo;
  result: MeasureResult;
}

function loadConfig(base: Omit<RoomsLoadConfig, 'role' | 'count' | 'mint'>, role: 'idle' | 'active', count: number, mint: 'sign' | 'start'): RoomsLoadConfig {
  return { ...base, role, count, mint };
}

async function setupChild(label: string, cfg: RoomsLoadConfig, timeoutMs: number): Promise<{ child: IpcChild; ready: ReadyInfo }> {
  const child = forkChild(LOAD_FILE, { TANDEM_ROOMS_CHILD: '1' }, label);
  try {
    const { info } = await child.request<{ info: ReadyInfo }>({ type: 'setup', cfg }, 'ready', timeoutMs);
    console.log(
      `[${label}] ready: ${info.connected}/${info.requested} connected` +
        (info.role === 'active' ? `, ${info.joined} joined, ${info.forwarding} forwarding` : '') +
        ` (mint ${(info.times.mintMs / 1000).toFixed(1)} s, connect ${(info.times.connectMs / 1000).toFixed(1)} s` +
        (info.role === 'active' ? `, agents+join ${(info.times.joinMs / 1000).toFixed(1)} s` : '') +
        `; generator RSS ${fmtBytes(info.rssBytes)})` +
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
  const baseSeconds = opts.baselineSeconds ?? Math.min(10, seconds);
  const idleMint = opts.idleMint ?? ((process.env.ROOMS_IDLE_MINT as 'sign' | 'start' | undefined) ?? 'sign');
  const secret = randomBytes(32).toString('base64url');
  // Every simulated tab and agent connects from 127.0.0.1: the per-IP limits are meant for real networks
  // (one office behind a NAT), so the bench raises them. Per-tab and per-message limits stay at their defaults.
  const unlimited = { perSecond: 1_000_000, burst: 1_000_000 };
  const overrides: Record<string, unknown> = { startRateLimit: unlimited, secret, connectRateLimit: unlimited, liveConnectRateLimit: unlimited };
  const backend = await startBackendChild({ overrides });
  const children: IpcChild[] = [];
  try {
    console.log(`[${BENCH}] backend child pid ${backend.pid} at ${backend.url} (dataDir ${backend.dataDir}); RSS at start ${fmtBytes(backend.procMem().rss)}`);
    console.log(`[${BENCH}] per-IP limits raised for the bench (all sockets come from 127.0.0.1): ${Object.keys(overrides).filter((k) => k !== 'secret').join(', ')}`);
    const cookie = await loginCookie(backend.url);
    const base: Omit<RoomsLoadConfig, 'role' | 'count' | 'mint'> = {
      url: backend.url, projectKey: backend.projectKey, projectId: backend.projectId, secret, cookie,
      batchesPerSecond: 20, eventsMin: 2, eventsMax: 4, connectConcurrency: 100, mintConcurrency: 128, seed: 1,
    };

    // ---- baseline: 0 idle sockets, 1 room, same backend, before any load
    const b = await setupChild('rooms-baseline', loadConfig(base, 'active', 1, 'start'), 60_000);
    children.push(b.child);
    if (b.ready.forwarding < 1) throw new Error(`baseline room never forwarded: ${JSON.stringify(b.ready.errors)}`);
    await new Promise((r) => setTimeout(r, 1000));
    const baseline: Phase = { ready: b.ready, result: await measure(b.child, baseSeconds * 1000, 1500) };
    await b.child.stop();
    children.pop();
    console.log(`[${BENCH}] baseline (0 idle, 1 room, ${baseSeconds} s): ${describeRelay(baseline.result)}`);
    const rssQuiet = backend.procMem().rss;

    // ---- the load: idle tabs first (ramp), then the active rooms
    const idle = idleN > 0 ? await setupChild('rooms-idle', loadConfig(base, 'idle', idleN, idleMint), 300_000) : undefined;
    if (idle) children.push(idle.child);
    const rssAfterIdle = backend.procMem().rss;
    console.log(`[${BENCH}] backend RSS with ${fmtInt(idle?.ready.connected ?? 0)} idle sockets: ${fmtBytes(rssAfterIdle)} (${fmtBytes((rssAfterIdle - rssQuiet) / Math.max(1, idle?.ready.connected ?? 0))} per socket over the quiet ${fmtBytes(rssQuiet)})`);
    const active = await setupChild('rooms-active', loadConfig(base, 'active', activeM, 'start'), 300_000);
    children.push(active.child);
    // Warm-up: every room streaming before the window opens.
    await new Promise((r) => setTimeout(r, 3000));

    let rssMax = 0;
    const rssTimer = setInterval(() => (rssMax = Math.max(rssMax, backend.procMem().rss)), 500);
    await backend.stats(); // resets the backend's event-loop utilisation window
    const pids = [backend.pid, active.child.pid, ...(idle ? [idle.child.pid] : [])];
    const cpu0 = sampleCpu(pids);
    const [activeRes, idleRes] = await Promise.all([
      measure(active.child, seconds * 1000, 2000),
      idle ? measure(idle.child, seconds * 1000, 2000) : Promise.resolve(undefined),
    ]);
    const cpu1 = sampleCpu(pids);
    clearInterval(rssTimer);
    const bstats = await backend.stats();
    const mem = backend.procMem();
    rssMax = Math.max(rssMax, mem.rss);
    const cpu = cpuBetween(cpu0, cpu1);
    const backendCores = cpu.pidCores[backend.pid];
    const activeCores = cpu.pidCores[active.child.pid];
    const idleCores = idle ? cpu.pidCores[idle.child.pid] : 0;
    const cpuNote =
      `CPU over the window (${cpu.seconds.toFixed(0)} s incl. grace): backend ${backendCores.toFixed(2)} cores (event-loop utilisation ${bstats.elu.toFixed(2)}), ` +
      `active generator ${activeCores.toFixed(2)} (ELU ${activeRes.elu.toFixed(2)}), idle generator ${idleCores.toFixed(2)}, other processes ${cpu.otherCores.toFixed(2)} (of ${cpu.totalCores})`;
    console.log(`[${BENCH}] ${fmtInt(idleRes?.connectedAtEnd ?? 0)} idle + ${activeRes.connectedAtEnd / 2} active rooms: ${describeRelay(activeRes)}`);
    console.log(`[${BENCH}] gaps ${activeRes.gaps} (${activeRes.missing} events), duplicates ${activeRes.duplicates}, resyncs ${activeRes.resyncs}; generator send lag p50 ${fmtMs(activeRes.sendLag.p50)} p99 ${fmtMs(activeRes.sendLag.p99)} max ${fmtMs(activeRes.sendLag.max)}; ~${fmtInt(activeRes.bytesPerBatch)} B JSON per batch`);
    console.log(`[${BENCH}] disconnects in the window: active ${JSON.stringify(activeRes.disconnects)}, idle ${JSON.stringify(idleRes?.disconnects ?? {})}`);
    console.log(`[${BENCH}] backend RSS ${fmtBytes(mem.rss)} (max sampled ${fmtBytes(rssMax)}, peak VmHWM ${fmtBytes(mem.peak)}; JS heap ${fmtBytes(bstats.heapUsed)}, quiet ${fmtBytes(rssQuiet)}); ${cpuNote}`);

    const idleOk = idleRes?.connectedAtEnd ?? 0;
    const roomsOk = Math.min(active.ready.forwarding, activeRes.connectedAtEnd / 2);
    const scaleMet = idleOk >= 10_000 && roomsOk >= 500 && activeRes.receivedEvents === activeRes.sentEvents;
    const tuned = idleN < 10_000 || activeM < 500;
    const ratio = activeRes.latency.p99 / baseline.result.latency.p99;
    const scaleNote = `${fmtInt(idleOk)} idle sockets + ${fmtInt(roomsOk)} active rooms (asked ${fmtInt(idleN)} + ${fmtInt(activeM)}) held for ${seconds} s`;
    const delivered = activeRes.sentEvents ? activeRes.receivedEvents / activeRes.sentEvents : NaN;
    const rows: ResultRow[] = [
      atMost(
        BENCH,
        `relay tab emit → agent receipt with ${scaleNote}: ${describeRelay(activeRes)}; baseline (0 idle, 1 room, same backend, same run) p50 ${fmtMs(baseline.result.latency.p50)}, p99 ${fmtMs(baseline.result.latency.p99)} → p99 ratio ${fmtRatio(ratio)}; ${cpuNote}`,
        activeRes.latency.p99,
        100,
        TARGET_P99,
        ' ms',
      ),
      atMost(BENCH, `backend RSS ${fmtBytes(rssMax)} under the load (${scaleNote}; quiet backend ${fmtBytes(rssQuiet)}, peak VmHWM ${fmtBytes(mem.peak)})`, rssMax, RSS_LIMIT, TARGET_RSS, ' B'),
      {
        bench: BENCH,
        figure: `${scaleNote}; delivered ${(delivered * 100).toFixed(delivered === 1 ? 0 : 3)}% of events sent in the window (gaps ${activeRes.gaps}, duplicates ${activeRes.duplicates}, disconnects ${JSON.stringify({ ...activeRes.disconnects, ...(idleRes?.disconnects ?? {}) })}); idle tokens ${idleMint === 'sign' ? "signed with the backend's TokenSigner and secret (not POST /ingest/v1/start)" : 'from POST /ingest/v1/start'}`,
        target: `${TARGET_SCALE}, 100% delivered`,
        met: tuned ? null : scaleMet,
        gap: tuned
          ? `run with ROOMS_IDLE=${idleN} ROOMS_ACTIVE=${activeM}: below the target's scale`
          : scaleMet
            ? undefined
            : [
                idleOk < 10_000 ? `${fmtInt(10_000 - idleOk)} idle sockets short` : '',
                roomsOk < 500 ? `${fmtInt(500 - roomsOk)} rooms short` : '',
                delivered < 1 ? `${fmtInt(activeRes.sentEvents - activeRes.receivedEvents)} events not delivered` : '',
              ].filter(Boolean).join('; '),
      },
    ];
    return rows;
  } finally {
    for (const c of children) await c.stop().catch(() => {});
    const out = backend.output().trim();
    if (out) console.log(`[${BENCH}] backend output (last 1500 chars): ${out.slice(-1500)}`);
    await backend.close();
  }
}

if (isMain(import.meta.url)) {
  try {
    recordResults(await runRooms());
  } catch (err) {
    console.error(err);
    recordResults([{ bench: BENCH, figure: 'not run', target: `${TARGET_SCALE}; ${TARGET_P99}; ${TARGET_RSS}`, met: null, gap: (err as Error).message.split('\n')[0] }]);
    process.exitCode = 1;
  }
}
