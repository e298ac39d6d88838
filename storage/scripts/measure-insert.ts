/**
 * Quick write-path figures on embedded chDB (not the ingest bench, which goes through HTTP):
 *   npx tsx storage/scripts/measure-insert.ts [events=100000] [tabs=200] [batch=50]
 * 1. writeBatch: `tabs` simulated trackers post batches of `batch` events concurrently; events/s, ack
 *    latency, longest event-loop stall.
 * 2. raw chDB: the same rows in one driver.insert into a bare copy of `events` (the anchor in DESIGN §10).
 * With MEASURE_STAND_IN=1 the store is the remote driver over the ClickHouse-HTTP stand-in (its own
 * process, what several backends share in the cluster tests), so both figures include the HTTP hop.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { TandemEvent } from '@tandem/protocol';
import { chTime } from '../src/encode.js';
import { openStore } from '../src/index.js';
import { spawnChdbHttpServer } from '../testing/index.js';

const total = Number(process.argv[2] ?? 100_000);
const tabs = Number(process.argv[3] ?? 200);
const batchSize = Number(process.argv[4] ?? 50);

/** A plausible rrweb mix: mostly mutations and mouse moves, some input, console and network. */
function event(seq: number, ts: number): TandemEvent {
  const r = seq % 20;
  const e = (type: number, data: unknown) => ({ type, seq, timestamp: ts, data }) as unknown as TandemEvent;
  if (seq === 0) return e(4, { href: 'https://shop.test/', width: 1280, height: 720 });
  if (seq === 1) return e(2, { node: { type: 0, id: 1, childNodes: [{ type: 2, tagName: 'html', id: 2, attributes: {}, childNodes: [] }] }, initialOffset: { top: 0, left: 0 } });
  if (r < 8) return e(3, { source: 1, positions: [{ x: seq % 1280, y: seq % 720, id: 42, timeOffset: -12 }, { x: 3, y: 4, id: 42, timeOffset: 0 }] });
  if (r < 16) return e(3, { source: 0, texts: [], attributes: [{ id: seq, attributes: { class: 'btn btn-primary active', style: 'color: red' } }], removes: [], adds: [{ parentId: 7, nextId: null, node: { type: 2, tagName: 'div', attributes: { class: 'row' }, childNodes: [], id: seq + 1000 } }] });
  if (r < 18) return e(3, { source: 5, text: '*****', isChecked: false, id: 77 });
  if (r === 18) return e(6, { plugin: 'rrweb/console@1', payload: { level: 'log', payload: ['"cart updated"', '{"items":3}'], trace: ['at update (app.js:10:5)'] } });
  return e(5, { tag: 'tandem/network@1', payload: { kind: 'fetch', method: 'GET', url: 'https://shop.test/api/cart', status: 200, startTs: ts - 30, durationMs: 30 } });
}

const dir = mkdtempSync(join(tmpdir(), 'tandem-measure-'));
const standIn = process.env.MEASURE_STAND_IN ? await spawnChdbHttpServer({ dataDir: join(dir, 'stand-in') }) : null;
const store = await openStore(standIn ? { clickhouseUrl: standIn.url } : { dataDir: dir });
console.log(standIn ? `store: remote driver over the chDB HTTP stand-in (${standIn.url})` : 'store: embedded chDB');
try {
  const perTab = Math.ceil(total / tabs);
  const t0 = Date.now();
  const latencies: number[] = [];
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const start = performance.now();
  await Promise.all(Array.from({ length: tabs }, async (_, tab) => {
    for (let from = 0; from < perTab; from += batchSize) {
      const events = Array.from({ length: Math.min(batchSize, perTab - from) }, (_, i) => event(from + i, t0 + from + i));
      const sent = performance.now();
      const ack = await store.writeBatch({ projectId: 'bench', sessionId: `s${tab % (tabs / 4)}`, tabId: `t${tab}`, events });
      latencies.push(performance.now() - sent);
      if (ack !== from + events.length - 1) throw new Error(`tab ${tab}: ack ${ack}, expected ${from + events.length - 1}`);
    }
  }));
  const seconds = (performance.now() - start) / 1000;
  loop.disable();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(0);
  const written = perTab * tabs;
  console.log(`writeBatch: ${written} events, ${tabs} tabs x batches of ${batchSize}: ${(written / seconds).toFixed(0)} events/s ` +
    `(${seconds.toFixed(2)} s), ack p50 ${q(0.5)} ms p99 ${q(0.99)} ms, max event-loop stall ${(loop.max / 1e6).toFixed(0)} ms, ` +
    `${store.stats.flushes} flushes / ${store.stats.inserts} INSERTs`);

  // Raw anchor: the same event rows, one INSERT, into a table without the writer around it.
  await store.driver.command('CREATE TABLE tandem.events_raw AS tandem.events');
  const rows = Array.from({ length: written }, (_, i) => {
    const e = event(i % perTab, t0 + i);
    return { project_id: 'bench', session_id: `s${i % 50}`, tab_id: `t${i % tabs}`, seq: i, ts: chTime(e.timestamp), type: e.type, data: JSON.stringify(e) };
  });
  const rawStart = performance.now();
  await store.driver.insert('tandem.events_raw', rows);
  const rawSeconds = (performance.now() - rawStart) / 1000;
  console.log(`raw chDB insert (TSV through driver.insert, one INSERT): ${(written / rawSeconds).toFixed(0)} rows/s (${rawSeconds.toFixed(2)} s)`);

  const [size] = await store.driver.query<{ raw: number; disk: number }>(
    `SELECT sum(data_uncompressed_bytes) AS raw, sum(data_compressed_bytes) AS disk FROM system.columns
     WHERE database = 'tandem' AND table = 'events' AND name = 'data'`);
  console.log(`events.data on disk: ${(Number(size.disk) / Number(size.raw)).toFixed(3)} of raw JSON (ZSTD(3))`);
} finally {
  await store.close();
  await standIn?.close();
  rmSync(dir, { recursive: true, force: true });
}
