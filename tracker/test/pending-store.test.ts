import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import type { Batch, Stream } from '../src/batcher.js';
import { PendingStore, recordsToBatches } from '../src/pending-store.js';

const stream: Stream = { sessionId: 's', tabId: 't', token: 'tok', tokenExpiresAt: 99 };
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

describe('recordsToBatches', () => {
  it('reuses the current stream object for this tab and one shared object per other stream', () => {
    const current: Stream = { sessionId: 's', tabId: 't', token: 'fresh', tokenExpiresAt: 1e15 };
    const base = { token: 'old', tokenExpiresAt: 5, events: [], bytes: 0, savedAt: 0 };
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
