/**
 * Load generator of the rooms bench, run as a child process (its own event loop and CPU): either
 *
 * - **idle**: N tab sockets (socket.io-client, websocket transport, one connection each) on `/assist`, each
 *   authenticated with its own session token, that then do nothing (as tabs nobody watches), or
 * - **active**: M rooms, each a tab socket that forwards live:events once an agent watches it, and one agent
 *   socket (the admin's login cookie) that joins the session with `live:join`. Tabs send 20 batches/s of a
 *   few mutation events each; the agent's receipt time minus the tab's emit time (same process, same
 *   clock: performance.now()) is the relay latency.
 *
 * Frugal on the 2 cores: one 5 ms timer drives every room (no per-socket intervals), sockets are opened
 * through a bounded pool, payloads are small.
 *
 * IPC: parent sends {type:'setup', cfg} → child answers 'ready' (with what connected); {type:'measure'} →
 * 'measured'; {type:'stop'} → closes every socket and exits.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { io, type Socket } from 'socket.io-client';
import { ASSIST_NAMESPACE, PROTOCOL_VERSION } from '@tandem/protocol';
import { rng } from '../ingest-load.js';
import { RelayTracker, Samples, mutationBatch, percentileSorted, startOfRun } from './live-events.js';

export interface RoomsLoadConfig {
  url: string;
  /** Where agent sockets connect (another node of a cluster: the rooms' relay crosses nodes); default `url`. */
  agentUrl?: string;
  projectKey: string;
  projectId: string;
  /** idle tab sockets this process holds */
  idle: number;
  /** active rooms (tab + agent) this process drives */
  active: number;
  /** How idle tabs get tokens. 'start': POST /ingest/v1/start each; 'sign': the backend's own TokenSigner with the shared secret. Active tabs always use start. */
  idleMint: 'start' | 'sign';
  secret?: string;
  /** Agent login cookie (active only). */
  cookie?: string;
  batchesPerSecond: number;
  /** events per batch: uniformly between min and max */
  eventsMin: number;
  eventsMax: number;
  connectConcurrency: number;
  mintConcurrency: number;
  seed: number;
}

export interface MeasureRequest {
  windowMs: number;
  graceMs: number;
}

export interface PhaseTimes {
  mintMs: number;
  connectMs: number;
  joinMs: number;
}

export interface ReadyInfo {
  idleRequested: number;
  idleConnected: number;
  activeRequested: number;
  /** active tabs connected */
  activeConnected: number;
  /** connect_error / join error messages and how often */
  errors: Record<string, number>;
  /** active: rooms whose agent joined and whose tab was told to forward */
  forwarding: number;
  joined: number;
  idleTimes: PhaseTimes;
  activeTimes: PhaseTimes;
  rssBytes: number;
}

export interface MeasureResult {
  windowMs: number;
  /** sockets of this process connected when the window opened / closed (idle tabs; active tabs + agents) */
  idleAtStart: number;
  idleAtEnd: number;
  activeAtStart: number;
  activeAtEnd: number;
  disconnects: Record<string, number>;
  // active only
  sentEvents: number;
  receivedEvents: number;
  sentBatches: number;
  latency: { n: number; p50: number; p95: number; p99: number; max: number; mean: number };
  /** every latency sample of the window (ms), in receipt order, so several processes' samples can be merged */
  samples: Float64Array;
  /** each sample's send time, epoch ms (performance.timeOrigin + performance.now()) */
  sampleSentAt: Float64Array;
  gaps: number;
  missing: number;
  duplicates: number;
  resyncs: number;
  /** how late the generator's timer was on its sends (ms): a busy generator delays sends, not relays */
  sendLag: { p50: number; p99: number; max: number };
  lagSamples: Float64Array;
  bytesPerBatch: number;
  /** this process: event-loop utilisation and CPU over the window */
  elu: number;
  cpuCores: number;
  rssBytes: number;
}

type ToChild = { type: 'setup'; cfg: RoomsLoadConfig } | ({ type: 'measure' } & MeasureRequest) | { type: 'stop' };
type FromChild =
  | { type: 'progress'; text: string }
  | { type: 'ready'; info: ReadyInfo }
  | { type: 'measured'; result: MeasureResult }
  | { type: 'error'; message: string };

const send = (m: FromChild) => process.send?.(m);
const progress = (text: string) => send({ type: 'progress', text });

function newId(): string {
  return randomBytes(12).toString('base64url');
}

interface Minted {
  sessionId: string;
  tabId: string;
  token: string;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

async function mintTokens(cfg: RoomsLoadConfig, count: number, mint: 'start' | 'sign'): Promise<Minted[]> {
  const idx = Array.from({ length: count }, (_, i) => i);
  if (mint === 'sign') {
    if (!cfg.secret) throw new Error('mint=sign needs the backend secret');
    const { TokenSigner } = await import('../../../backend/src/auth/tokens.js');
    const signer = new TokenSigner(cfg.secret);
    return pool(idx, 64, async () => {
      const sessionId = newId();
      const tabId = newId();
      const { token } = await signer.signSession({ pid: cfg.projectId, sid: sessionId, tid: tabId, vid: newId() });
      return { sessionId, tabId, token };
    });
  }
  return pool(idx, cfg.mintConcurrency, async (i) => {
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(`${cfg.url}/ingest/v1/start`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          v: PROTOCOL_VERSION,
          projectKey: cfg.projectKey,
          url: `https://shop.example.com/cart?tab=${i}`,
          title: 'Cart',
          userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36',
          clientTime: Date.now(),
        }),
      });
      if (res.ok) {
        const b = (await res.json()) as Minted;
        return { sessionId: b.sessionId, tabId: b.tabId, token: b.token };
      }
      const text = await res.text();
      if (attempt >= 3) throw new Error(`POST /ingest/v1/start answered ${res.status}: ${text.slice(0, 200)}`);
      await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
    }
  });
}

function tabSocket(cfg: RoomsLoadConfig, m: Minted, i: number): Socket {
  return io(cfg.url + ASSIST_NAMESPACE, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    timeout: 30_000,
    auth: {
      role: 'tab',
      v: PROTOCOL_VERSION,
      token: m.token,
      resume: false,
      page: { url: `https://shop.example.com/cart?tab=${i}`, title: 'Cart', visible: i % 3 === 0, focused: i % 3 === 0 },
    },
  });
}

function agentSocket(cfg: RoomsLoadConfig): Socket {
  return io((cfg.agentUrl ?? cfg.url) + ASSIST_NAMESPACE, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    timeout: 30_000,
    extraHeaders: { cookie: cfg.cookie ?? '' },
    auth: { role: 'agent', v: PROTOCOL_VERSION },
  });
}

/** Resolves when the socket connects, or with the error message when it cannot. */
function connected(s: Socket, timeoutMs = 30_000): Promise<string | null> {
  return new Promise((resolve) => {
    if (s.connected) return resolve(null);
    const t = setTimeout(() => done('timeout'), timeoutMs);
    const done = (err: string | null) => {
      clearTimeout(t);
      s.off('connect', onOk);
      s.off('connect_error', onErr);
      resolve(err);
    };
    const onOk = () => done(null);
    const onErr = (e: Error & { data?: { code?: string } }) => done(`connect_error: ${e.data?.code ?? e.message}`);
    s.on('connect', onOk);
    s.on('connect_error', onErr);
  });
}

const count = (rec: Record<string, number>, k: string) => (rec[k] = (rec[k] ?? 0) + 1);

// ------------------------------------------------------------------------------------------- state

interface Room {
  i: number;
  minted: Minted;
  tab: Socket;
  agent?: Socket;
  tracker: RelayTracker;
  forwarding: boolean;
  seq: number;
  next: number;
  nextId: { value: number };
}

let cfg: RoomsLoadConfig;
const sockets: Socket[] = [];
const idleSockets: Socket[] = [];
const rooms: Room[] = [];
const bySession = new Map<string, Room>();
const errors: Record<string, number> = {};
let disconnects: Record<string, number> = {};
let measuring = false;
let latencies = new Samples();
let sentTimes = new Samples();
let lags = new Samples();
let sentEvents = 0;
let sentBatches = 0;
let sentBytes = 0;
let resyncs = 0;
let tickTimer: NodeJS.Timeout | undefined;
const r = rng(1);

function watchDisconnects(s: Socket): void {
  s.on('disconnect', (reason) => count(disconnects, reason));
}

async function setupIdle(): Promise<{ connected: number; times: PhaseTimes }> {
  if (cfg.idle === 0) return { connected: 0, times: { mintMs: 0, connectMs: 0, joinMs: 0 } };
  const t0 = performance.now();
  const minted = await mintTokens(cfg, cfg.idle, cfg.idleMint);
  const t1 = performance.now();
  progress(`idle: minted ${minted.length} tokens (${cfg.idleMint}) in ${((t1 - t0) / 1000).toFixed(1)} s`);
  let ok = 0;
  let lastReport = t1;
  await pool(minted, cfg.connectConcurrency, async (m, i) => {
    const s = tabSocket(cfg, m, i);
    const err = await connected(s);
    if (err) {
      count(errors, err);
      s.close();
      return;
    }
    ok++;
    sockets.push(s);
    idleSockets.push(s);
    watchDisconnects(s);
    if (performance.now() - lastReport > 2000) {
      lastReport = performance.now();
      progress(`idle: ${ok} connected (${((ok / (lastReport - t1)) * 1000).toFixed(0)}/s)`);
    }
  });
  const t2 = performance.now();
  return { connected: ok, times: { mintMs: t1 - t0, connectMs: t2 - t1, joinMs: 0 } };
}

function sendBatch(room: Room, now: number): void {
  const n = cfg.eventsMin + Math.floor(r() * (cfg.eventsMax - cfg.eventsMin + 1));
  const events = mutationBatch(r, room.seq, Date.now(), n, room.nextId);
  const at = performance.now();
  for (let k = 0; k < n; k++) room.tracker.sent(room.seq + k, at, measuring);
  room.seq += n;
  room.tab.emit('live:events', { events });
  if (measuring) {
    sentEvents += n;
    sentBatches++;
    lags.push(now - room.next);
    if (sentBatches % 64 === 0) sentBytes += JSON.stringify(events).length * 64;
  }
}

function startRun(room: Room): void {
  const events = startOfRun(room.seq, Date.now());
  const at = performance.now();
  for (let k = 0; k < events.length; k++) room.tracker.sent(room.seq + k, at, false);
  room.seq += events.length;
  room.tab.emit('live:events', { events });
}

function tick(): void {
  const now = performance.now();
  const period = 1000 / cfg.batchesPerSecond;
  for (const room of rooms) {
    if (!room.forwarding || now < room.next) continue;
    sendBatch(room, now);
    room.next += period;
    // More than a second behind (the generator was starved): do not burst to catch up.
    if (now - room.next > 1000) room.next = now + period;
  }
}

async function setupActive(): Promise<{ connected: number; joined: number; forwarding: number; times: PhaseTimes }> {
  if (cfg.active === 0) return { connected: 0, joined: 0, forwarding: 0, times: { mintMs: 0, connectMs: 0, joinMs: 0 } };
  const t0 = performance.now();
  const minted = await mintTokens(cfg, cfg.active, 'start');
  const t1 = performance.now();
  progress(`active: minted ${minted.length} tokens (start) in ${((t1 - t0) / 1000).toFixed(1)} s`);
  const period = 1000 / cfg.batchesPerSecond;
  // Tabs first (a tab must be in its room before an agent can join it).
  await pool(minted, cfg.connectConcurrency, async (m, i) => {
    const tab = tabSocket(cfg, m, i);
    const room: Room = {
      i, minted: m, tab, tracker: new RelayTracker(), forwarding: false, seq: 0,
      // Spread the rooms' send times evenly over one period.
      next: 0, nextId: { value: 1000 },
    };
    room.next = (i / cfg.active) * period;
    tab.on('live:start', () => {
      if (room.forwarding) resyncs++;
      room.forwarding = true;
      startRun(room);
      const now = performance.now();
      room.next = now + ((room.i / cfg.active) * period) + period;
    });
    tab.on('live:stop', () => (room.forwarding = false));
    const err = await connected(tab);
    if (err) {
      count(errors, `tab ${err}`);
      tab.close();
      return;
    }
    watchDisconnects(tab);
    sockets.push(tab);
    rooms.push(room);
    bySession.set(m.sessionId, room);
  });
  const t2 = performance.now();
  progress(`active: ${rooms.length} tabs connected in ${((t2 - t1) / 1000).toFixed(1)} s`);
  tickTimer = setInterval(tick, 5);
  let joined = 0;
  await pool(rooms, cfg.connectConcurrency, async (room) => {
    const agent = agentSocket(cfg);
    agent.on('live:events', (msg: { sessionId: string; events: { seq: number }[] }) => {
      const at = performance.now();
      const target = bySession.get(msg.sessionId);
      if (!target) return;
      for (const e of msg.events) target.tracker.received(e.seq, at, latencies, sentTimes);
    });
    const err = await connected(agent);
    if (err) {
      count(errors, `agent ${err}`);
      agent.close();
      return;
    }
    watchDisconnects(agent);
    sockets.push(agent);
    room.agent = agent;
    // A join through another node (agentUrl on node B) can find the session not claimed yet, or its
    // node slow to answer on a loaded machine: retried for up to 20 s, so every room is measured.
    const deadline = performance.now() + 20_000;
    let res: { ok: boolean; error?: { code?: string; message?: string } };
    for (;;) {
      res = await agent
        .timeout(30_000)
        .emitWithAck('live:join', { sessionId: room.minted.sessionId })
        .catch((e: Error) => ({ ok: false, error: { code: 'timeout', message: e.message } }));
      const retryable = res?.error?.code === 'not_found' || res?.error?.code === 'unavailable';
      if (res?.ok || !retryable || performance.now() > deadline) break;
      count(errors, `live:join retried after ${res.error?.code}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    if (res?.ok) joined++;
    else count(errors, `live:join ${res?.error?.code ?? 'no answer'}: ${String(res?.error?.message ?? '').slice(0, 80)}`);
  });
  const t3 = performance.now();
  // Give the last tabs a moment to be told to forward.
  const deadline = performance.now() + 10_000;
  while (rooms.filter((x) => x.forwarding).length < joined && performance.now() < deadline) await new Promise((res) => setTimeout(res, 100));
  const forwarding = rooms.filter((x) => x.forwarding).length;
  return { connected: rooms.length, joined, forwarding, times: { mintMs: t1 - t0, connectMs: t2 - t1, joinMs: t3 - t2 } };
}

async function measure(req: MeasureRequest): Promise<MeasureResult> {
  const live = (xs: Socket[]) => xs.filter((s) => s.connected).length;
  disconnects = {};
  latencies = new Samples();
  sentTimes = new Samples();
  lags = new Samples();
  sentEvents = sentBatches = sentBytes = resyncs = 0;
  for (const room of rooms) {
    room.tracker.sentInWindow = room.tracker.receivedInWindow = 0;
    room.tracker.gaps = room.tracker.missing = room.tracker.duplicates = 0;
  }
  const idleAtStart = live(idleSockets);
  const activeAtStart = live(sockets) - idleAtStart;
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  measuring = true;
  await new Promise((res) => setTimeout(res, req.windowMs));
  measuring = false;
  const windowMs = performance.now() - t0;
  const elu = performance.eventLoopUtilization(elu0).utilization;
  const cpu = process.cpuUsage(cpu0);
  const idleAtEnd = live(idleSockets);
  const activeAtEnd = live(sockets) - idleAtEnd;
  // Let what was sent in the window arrive.
  await new Promise((res) => setTimeout(res, req.graceMs));
  const s = latencies.toSorted();
  const l = lags.toSorted();
  let sum = 0;
  for (let i = 0; i < s.length; i++) sum += s[i];
  const agg = rooms.reduce(
    (a, x) => ({ sent: a.sent + x.tracker.sentInWindow, rec: a.rec + x.tracker.receivedInWindow, gaps: a.gaps + x.tracker.gaps, missing: a.missing + x.tracker.missing, dup: a.dup + x.tracker.duplicates }),
    { sent: 0, rec: 0, gaps: 0, missing: 0, dup: 0 },
  );
  return {
    windowMs, idleAtStart, idleAtEnd, activeAtStart, activeAtEnd, disconnects,
    sentEvents: agg.sent, receivedEvents: agg.rec, sentBatches,
    latency: { n: s.length, p50: percentileSorted(s, 50), p95: percentileSorted(s, 95), p99: percentileSorted(s, 99), max: s.length ? s[s.length - 1] : NaN, mean: s.length ? sum / s.length : NaN },
    gaps: agg.gaps, missing: agg.missing, duplicates: agg.dup, resyncs,
    samples: latencies.toArray(),
    sampleSentAt: sentTimes.toArray().map((t) => performance.timeOrigin + t),
    sendLag: { p50: percentileSorted(l, 50), p99: percentileSorted(l, 99), max: l.length ? l[l.length - 1] : NaN },
    lagSamples: l,
    bytesPerBatch: sentBatches >= 64 ? sentBytes / (Math.floor(sentBatches / 64) * 64) : NaN,
    elu, cpuCores: (cpu.user + cpu.system) / 1000 / windowMs, rssBytes: process.memoryUsage().rss,
  };
}

async function childMain(): Promise<void> {
  process.on('message', async (m: ToChild) => {
    try {
      if (m.type === 'setup') {
        cfg = m.cfg;
        const idle = await setupIdle();
        const active = await setupActive();
        send({
          type: 'ready',
          info: {
            idleRequested: cfg.idle, idleConnected: idle.connected, activeRequested: cfg.active, activeConnected: active.connected,
            joined: active.joined, forwarding: active.forwarding, errors, idleTimes: idle.times, activeTimes: active.times,
            rssBytes: process.memoryUsage().rss,
          },
        });
      } else if (m.type === 'measure') {
        send({ type: 'measured', result: await measure(m) });
      } else if (m.type === 'stop') {
        if (tickTimer) clearInterval(tickTimer);
        for (const s of sockets) s.close();
        setTimeout(() => process.exit(0), 200);
      }
    } catch (err) {
      send({ type: 'error', message: (err as Error).stack?.split('\n').slice(0, 5).join(' ') ?? String(err) });
    }
  });
  process.on('disconnect', () => process.exit(0));
}

if (process.env.TANDEM_ROOMS_CHILD === '1' && process.send) void childMain();
