import { TandemError } from '@tandem/protocol';
import { backoffDelay } from './backoff.js';
import { batchBody, batchParts, splitBatch, type Batch, type Stream } from './batcher.js';
import type { Compressor } from './compress.js';
import type { UnloadHandoff } from './handoff.js';
import type { PendingStore } from './pending-store.js';
import { recordsToBatches } from './stored-batches.js';
import type { Guard } from './safe.js';
import { chooseSpill, storeBatches } from './spill.js';
import type { Transport } from './transport.js';
import { KeepaliveBudget, sendAtUnload } from './unload-send.js';

/**
 * Unsent batches kept in memory: 2 MB covers minutes of a busy page offline without weighing on
 * the page; past it the oldest batches move to IndexedDB (or are dropped, counted, without it).
 */
export const MEMORY_MAX_BYTES = 2 * 1024 * 1024;
/** How much to take back from IndexedDB at a time: bounded memory while draining a big backlog. */
const STORE_LOAD_BYTES = 512 * 1024;
/** Refresh a token this long before it expires, so a batch is never sent with a token about to die. */
export const TOKEN_REFRESH_MARGIN_MS = 60_000;
/** A 401 right after a successful refresh means something else is wrong: back off instead of looping. */
const MAX_UNAUTHORIZED_STREAK = 2;

export type RefreshOutcome = 'ok' | 'dead' | 'later';

export interface SenderDeps {
  transport: Transport;
  compressor: Compressor;
  guard: Guard;
  store: Promise<PendingStore | null>;
  /** This tab's stream now (undefined before the first start answer). */
  currentStream(): Stream | undefined;
  /** Gets a fresh token for the current stream: 'dead' when the server moved us to other ids. */
  refresh(stream: Stream): Promise<RefreshOutcome>;
  /** sessionStorage hand-over of unsent events to the tab's next page (see handoff.ts). */
  handoff?: UnloadHandoff;
  /** The server's batch limit now (bounds the merged unload request). */
  maxBatchBytes?: () => number;
  now?: () => number;
  random?: () => number;
}

export interface SenderStats {
  sentBatches: number;
  sentEvents: number;
  droppedEvents: number;
  /** Events read back from IndexedDB (left by an earlier page, or spilled). */
  restoredEvents: number;
  lastAckSeq: number;
}

type Step = 'next' | 'wait';

/**
 * Sends batches one at a time, in seq order. Order is a hard rule, not a nicety: the server keeps a
 * tab's highest stored seq and drops anything at or below it as a retry duplicate, so an event
 * that arrives after a later one is lost. Hence: one request in flight; IndexedDB holds only
 * batches older than everything in memory and is read before memory is sent; at unload at most one
 * keepalive request per stream. A failing server sees one request per tab, not a storm. Retries with backoff; spills to IndexedDB; on pagehide sends what
 * fits in keepalive requests and stores the rest for the next page load.
 */
export class Sender {
  private queue: Batch[] = [];
  private queueBytes = 0;
  private inFlight: Batch | null = null;
  private readonly keepalive = new KeepaliveBudget();
  private attempt = 0;
  private unauthorizedStreak = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private running = false;
  /** Unknown at start: assume the store holds older data and look there before sending new batches. */
  private storeMayHaveData = true;
  /** A spill to IndexedDB still being written. */
  private persisting: Promise<void> | null = null;
  /** The batch that was in flight when newer ones were spilled: if it is sent again, it goes before them. */
  private spilledAfter: Batch | null = null;
  private handoffTaken = false;
  /** Batches of this page's unload requests, until acknowledged (flushForUnload). */
  private unloaded: Batch[] = [];
  private waiters: (() => void)[] = [];
  private readonly now: () => number;
  private readonly random: () => number;
  readonly stats: SenderStats = { sentBatches: 0, sentEvents: 0, droppedEvents: 0, restoredEvents: 0, lastAckSeq: -1 };

  /** The store once open: the unload path cannot wait for a promise (see pending-store.ts). */
  private storeNow: PendingStore | null = null;

  constructor(private readonly deps: SenderDeps) {
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    deps.store.then(
      (s) => (this.storeNow = s),
      () => {},
    );
  }

  get pendingBytes(): number {
    return this.queueBytes;
  }

  get pendingBatches(): number {
    return this.queue.length;
  }

  enqueue(batches: Batch[]): void {
    for (const b of batches) {
      this.queue.push(b);
      this.queueBytes += b.bytes;
    }
    this.enforceMemoryBound();
    this.kick();
  }

  /** The page came back from the back/forward cache: another page of the tab may have left events. */
  reclaimHandoff(): void {
    this.handoffTaken = false;
    this.storeMayHaveData = true;
    this.kick();
  }

  /** Connectivity came back (or a caller wants it now): skip the rest of the backoff wait. */
  retryNow(): void {
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    this.attempt = 0;
    this.kick();
  }

  /** Resolves when nothing is left to send now, or when sending waits on a backoff. */
  settled(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  kick(): void {
    if (this.running || this.retryTimer) return;
    this.running = true;
    this.loop()
      .catch((err) => this.deps.guard.report(err, 'sender loop'))
      .finally(() => {
        this.running = false;
        const w = this.waiters;
        this.waiters = [];
        for (const fn of w) fn();
      });
  }

  private async loop(): Promise<void> {
    for (;;) {
      // Whatever the store holds is older than memory: read it first, one slice at a time, and
      // only once the previous slice has gone (a newer slice must not overtake an older one).
      if (!this.handoffTaken) {
        // What the tab's previous page could not send: older than anything, so first of all.
        this.handoffTaken = true;
        const handed = this.deps.handoff?.take(this.deps.currentStream()) ?? [];
        this.queue.unshift(...handed);
        for (const b of handed) {
          this.queueBytes += b.bytes;
          this.stats.restoredEvents += b.events.length;
        }
      }
      if (this.storeMayHaveData && !this.queue.some((b) => b.restored)) await this.loadFromStore();
      const batch = this.queue[0];
      if (!batch) return;
      const step = await this.sendOne(batch);
      if (step === 'wait') return;
    }
  }

  private async sendOne(batch: Batch): Promise<Step> {
    const { guard } = this.deps;
    const stream = batch.stream;
    const current = this.deps.currentStream();
    if (stream === current && this.now() > stream.tokenExpiresAt - TOKEN_REFRESH_MARGIN_MS) {
      const r = await this.deps.refresh(stream);
      if (r === 'dead') return this.dropStream(stream, 'session replaced');
      if (r === 'later') return this.backoff();
    } else if (stream !== current && this.now() > stream.tokenExpiresAt) {
      // A batch stored by an earlier page whose token has expired: nobody can vouch for it now.
      return this.dropStream(stream, 'stored token expired');
    }

    this.inFlight = batch;
    const body = await this.deps.compressor.compress(batchBody(batch), batchParts(batch));
    const size = typeof body === 'string' ? body.length : body.byteLength;
    // keepalive lets the request outlive a navigation that happens while it is in flight.
    const keepalive = this.keepalive.take(size);
    let res;
    try {
      res = await this.deps.transport.sendBatch(stream.token, body, keepalive);
    } finally {
      if (keepalive) this.keepalive.release(size);
      this.inFlight = null;
    }

    switch (res.kind) {
      case 'ok':
        this.remove(batch);
        this.attempt = 0;
        this.unauthorizedStreak = 0;
        this.stats.sentBatches++;
        this.stats.sentEvents += batch.events.length;
        // 2xx means this batch is durable. We do not wait for ackSeq to cover it: a seq the server
        // never got (dropped batch) would otherwise hold every later batch back forever.
        stream.ackSeq = Math.max(stream.ackSeq, res.ackSeq);
        if (stream === current) this.stats.lastAckSeq = Math.max(this.stats.lastAckSeq, res.ackSeq);
        return 'next';
      case 'drop':
        this.remove(batch);
        this.countDropped(batch.events.length);
        guard.report(new TandemError('bad_request', `batch rejected (${res.status} ${res.code ?? ''}): ${res.message}`, res.status), `batch rejected ${res.status}`);
        return 'next';
      case 'too_large': {
        const i = this.queue.indexOf(batch);
        if (i < 0) return 'next'; // moved to IndexedDB meanwhile (unload): handled from there
        const halves = splitBatch(batch);
        if (halves) this.queue.splice(i, 1, ...halves);
        else {
          this.remove(batch);
          this.countDropped(batch.events.length);
          guard.report(new TandemError('payload_too_large', 'a single event exceeds the server limit and was dropped'), 'event too large');
        }
        return 'next';
      }
      case 'unauthorized': {
        if (stream !== current) return this.dropStream(stream, 'stored token refused');
        if (++this.unauthorizedStreak > MAX_UNAUTHORIZED_STREAK) {
          this.unauthorizedStreak = 0;
          return this.backoff();
        }
        const r = await this.deps.refresh(stream);
        if (r === 'dead') return this.dropStream(stream, 'session replaced');
        if (r === 'later') return this.backoff();
        return 'next'; // same batch again, with the new token
      }
      case 'retry':
        return this.backoff(res.retryAfterMs);
    }
  }

  private backoff(retryAfterMs?: number): Step {
    const delay = retryAfterMs ?? backoffDelay(this.attempt, this.random);
    this.attempt++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.kick();
    }, delay);
    return 'wait';
  }

  private dropStream(stream: Stream, why: string): Step {
    let n = 0;
    for (const b of [...this.queue]) {
      if (b.stream !== stream) continue;
      this.remove(b);
      n += b.events.length;
    }
    this.countDropped(n);
    this.deps.guard.report(new Error(`tandem: unsendable events dropped (${why})`), `dropped: ${why}`);
    return 'next';
  }

  private remove(batch: Batch): void {
    if (batch === this.spilledAfter) this.spilledAfter = null;
    const i = this.queue.indexOf(batch);
    if (i < 0) return;
    this.queue.splice(i, 1);
    this.queueBytes -= batch.bytes;
  }

  private countDropped(n: number): void {
    this.stats.droppedEvents += n;
  }

  private async loadFromStore(): Promise<void> {
    let store: PendingStore | null = null;
    try {
      if (this.persisting) await this.persisting;
      store = await this.deps.store;
      if (!store) {
        this.storeMayHaveData = false;
        return;
      }
      const records = await store.takeOldest(STORE_LOAD_BYTES);
      if (records.length === 0) {
        this.storeMayHaveData = false;
        return;
      }
      const known = this.queue.map((b) => b.stream);
      const batches = recordsToBatches(records, this.deps.currentStream(), known);
      // Stored data is older than anything in memory: it goes first, after a batch that was in flight
      // when it was spilled and has to be sent again (a retry).
      const at = this.spilledAfter !== null && this.queue[0] === this.spilledAfter ? 1 : 0;
      this.queue.splice(at, 0, ...batches);
      for (const b of batches) {
        this.queueBytes += b.bytes;
        this.stats.restoredEvents += b.events.length;
      }
    } catch (err) {
      this.storeMayHaveData = false;
      this.deps.guard.report(err, 'pending store read');
    }
  }

  /** Moves the oldest batches past the memory bound to IndexedDB (chooseSpill says which). */
  private enforceMemoryBound(): void {
    if (this.queueBytes <= MEMORY_MAX_BYTES) return;
    const next = this.retryTimer === null && this.inFlight === null ? this.queue[0] : undefined;
    const { spill, skippedInFlight } = chooseSpill(this.queue, this.queueBytes, MEMORY_MAX_BYTES, this.inFlight, next);
    if (spill.length === 0) return;
    for (const b of spill) this.remove(b);
    if (skippedInFlight) this.spilledAfter = skippedInFlight;
    // Set now, not when the write is done: the loop must not send newer batches from memory before
    // these older ones are back (it waits for the write, see loadFromStore).
    this.storeMayHaveData = true;
    const write = this.persist(spill).finally(() => {
      if (this.persisting === write) this.persisting = null;
    });
    this.persisting = write;
  }

  /** Saves batches to IndexedDB; without a store they are dropped and counted. */
  private persist(batches: Batch[]): Promise<void> {
    if (batches.length > 0) this.storeMayHaveData = true;
    return storeBatches(this.deps.store, batches, this.now(), (events, err, kind) => {
      this.countDropped(events);
      this.deps.guard.report(err, kind);
    });
  }

  /**
   * The page is being hidden or unloaded: there is no time for the worker or a backoff, and only
   * work started synchronously here survives the page (see pending-store.ts). Every unsent batch,
   * the one in flight included, is copied to IndexedDB and leaves memory; and per stream its batches go
   * out as ONE keepalive request with every unacknowledged batch before them (sendAtUnload: requests
   * may arrive out of order), gzipped on the main thread, if that fits the keepalive quota. The next
   * read of the store skips what the server acknowledged, so the copy costs nothing when the
   * keepalive request got through.
   */
  flushForUnload(fresh: Batch[] = []): void {
    const pending = [...this.queue, ...fresh];
    if (this.inFlight && !pending.includes(this.inFlight)) pending.unshift(this.inFlight);
    if (pending.length === 0) return;
    // What an earlier unload request carried and the server has not acknowledged goes again: two
    // unload requests of a stream (visibilitychange, then pagehide) may arrive in either order.
    const earlier = this.unloaded.filter((b) => !pending.includes(b) && b.events[b.events.length - 1].seq > b.stream.ackSeq);
    const all = [...earlier, ...pending];
    this.unloaded = all;
    const current = this.deps.currentStream();
    if (current) this.deps.handoff?.save(all.filter((b) => b.stream === current));
    const store = this.storeNow;
    if (!store) {
      // No IndexedDB: keep everything in memory (lost if the page goes) and try a keepalive send.
      for (const b of fresh) {
        this.queue.push(b);
        this.queueBytes += b.bytes;
      }
    } else {
      try {
        store.addSync(pending, this.now());
        this.storeMayHaveData = true;
        for (const b of [...this.queue]) this.remove(b);
      } catch (err) {
        this.deps.guard.report(err, 'pending store write');
      }
    }
    // While backing off (server down, offline) a send now would most likely fail: the copy will do.
    if (this.retryTimer !== null) return;
    const { transport, compressor, guard, maxBatchBytes } = this.deps;
    sendAtUnload(all, {
      transport,
      compressor,
      guard,
      maxBatchBytes,
      keepalive: this.keepalive,
      onSent: (stream, sent, events, ackSeq) => {
        stream.ackSeq = Math.max(stream.ackSeq, ackSeq);
        this.stats.sentBatches++;
        this.stats.sentEvents += events;
        if (!store) for (const b of sent) this.remove(b);
      },
    });
  }

  /** On stop: anything still unsent goes to IndexedDB for a later page load. */
  async persistAll(): Promise<void> {
    const rest = this.queue.filter((b) => b !== this.inFlight);
    for (const b of rest) this.remove(b);
    await this.persist(rest);
  }

  /** Drops timers (tracker stopped). */
  dispose(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }
}
