import { describe, expect, it } from 'vitest';
import type { BatchRequest } from '@tandem/protocol';
import { Batcher, batchBody, bodyBytes, cutBatches, splitBatch, type QueuedEvent, type Stream } from '../src/batcher.js';

const stream: Stream = { sessionId: 's1', tabId: 't1', token: 'tok', tokenExpiresAt: Infinity, ackSeq: -1 };
const mk = (seq: number, size: number): QueuedEvent => {
  const pad = 'x'.repeat(Math.max(0, size - 40));
  const json = JSON.stringify({ seq, type: 3, timestamp: 1, data: { pad } });
  return { seq, json };
};

describe('cutBatches', () => {
  it('keeps every batch body under maxBytes and keeps order', () => {
    const events = Array.from({ length: 100 }, (_, i) => mk(i, 300));
    const max = 2_000;
    const batches = cutBatches(stream, events, max);
    expect(batches.length).toBeGreaterThan(10);
    for (const b of batches) expect(batchBody(b).length).toBeLessThanOrEqual(max);
    expect(batches.flatMap((b) => b.events.map((e) => e.seq))).toEqual(events.map((e) => e.seq));
  });

  it('sends an event larger than maxBytes alone', () => {
    const events = [mk(0, 100), mk(1, 5_000), mk(2, 100)];
    const batches = cutBatches(stream, events, 1_000);
    expect(batches.map((b) => b.events.map((e) => e.seq))).toEqual([[0], [1], [2]]);
  });

  it('estimates the body size it produces', () => {
    const [b] = cutBatches(stream, [mk(0, 100), mk(1, 200)], 10_000);
    const body = batchBody(b);
    expect(Math.abs(bodyBytes(b) - body.length)).toBeLessThan(20);
  });
});

describe('batchBody', () => {
  it('is a BatchRequest as JSON', () => {
    const [b] = cutBatches(stream, [mk(5, 80), mk(6, 80)], 10_000);
    const parsed = JSON.parse(batchBody(b)) as BatchRequest;
    expect(parsed.v).toBe(1);
    expect(parsed.sessionId).toBe('s1');
    expect(parsed.tabId).toBe('t1');
    expect(parsed.events.map((e) => e.seq)).toEqual([5, 6]);
  });
});

describe('splitBatch (413 answers)', () => {
  it('halves a batch, keeping every event once and in order', () => {
    const [b] = cutBatches(stream, Array.from({ length: 7 }, (_, i) => mk(i, 50)), 100_000);
    const halves = splitBatch(b)!;
    expect(halves[0].events.map((e) => e.seq)).toEqual([0, 1, 2, 3]);
    expect(halves[1].events.map((e) => e.seq)).toEqual([4, 5, 6]);
    expect(halves[0].bytes + halves[1].bytes).toBe(b.bytes);
  });

  it('cannot split a single event', () => {
    const [b] = cutBatches(stream, [mk(0, 50)], 100_000);
    expect(splitBatch(b)).toBeNull();
  });
});

describe('Batcher', () => {
  it('says when pending bytes reach maxBatchBytes', () => {
    const batcher = new Batcher(1_000);
    let full = false;
    let n = 0;
    while (!full) full = batcher.add(stream, n++, mk(n, 200).json);
    expect(n).toBeGreaterThanOrEqual(4);
    expect(n).toBeLessThanOrEqual(6);
    expect(batcher.bytes).toBeGreaterThanOrEqual(1_000);
  });

  it('drains into per-stream batches and empties', () => {
    const other: Stream = { ...stream, sessionId: 's2' };
    const batcher = new Batcher(100_000);
    batcher.add(stream, 1, mk(1, 50).json);
    batcher.add(stream, 2, mk(2, 50).json);
    batcher.add(other, 0, mk(0, 50).json);
    const out = batcher.drain();
    expect(out.map((b) => [b.stream.sessionId, b.events.length])).toEqual([
      ['s1', 2],
      ['s2', 1],
    ]);
    expect(batcher.isEmpty).toBe(true);
    expect(batcher.bytes).toBe(0);
    expect(batcher.drain()).toEqual([]);
  });
});

describe('Batcher.defer (serialising later)', () => {
  const ev = (seq: number) => ({ type: 3, timestamp: 1_000 + seq, seq, data: { source: 0, adds: [] } }) as never;

  it('serialises nothing until its scheduled task runs, then every event once and in order', () => {
    const tasks: (() => void)[] = [];
    const b = new Batcher(1e9, { later: (fn) => tasks.push(fn) });
    b.add(stream, 0, '{"seq":0}');
    b.defer(stream, ev(1));
    b.defer(stream, ev(2));
    expect(tasks).toHaveLength(1); // one task for the burst
    expect(b.bytes).toBe(10); // the deferred two are not stringified yet
    expect(b.isEmpty).toBe(false);
    // One task serialises them (a slice of 8 ms); under load a slice may end early and schedule another.
    while (tasks.length) tasks.shift()!();
    expect(b.bytes).toBeGreaterThan(10);
    expect(b.drain()[0].events.map((e) => [e.seq, JSON.parse(e.json).seq, e.ts])).toEqual([
      [0, 0, undefined],
      [1, 1, 1_001],
      [2, 2, 1_002],
    ]);
  });

  it('drain(true) serialises what is still deferred (pagehide, stop): nothing waits for the task', () => {
    const b = new Batcher(1e9, { later: () => {} });
    b.defer(stream, ev(4));
    const [batch] = b.drain(true);
    expect(batch.events.map((e) => e.seq)).toEqual([4]);
    expect(b.isEmpty).toBe(true);
  });

  it('drain() (flush timer) hands over what is serialised and leaves the rest, in order, for a later drain', () => {
    const tasks: (() => void)[] = [];
    const b = new Batcher(1e9, { later: (fn) => tasks.push(fn) });
    b.add(stream, 3, '{"seq":3}');
    b.defer(stream, ev(4));
    expect(b.drain().flatMap((x) => x.events.map((e) => e.seq))).toEqual([3]);
    expect(b.isEmpty).toBe(false);
    tasks[0]();
    expect(b.drain().flatMap((x) => x.events.map((e) => e.seq))).toEqual([4]);
    expect(b.isEmpty).toBe(true);
  });

  it('calls onFull from the task when the serialised events reach maxBytes', () => {
    const tasks: (() => void)[] = [];
    let full = 0;
    const b = new Batcher(50, { later: (fn) => tasks.push(fn), onFull: () => full++ });
    b.defer(stream, ev(1));
    expect(full).toBe(0);
    tasks[0]();
    expect(full).toBe(1);
  });

  it('drops and reports an event that cannot be serialised, keeping the others', () => {
    const errors: unknown[] = [];
    const b = new Batcher(1e9, { onError: (e) => errors.push(e) });
    const cyclic = ev(2) as unknown as { data: Record<string, unknown> };
    cyclic.data.self = cyclic;
    b.defer(stream, ev(1));
    b.defer(stream, cyclic as never);
    b.defer(stream, ev(3));
    expect(b.drain()[0].events.map((e) => e.seq)).toEqual([1, 3]);
    expect(errors).toHaveLength(1);
  });
});
