import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BatchRequest } from '@tandem/protocol';
import { cutBatches, type Batch, type Stream } from '../src/batcher.js';
import type { Compressor } from '../src/compress.js';
import type { PendingStore } from '../src/pending-store.js';
import type { PendingRecord } from '../src/stored-batches.js';
import { Guard } from '../src/safe.js';
import { MEMORY_MAX_BYTES, Sender, type RefreshOutcome } from '../src/sender.js';
import type { SendResult, Transport } from '../src/transport.js';

const plain = { compress: async (t: string) => t, compressSync: (t: string) => t } as unknown as Compressor;

function mkBatch(stream: Stream, from: number, n: number, size = 50): Batch {
  const events = Array.from({ length: n }, (_, i) => ({ seq: from + i, json: JSON.stringify({ seq: from + i, pad: 'x'.repeat(size) }) }));
  return cutBatches(stream, events, 1e9)[0];
}

interface Sent {
  token: string;
  body: BatchRequest;
  keepalive: boolean;
}

function fakeTransport(answer: (body: BatchRequest, n: number) => SendResult | Promise<SendResult>) {
  const sent: Sent[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const t = {
    async sendBatch(token: string, body: string, keepalive: boolean) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const parsed = JSON.parse(body) as BatchRequest;
      sent.push({ token, body: parsed, keepalive });
      try {
        await Promise.resolve();
        return await answer(parsed, sent.length);
      } finally {
        inFlight--;
      }
    },
  } as unknown as Transport;
  return { t, sent, maxInFlight: () => maxInFlight };
}

function fakeStore(initial: PendingRecord[] = [], writeDelayMs = 0) {
  const records = [...initial];
  const puts: Batch[][] = [];
  const syncAdds: Batch[][] = [];
  const store = {
    async putMany(b: Batch[]) {
      puts.push(b);
      if (writeDelayMs) await new Promise((r) => setTimeout(r, writeDelayMs));
      for (const x of b) records.push({ sessionId: x.stream.sessionId, tabId: x.stream.tabId, token: x.stream.token, tokenExpiresAt: x.stream.tokenExpiresAt, events: x.events, bytes: x.bytes, savedAt: 0 });
      return 0;
    },
    addSync(b: Batch[]) {
      syncAdds.push(b);
    },
    async takeOldest() {
      return records.splice(0, 1);
    },
  } as unknown as PendingStore;
  return { store, puts, records, syncAdds };
}

function setup(answer: Parameters<typeof fakeTransport>[0], opts: { store?: PendingStore | null; refresh?: (s: Stream) => Promise<RefreshOutcome> } = {}) {
  const stream: Stream = { sessionId: 's', tabId: 't', token: 'tok1', tokenExpiresAt: Date.now() + 3_600_000, ackSeq: -1 };
  const tr = fakeTransport(answer);
  const reports: unknown[] = [];
  const sender = new Sender({
    transport: tr.t,
    compressor: plain,
    guard: new Guard((e) => reports.push(e)),
    store: Promise.resolve(opts.store ?? null),
    currentStream: () => stream,
    refresh: opts.refresh ?? (async () => 'ok'),
    random: () => 1,
  });
  return { sender, stream, ...tr, reports };
}

const seqs = (sent: Sent[]) => sent.flatMap((s) => s.body.events.map((e) => e.seq));

afterEach(() => {
  vi.useRealTimers();
});

describe('Sender', () => {
  it('sends batches in order with one request in flight', async () => {
    const { sender, stream, sent, maxInFlight } = setup((b) => ({ kind: 'ok', ackSeq: b.events.at(-1)!.seq }));
    sender.enqueue([mkBatch(stream, 0, 3), mkBatch(stream, 3, 3), mkBatch(stream, 6, 3)]);
    await sender.settled();
    expect(seqs(sent)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(maxInFlight()).toBe(1);
    expect(sender.stats).toMatchObject({ sentBatches: 3, sentEvents: 9, droppedEvents: 0, lastAckSeq: 8 });
    expect(sender.pendingBatches).toBe(0);
  });

  it('splits on 413 until the server accepts, losing nothing', async () => {
    const { sender, stream, sent } = setup((b) => (b.events.length > 2 ? { kind: 'too_large' } : { kind: 'ok', ackSeq: 0 }));
    sender.enqueue([mkBatch(stream, 0, 9)]);
    await sender.settled();
    const accepted = sent.filter((s) => s.body.events.length <= 2);
    expect(seqs(accepted)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(sender.stats.droppedEvents).toBe(0);
  });

  it('drops a single event the server finds too large, and goes on', async () => {
    const { sender, stream, sent, reports } = setup((b) => (b.events[0].seq === 0 ? { kind: 'too_large' } : { kind: 'ok', ackSeq: 1 }));
    sender.enqueue([mkBatch(stream, 0, 1), mkBatch(stream, 1, 1)]);
    await sender.settled();
    expect(sender.stats.droppedEvents).toBe(1);
    expect(seqs(sent)).toEqual([0, 1]);
    expect(reports.length).toBe(1);
  });

  it('drops a 400 batch (reported once) and sends the next', async () => {
    const { sender, stream, sent, reports } = setup((b) =>
      b.events[0].seq < 4 ? { kind: 'drop', status: 400, code: 'bad_request', message: 'x' } : { kind: 'ok', ackSeq: 5 },
    );
    sender.enqueue([mkBatch(stream, 0, 2), mkBatch(stream, 2, 2), mkBatch(stream, 4, 2)]);
    await sender.settled();
    expect(sent.length).toBe(3);
    expect(sender.stats.droppedEvents).toBe(4);
    expect(sender.stats.sentEvents).toBe(2);
    expect(reports.length).toBe(1);
  });

  it('on 401 gets a new token and resends the same batch with it', async () => {
    let refreshed = 0;
    const ctx = setup((_, n) => (n === 1 ? { kind: 'unauthorized' } : { kind: 'ok', ackSeq: 1 }), {
      refresh: async (s) => {
        refreshed++;
        s.token = 'tok2';
        return 'ok';
      },
    });
    ctx.sender.enqueue([mkBatch(ctx.stream, 0, 2)]);
    await ctx.sender.settled();
    expect(refreshed).toBe(1);
    expect(ctx.sent.map((s) => s.token)).toEqual(['tok1', 'tok2']);
    expect(seqs(ctx.sent)).toEqual([0, 1, 0, 1]);
    expect(ctx.sender.stats.sentEvents).toBe(2);
  });

  it('drops the batches of a stream the server replaced', async () => {
    const ctx = setup(() => ({ kind: 'unauthorized' }), { refresh: async () => 'dead' });
    ctx.sender.enqueue([mkBatch(ctx.stream, 0, 2), mkBatch(ctx.stream, 2, 2)]);
    await ctx.sender.settled();
    expect(ctx.sender.stats.droppedEvents).toBe(4);
    expect(ctx.sent.length).toBe(1);
  });

  it('retries 503/network failures with exponential backoff', async () => {
    vi.useFakeTimers();
    const { sender, stream, sent } = setup((_, n) => (n <= 3 ? { kind: 'retry', status: 503, message: 'busy' } : { kind: 'ok', ackSeq: 0 }));
    sender.enqueue([mkBatch(stream, 0, 1)]);
    await vi.advanceTimersByTimeAsync(0);
    expect(sent.length).toBe(1);
    await vi.advanceTimersByTimeAsync(999); // first retry after 1 s (random = 1 → upper bound)
    expect(sent.length).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent.length).toBe(2);
    await vi.advanceTimersByTimeAsync(1_999);
    expect(sent.length).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent.length).toBe(3);
    await vi.advanceTimersByTimeAsync(4_000);
    expect(sent.length).toBe(4);
    expect(sender.stats.sentEvents).toBe(1);
    expect(sender.pendingBatches).toBe(0);
  });

  it('retryNow skips the backoff wait (back online)', async () => {
    vi.useFakeTimers();
    const { sender, stream, sent } = setup((_, n) => (n === 1 ? { kind: 'retry', status: 0, message: 'offline' } : { kind: 'ok', ackSeq: 0 }));
    sender.enqueue([mkBatch(stream, 0, 1)]);
    await vi.advanceTimersByTimeAsync(0);
    sender.retryNow();
    await vi.advanceTimersByTimeAsync(0);
    expect(sent.length).toBe(2);
    expect(sender.pendingBatches).toBe(0);
  });

  it('moves the oldest batches to IndexedDB past the memory bound', async () => {
    const { store, puts } = fakeStore();
    const { sender, stream } = setup(() => new Promise<SendResult>(() => {}), { store }); // server hangs
    const big = 200_000;
    sender.enqueue([mkBatch(stream, 0, 1, big)]);
    await new Promise((r) => setTimeout(r, 10));
    sender.enqueue(Array.from({ length: 15 }, (_, i) => mkBatch(stream, i + 1, 1, big)));
    await new Promise((r) => setTimeout(r, 10));
    expect(sender.pendingBytes).toBeLessThanOrEqual(MEMORY_MAX_BYTES);
    const spilled = puts.flat().map((b) => b.events[0].seq);
    expect(spilled.length).toBeGreaterThan(0);
    expect(spilled[0]).toBe(1); // seq 0 is in flight; 1 is the oldest waiting
  });

  it('keeps the next batch in memory while sending works, even one batch past the memory bound', async () => {
    const { store, puts } = fakeStore();
    const { sender, stream, sent } = setup(() => ({ kind: 'ok', ackSeq: 0 }), { store });
    sender.enqueue([mkBatch(stream, 0, 1, MEMORY_MAX_BYTES + 100_000)]); // one big mutation
    await sender.settled();
    expect(puts).toEqual([]); // not written to IndexedDB only to be read back at once
    expect(sent.map((s) => s.body.events[0].seq)).toEqual([0]);
  });

  it('keeps order when the batch behind the next one is past the memory bound (a big first snapshot behind its Meta)', async () => {
    const { store, puts } = fakeStore();
    const { sender, stream, sent } = setup(() => ({ kind: 'ok', ackSeq: 0 }), { store });
    await new Promise((r) => setTimeout(r, 5)); // the store is open
    const events = [
      { seq: 0, json: '{"seq":0}' },
      { seq: 1, json: '{"seq":1}' },
      { seq: 2, json: JSON.stringify({ seq: 2, pad: 'x'.repeat(MEMORY_MAX_BYTES + 1000) }) },
    ];
    sender.enqueue(cutBatches(stream, events, 512 * 1024)); // [0, 1] and [2]
    await new Promise((r) => setTimeout(r, 20));
    await sender.settled();
    // Spilling [2] behind [0, 1] sent it first (read back from the store), and the server drops 0 and 1.
    expect(sent.map((s) => s.body.events.map((e) => e.seq))).toEqual([[0, 1], [2]]);
    expect(puts).toEqual([]);
  });

  it('a batch in flight during a spill that must be sent again still goes before the spilled ones', async () => {
    vi.useFakeTimers();
    const { store, puts } = fakeStore();
    const delivered: number[] = [];
    let release: (r: SendResult) => void = () => {};
    let n = 0;
    const { sender, stream } = setup((b) => {
      n++;
      if (n === 1) return new Promise<SendResult>((r) => (release = r)); // seq 0 in flight, answered later
      delivered.push(...b.events.map((e) => e.seq));
      return { kind: 'ok', ackSeq: b.events.at(-1)!.seq };
    }, { store });
    await vi.advanceTimersByTimeAsync(0);
    sender.enqueue([mkBatch(stream, 0, 1, 100_000)]);
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 1; i < 30; i++) sender.enqueue([mkBatch(stream, i, 1, 100_000)]); // 3 MB: spilled behind seq 0
    await vi.advanceTimersByTimeAsync(0);
    expect(puts.length).toBeGreaterThan(0);
    release({ kind: 'retry', status: 503, message: 'down' }); // seq 0 failed: sent again after the backoff
    for (let i = 0; i < 100; i++) await vi.advanceTimersByTimeAsync(100);
    expect(delivered).toEqual(Array.from({ length: 30 }, (_, i) => i));
  });

  it('after spilling to IndexedDB while the server was down, delivers every event in seq order', async () => {
    vi.useFakeTimers();
    const { store, puts } = fakeStore([], 500); // a slow IndexedDB write
    let down = true;
    const delivered: number[] = [];
    const { sender, stream } = setup((b) => {
      if (down) return { kind: 'retry', status: 503, message: 'down' };
      delivered.push(...b.events.map((e) => e.seq));
      return { kind: 'ok', ackSeq: b.events.at(-1)!.seq };
    }, { store });
    sender.enqueue([mkBatch(stream, 0, 1, 100_000)]);
    await vi.advanceTimersByTimeAsync(0); // seq 0 failed once: backing off
    for (let i = 1; i < 30; i++) sender.enqueue([mkBatch(stream, i, 1, 100_000)]); // 3 MB: past the 2 MB bound
    down = false;
    sender.retryNow(); // back online while the spill is still being written
    for (let i = 0; i < 20; i++) await vi.advanceTimersByTimeAsync(100);
    expect(puts.length).toBeGreaterThan(0);
    // The server drops a seq at or below its highest: the order must be exactly 0..29.
    expect(delivered).toEqual(Array.from({ length: 30 }, (_, i) => i));
  });

  it('sends batches stored by an earlier page before new ones', async () => {
    const old: PendingRecord = { sessionId: 'old', tabId: 'x', token: 'oldtok', tokenExpiresAt: Date.now() + 60_000, events: [{ seq: 7, json: '{"seq":7}' }], bytes: 9, savedAt: 0 };
    const { store } = fakeStore([old]);
    const { sender, stream, sent } = setup(() => ({ kind: 'ok', ackSeq: 0 }), { store });
    sender.enqueue([mkBatch(stream, 0, 1)]);
    await sender.settled();
    expect(sent.map((s) => [s.body.sessionId, s.token])).toEqual([
      ['old', 'oldtok'],
      ['s', 'tok1'],
    ]);
  });

  it('drops stored batches whose token has expired instead of sending them', async () => {
    const old: PendingRecord = { sessionId: 'old', tabId: 'x', token: 'oldtok', tokenExpiresAt: Date.now() - 1, events: [{ seq: 7, json: '{"seq":7}' }], bytes: 9, savedAt: 0 };
    const { store } = fakeStore([old]);
    const { sender, stream, sent } = setup(() => ({ kind: 'ok', ackSeq: 0 }), { store });
    sender.enqueue([mkBatch(stream, 0, 1)]);
    await sender.settled();
    expect(sent.map((s) => s.body.sessionId)).toEqual(['s']);
    expect(sender.stats.droppedEvents).toBe(1);
  });

  it('on unload stores every batch synchronously and sends them as ONE keepalive request', async () => {
    const { store, syncAdds } = fakeStore();
    const { sender, stream, sent } = setup(() => ({ kind: 'ok', ackSeq: 2 }), { store });
    await Promise.resolve(); // the store promise resolves (it is open long before any unload)
    sender.flushForUnload([mkBatch(stream, 0, 1, 10_000), mkBatch(stream, 1, 1, 10_000), mkBatch(stream, 2, 1, 10_000)]);
    // Everything happened synchronously, before any await:
    expect(sent.map((s) => [s.keepalive, s.body.events.map((e) => e.seq)])).toEqual([[true, [0, 1, 2]]]);
    expect(syncAdds.flat().map((b) => b.events[0].seq)).toEqual([0, 1, 2]);
    expect(sender.pendingBatches).toBe(0);
    await new Promise((r) => setTimeout(r, 0));
    expect(stream.ackSeq).toBe(2); // so the stored copies are skipped when read back
  });

  it('on unload sends nothing by keepalive past the 64 KB quota (the stored copy will do)', async () => {
    const { store, syncAdds } = fakeStore();
    const { sender, stream, sent } = setup(() => ({ kind: 'ok', ackSeq: 0 }), { store });
    await Promise.resolve();
    sender.flushForUnload([mkBatch(stream, 0, 1, 40_000), mkBatch(stream, 1, 1, 40_000)]);
    expect(sent).toHaveLength(0);
    expect(syncAdds.flat().map((b) => b.events[0].seq)).toEqual([0, 1]);
  });

  it('on unload sends the stream again with the batch in flight first (whichever arrives first, nothing is lost)', async () => {
    const { store, syncAdds } = fakeStore();
    const { sender, stream, sent } = setup(() => new Promise<SendResult>(() => {}), { store });
    sender.enqueue([mkBatch(stream, 0, 1)]);
    await new Promise((r) => setTimeout(r, 0));
    expect(sent).toHaveLength(1);
    sender.flushForUnload([mkBatch(stream, 1, 1)]);
    // The request in flight may die with the page (a body past the keepalive quota goes as an ordinary fetch):
    // the unload request carries its events too.
    expect(sent.map((s) => [s.keepalive, s.body.events.map((e) => e.seq)])).toEqual([[true, [0]], [true, [0, 1]]]);
    expect(syncAdds.flat().map((b) => b.events[0].seq)).toEqual([0, 1]);
  });

  it('a second unload request carries the first one\'s unacknowledged events too (visibilitychange, then pagehide)', async () => {
    const { store, syncAdds } = fakeStore();
    let answer: ((r: SendResult) => void) | undefined;
    const { sender, stream, sent } = setup(() => new Promise<SendResult>((r) => (answer = r)), { store });
    await Promise.resolve();
    sender.flushForUnload([mkBatch(stream, 0, 2)]); // hidden
    sender.flushForUnload([mkBatch(stream, 2, 1)]); // gone: the first request may arrive second
    expect(sent.map((s) => s.body.events.map((e) => e.seq))).toEqual([[0, 1], [0, 1, 2]]);
    expect(syncAdds.flat().map((b) => b.events[0].seq)).toEqual([0, 2]); // each stored once
    await new Promise((r) => setTimeout(r, 0));
    answer!({ kind: 'ok', ackSeq: 2 });
    await new Promise((r) => setTimeout(r, 0));
    sender.flushForUnload([mkBatch(stream, 3, 1)]); // acknowledged events are not sent again
    expect(sent.at(-1)!.body.events.map((e) => e.seq)).toEqual([3]);
    sender.flushForUnload([]); // nothing new: no request
    expect(sent).toHaveLength(3);
  });

  it('while backing off, unload sends nothing and only stores', async () => {
    vi.useFakeTimers();
    const { store, syncAdds } = fakeStore();
    const { sender, stream, sent } = setup(() => ({ kind: 'retry', status: 503, message: 'down' }), { store });
    sender.enqueue([mkBatch(stream, 0, 1)]);
    await vi.advanceTimersByTimeAsync(0);
    expect(sent.length).toBe(1);
    sender.flushForUnload([mkBatch(stream, 1, 1)]);
    expect(sent.length).toBe(1);
    expect(syncAdds.flat().map((b) => b.events[0].seq)).toEqual([0, 1]);
  });
});
