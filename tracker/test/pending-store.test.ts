import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import type { Batch, Stream } from '../src/batcher.js';
import { PendingStore } from '../src/pending-store.js';
import { recordsToBatches } from '../src/stored-batches.js';

const stream: Stream = { sessionId: 's', tabId: 't', token: 'tok', tokenExpiresAt: 99, ackSeq: -1 };
let dbCounter = 0;
const open = (max: number) => PendingStore.open(`test-${dbCounter++}`, max) as Promise<PendingStore>;

function batch(firstSeq: number, n: number, eventBytes = 100): Batch {
  const events = Array.from({ length: n }, (_, i) => ({ seq: firstSeq + i, json: 'x'.repeat(eventBytes - 1) }));
  return { stream, events, bytes: n * eventBytes };
}

describe('PendingStore', () => {
  it('gives batches back oldest first, with their stream and token', async () => {
    const store = await open(1_000_000);
    await store.putMany([batch(0, 3), batch(3, 2)]);
    await store.putMany([batch(5, 1)]);
    const recs = await store.takeOldest(10_000_000);
    expect(recs.map((r) => r.events[0].seq)).toEqual([0, 3, 5]);
    expect(recs[0]).toMatchObject({ sessionId: 's', tabId: 't', token: 'tok', tokenExpiresAt: 99 });
    expect(await store.count()).toBe(0);
    expect(await store.totalBytes()).toBe(0);
  });

  it('takes at most about the budget, but always at least one record', async () => {
    const store = await open(1_000_000);
    await store.putMany([batch(0, 10), batch(10, 10), batch(20, 10)]); // 1000 bytes each
    expect((await store.takeOldest(1)).length).toBe(1);
    expect((await store.takeOldest(2_000)).map((r) => r.events[0].seq)).toEqual([10, 20]);
  });

  it('drops the oldest records past the byte bound and counts their events', async () => {
    const store = await open(2_500);
    expect(await store.putMany([batch(0, 10), batch(10, 10)])).toBe(0);
    const dropped = await store.putMany([batch(20, 10)]); // 3000 bytes > 2500
    expect(dropped).toBe(10);
    expect(await store.totalBytes()).toBe(2_000);
    const recs = await store.takeOldest(1e9);
    expect(recs.map((r) => r.events[0].seq)).toEqual([10, 20]);
  });

  it('two concurrent takers never get the same record', async () => {
    const store = await open(1e9);
    await store.putMany(Array.from({ length: 20 }, (_, i) => batch(i * 10, 10)));
    const [a, b] = await Promise.all([store.takeOldest(5_000), store.takeOldest(5_000)]);
    const seqs = [...a, ...b].map((r) => r.events[0].seq);
    expect(new Set(seqs).size).toBe(seqs.length);
  });
});

describe('PendingStore.addSync (pagehide path)', () => {
  it('stores without awaiting anything, and the bound is applied on the next open', async () => {
    const name = `test-sync-${dbCounter++}`;
    const store = (await PendingStore.open(name, 2_500))!;
    store.addSync([batch(0, 10), batch(10, 10), batch(20, 10)]); // 3000 bytes, over the bound
    store.close();
    const reopened = (await PendingStore.open(name, 2_500))!;
    expect(await reopened.totalBytes()).toBe(2_000);
    const recs = await reopened.takeOldest(1e9);
    expect(recs.map((r) => r.events[0].seq)).toEqual([10, 20]);
  });
});

describe('recordsToBatches', () => {
  it('skips events the server already acknowledged for the current stream', () => {
    const current: Stream = { sessionId: 's', tabId: 't', token: 'fresh', tokenExpiresAt: 1e15, ackSeq: 11 };
    const rec = { sessionId: 's', tabId: 't', token: 'old', tokenExpiresAt: 5, savedAt: 0, ...batch(8, 6) };
    const out = recordsToBatches([rec, { ...rec, ...batch(0, 3) }], current);
    expect(out).toHaveLength(1);
    expect(out[0].events.map((e) => e.seq)).toEqual([12, 13]);
    expect(out[0].bytes).toBe(200);
  });

  it('reuses the current stream object for this tab and one shared object per other stream', () => {
    const current: Stream = { sessionId: 's', tabId: 't', token: 'fresh', tokenExpiresAt: 1e15, ackSeq: -1 };
    const base = { token: 'old', tokenExpiresAt: 5, events: [{ seq: 0, json: '{}' }], bytes: 3, savedAt: 0 };
    const batches = recordsToBatches(
      [
        { ...base, sessionId: 's', tabId: 't' },
        { ...base, sessionId: 'o', tabId: 'x' },
        { ...base, sessionId: 'o', tabId: 'x' },
      ],
      current,
    );
    expect(batches[0].stream).toBe(current);
    expect(batches[1].stream).toBe(batches[2].stream);
    expect(batches[1].stream.token).toBe('old');
  });
});
