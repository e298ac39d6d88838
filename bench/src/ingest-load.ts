/**
 * Load generator for the ingest bench, run as a child process (its own event loop and CPU time, not the
 * backend's). Simulates N trackers: each POSTs /ingest/v1/start with the project key, then posts gzip
 * BatchRequests of small rrweb incremental events with its Bearer token, one request in flight per tab
 * (like a tracker), no faster than `minIntervalMs` apart, for `durationMs`. Some batches are deliberately
 * replayed (sent again after their ack, as a tracker does when an ack is lost) to check deduplication.
 *
 * Bodies are generated and gzipped before the clock starts, so the generator spends its CPU on HTTP only.
 * Protocol: parent sends LoadConfig over IPC; child answers with LoadResult and exits.
 */
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import type { BatchRequest, StartRequest, StartResponse } from '@tandem/protocol';
import { cpuBetween, sampleCpu, type CpuUse } from './lib/sysload.js';

export interface LoadConfig {
  url: string;
  projectKey: string;
  sessions: number;
  eventsPerBatch: number;
  durationMs: number;
  warmupMs: number;
  minIntervalMs: number;
  /** Every Nth batch of a tab is sent a second time after its ack (0 = never). */
  replayEvery: number;
}

export interface TabResult {
  sessionId: string;
  tabId: string;
  /** highest seq the server acked for this tab */
  ackSeq: number;
  /** events in batches sent (first sends only) */
  sentEvents: number;
  /** events in first-send batches that were acked (2xx) */
  ackedEvents: number;
  replays: number;
  /** ack answers whose ackSeq was below the batch's last seq */
  badAcks: number;
  /** last seq of the last batch sent (acked or not) */
  lastSentSeq: number;
  /** true when the last batch was not acked (error or timeout at shutdown) */
  unackedTail: boolean;
}

export interface LoadResult {
  tabs: TabResult[];
  /** latency of every 2xx batch answer that started inside the measured window, ms */
  latencies: number[];
  /** events acked (first sends, 2xx) whose request started inside the measured window */
  windowEvents: number;
  windowMs: number;
  statuses: Record<string, number>;
  errors: Record<string, number>;
  startMs: number;
  batchesPrepared: number;
  bodyBytes: { wire: number; raw: number; batches: number };
  clientCpuMs: { user: number; system: number };
  /** generator CPU while the trackers ran (after bodies were prepared), and that phase's wall time */
  loadCpuMs: number;
  loadWallMs: number;
  /** CPU use on the machine while the trackers ran: the backend (parent process), the generator, everyone else */
  machine: CpuUse & { generatorCores: number; backendCores: number; backendMainThreadCores: number; backendMainThreadWait: number };
  wallMs: number;
}

// ---------- realistic small rrweb incremental events ----------
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

export function makeEvent(r: () => number, seq: number, ts: number): Record<string, unknown> {
  const p = r();
  const id = 10 + Math.floor(r() * 400);
  const x = Math.floor(r() * 1280);
  const y = Math.floor(r() * 800);
  let data: Record<string, unknown>;
  if (p < 0.45) {
    const n = 2 + Math.floor(r() * 5);
    const positions = [];
    for (let i = 0; i < n; i++) positions.push({ x: x + i * 3, y: y + i * 2, id, timeOffset: -((n - i) * 50) });
    data = { source: 1, positions };
  } else if (p < 0.55) {
    data = { source: 2, type: r() < 0.5 ? 2 : 1, id, x, y, pointerType: 0 };
  } else if (p < 0.7) {
    data = { source: 3, id: 1, x: 0, y: Math.floor(r() * 5000) };
  } else if (p < 0.82) {
    data = { source: 5, text: '*'.repeat(1 + Math.floor(r() * 12)), isChecked: false, id };
  } else {
    const nid = 1000 + seq;
    data = {
      source: 0,
      texts: r() < 0.5 ? [{ id: id + 1, value: `update ${seq}` }] : [],
      attributes: r() < 0.5 ? [{ id, attributes: { class: r() < 0.5 ? 'active' : 'item' } }] : [],
      removes: r() < 0.3 ? [{ parentId: id, id: nid - 7 }] : [],
      adds: [
        {
          parentId: id,
          nextId: null,
          node: { type: 2, tagName: 'li', attributes: { class: 'feed' }, childNodes: [], id: nid },
        },
        { parentId: nid, nextId: null, node: { type: 3, textContent: `row ${seq}`, id: nid + 100000 } },
      ],
    };
  }
  return { type: 3, data, timestamp: ts, seq };
}

// ---------- HTTP ----------
let agent = new http.Agent({ keepAlive: true, maxSockets: 100_000 });

function post(url: string, body: Buffer, headers: Record<string, string>, timeoutMs = 30_000): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function mapLimit<T, R>(xs: T[], limit: number, f: (x: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(xs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, xs.length) }, async () => {
      while (next < xs.length) {
        const i = next++;
        out[i] = await f(xs[i], i);
      }
    }),
  );
  return out;
}

export async function runLoad(cfg: LoadConfig): Promise<LoadResult> {
  const t00 = performance.now();
  const cpu0 = process.cpuUsage();
  const statuses: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const count = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);

  // 1. Start every session (like page loads).
  const starts = await mapLimit(Array.from({ length: cfg.sessions }, (_, i) => i), 50, async (i) => {
    const body: StartRequest = {
      v: 1,
      projectKey: cfg.projectKey,
      url: `https://shop.example.com/products/${i}`,
      title: 'Product page',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) tandem-bench',
      screen: { width: 1920, height: 1080 },
      viewport: { width: 1280, height: 800 },
      language: 'en-US',
      timezone: 'Europe/Paris',
      clientTime: Date.now(),
    };
    for (let attempt = 0; attempt < 20; attempt++) {
      const r = await post(`${cfg.url}/ingest/v1/start`, Buffer.from(JSON.stringify(body)), { 'content-type': 'application/json' });
      if (r.status === 200) return JSON.parse(r.text) as StartResponse;
      count(statuses, `start ${r.status}`);
      await sleep(200);
    }
    throw new Error(`start failed for session ${i}`);
  });

  // 2. Prepare every batch body before the clock starts.
  const maxBatches = Math.ceil((cfg.durationMs + cfg.warmupMs) / cfg.minIntervalMs) + 2;
  const bodyBytes = { wire: 0, raw: 0, batches: 0 };
  const t0ts = Date.now();
  const prepared: Buffer[][] = starts.map((s, si) => {
    const r = rng(si * 7919 + 17);
    const bodies: Buffer[] = [];
    let ts = t0ts;
    for (let b = 0; b < maxBatches; b++) {
      const events = [];
      for (let k = 0; k < cfg.eventsPerBatch; k++) {
        ts += 10 + Math.floor(r() * 60);
        events.push(makeEvent(r, b * cfg.eventsPerBatch + k, ts));
      }
      const req = { v: 1, sessionId: s.sessionId, tabId: s.tabId, events } as unknown as BatchRequest;
      const raw = Buffer.from(JSON.stringify(req));
      const gz = gzipSync(raw);
      bodyBytes.raw += raw.length;
      bodyBytes.wire += gz.length;
      bodyBytes.batches++;
      bodies.push(gz);
    }
    return bodies;
  });

  // 3. Run the trackers. Fresh connections: the start phase's ones sat idle while bodies were prepared
  // and the server may have closed them (a reused dead socket shows up as "socket hang up").
  agent.destroy();
  agent = new http.Agent({ keepAlive: true, maxSockets: 100_000 });
  const loadCpu0 = process.cpuUsage();
  const watch = [process.pid, process.ppid];
  process.send?.({ phase: 'load-start' });
  const sys0 = sampleCpu(watch, [process.ppid]);
  const latencies: number[] = [];
  let windowEvents = 0;
  const startMs = performance.now();
  const windowStart = startMs + cfg.warmupMs;
  const endAt = windowStart + cfg.durationMs;
  const tabs: TabResult[] = await Promise.all(
    starts.map(async (s, si) => {
      const tab: TabResult = {
        sessionId: s.sessionId,
        tabId: s.tabId,
        ackSeq: -1,
        sentEvents: 0,
        ackedEvents: 0,
        replays: 0,
        badAcks: 0,
        lastSentSeq: -1,
        unackedTail: false,
      };
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${s.token}` };
      // Spread the tabs' first requests over one interval, as real trackers are not in lockstep.
      await sleep((si / starts.length) * cfg.minIntervalMs);
      for (let b = 0; b < prepared[si].length && performance.now() < endAt; b++) {
        const lastSeq = (b + 1) * cfg.eventsPerBatch - 1;
        const sends = cfg.replayEvery > 0 && b % cfg.replayEvery === cfg.replayEvery - 1 ? 2 : 1;
        const began = performance.now();
        for (let send = 0; send < sends; send++) {
          let acked = false;
          // Retry the same body on 429/503/network errors (bounded), like the tracker's backoff.
          for (let attempt = 0; attempt < 10 && !acked; attempt++) {
            const t = performance.now();
            if (send === 0 && attempt === 0) {
              tab.sentEvents += cfg.eventsPerBatch;
              tab.lastSentSeq = lastSeq;
            }
            try {
              const r = await post(`${cfg.url}/ingest/v1/batch`, prepared[si][b], headers);
              count(statuses, String(r.status));
              if (r.status === 200) {
                acked = true;
                const ack = (JSON.parse(r.text) as { ackSeq: number }).ackSeq;
                if (ack < lastSeq) tab.badAcks++;
                tab.ackSeq = Math.max(tab.ackSeq, ack);
                if (send === 0) {
                  tab.ackedEvents += cfg.eventsPerBatch;
                  if (t >= windowStart && t < endAt) windowEvents += cfg.eventsPerBatch;
                } else tab.replays++;
                if (t >= windowStart && t < endAt) latencies.push(performance.now() - t);
              } else {
                await sleep(r.status === 429 ? 200 : 100 * (attempt + 1));
              }
            } catch (err) {
              count(errors, `${(err as Error).message.slice(0, 60)}${performance.now() < windowStart ? ' (warm-up)' : ''}`);
              await sleep(100 * (attempt + 1));
            }
          }
          if (!acked) {
            tab.unackedTail = true;
            return tab;
          }
        }
        tab.unackedTail = false;
        const wait = cfg.minIntervalMs - (performance.now() - began);
        if (wait > 0) await sleep(wait);
      }
      return tab;
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  const loadCpu = process.cpuUsage(loadCpu0);
  const sys = cpuBetween(sys0, sampleCpu(watch, [process.ppid]));
  process.send?.({ phase: 'load-end' });
  const machine = {
    ...sys,
    generatorCores: sys.pidCores[process.pid],
    backendCores: sys.pidCores[process.ppid],
    backendMainThreadCores: sys.mainThreadCores[process.ppid],
    backendMainThreadWait: sys.mainThreadWaitShare[process.ppid],
  };
  const loadWallMs = performance.now() - startMs;
  agent.destroy();
  return {
    tabs,
    latencies,
    windowEvents,
    windowMs: cfg.durationMs,
    statuses,
    errors,
    startMs,
    batchesPrepared: bodyBytes.batches,
    bodyBytes,
    clientCpuMs: { user: cpu.user / 1000, system: cpu.system / 1000 },
    loadCpuMs: (loadCpu.user + loadCpu.system) / 1000,
    machine,
    loadWallMs,
    wallMs: performance.now() - t00,
  };
}

// Child-process entry: wait for the config, run, send the result, exit.
if (process.send && process.env.TANDEM_INGEST_CHILD === '1') {
  process.once('message', async (cfg: LoadConfig) => {
    try {
      const result = await runLoad(cfg);
      process.send!({ ok: true, result }, () => process.exit(0));
    } catch (err) {
      process.send!({ ok: false, error: (err as Error).stack ?? String(err) }, () => process.exit(1));
    }
  });
}
