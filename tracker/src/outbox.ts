import type { TandemEvent, TrackerServerConfig } from '@tandem/protocol';
import { Batcher, type Stream } from './batcher.js';
import { Compressor } from './compress.js';
import { UnloadHandoff } from './handoff.js';
import { whenIdle } from './idle.js';
import { DEFAULT_SERVER_CONFIG } from './options.js';
import { packVersionFor } from './pack-version.js';
import type { PendingStore } from './pending-store.js';
import { storeOpenerWithin } from './gzip-sync.js';
import type { Guard } from './safe.js';
import { Sender, type RefreshOutcome, type SenderStats } from './sender.js';
import type { KeyValueStore } from './session.js';
import type { Transport } from './transport.js';

export interface OutboxDeps {
  guard: Guard;
  transport: Transport;
  projectKey: string;
  /** sessionStorage: where unsent events wait for the tab's next page (handoff.ts). */
  tabStorage: KeyValueStore;
  currentStream(): Stream | undefined;
  refresh(stream: Stream): Promise<RefreshOutcome>;
  maxBatchBytes(): number;
  /** Called before events leave memory (the tracker notes the last seq: a reload never reuses one). */
  beforeDrain(): void;
}

/** How long the sender waits for the idle chunk's store before going on without one (a chunk that never came). */
const STORE_WAIT_MS = 30_000;

const NO_STATS: SenderStats = { sentBatches: 0, sentEvents: 0, droppedEvents: 0, restoredEvents: 0, lastAckSeq: -1 };

/**
 * The way out for numbered events: serialised into batches in idle time (Batcher), compressed
 * (Compressor, in a worker) and sent in seq order by the Sender: on a timer, when a batch fills up, at
 * pagehide and at stop. Owns the flush timer and the IndexedDB store of unsent batches.
 */
export class Outbox {
  readonly compressor: Compressor;
  private readonly batcher: Batcher;
  private sender: Sender | null = null;
  private pendingStore: Promise<PendingStore | null> | null = null;
  private flushTimer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly deps: OutboxDeps) {
    this.compressor = new Compressor(deps.guard);
    // Events are serialised in idle time, not inside rrweb's MutationObserver callback; a batch that
    // fills up is flushed from that idle task.
    // Until the server's answer configures it (configure).
    this.batcher = new Batcher(DEFAULT_SERVER_CONFIG.maxBatchBytes, {
      later: (fn) => whenIdle(deps.guard.wrap('serialize', fn)),
      onFull: () => this.flushNow(),
      onError: (err) => deps.guard.report(err, 'serialize'),
    });
  }

  get stats(): Readonly<SenderStats> {
    return this.sender?.stats ?? NO_STATS;
  }

  /** Events waiting in memory, serialised or not. */
  get pendingBytes(): number {
    return (this.sender?.pendingBytes ?? 0) + this.batcher.bytes;
  }

  /** Opens the IndexedDB store (once, when the idle chunk brings it: gzip-sync.ts) and a sender: start(). */
  open(): void {
    const { guard, projectKey } = this.deps;
    this.pendingStore ??= storeOpenerWithin(STORE_WAIT_MS).then((open) => open?.(`tandem:${projectKey}`) ?? null).catch((err) => {
      guard.report(err, 'pending store open');
      return null;
    });
    this.sender = new Sender({
      transport: this.deps.transport,
      compressor: this.compressor,
      guard,
      store: this.pendingStore,
      currentStream: this.deps.currentStream,
      refresh: this.deps.refresh,
      maxBatchBytes: this.deps.maxBatchBytes,
      handoff: new UnloadHandoff(this.deps.tabStorage, `tandem:${projectKey}:unsent`),
    });
  }

  /** The server's answer sets the batch size and whether bodies are packed. */
  configure(config: TrackerServerConfig): void {
    this.batcher.maxBytes = config.maxBatchBytes;
    this.compressor.pack = packVersionFor(config.pack);
  }

  /** Queues a numbered event of `stream`; serialised once, in idle time (see Batcher.defer). */
  defer(stream: Stream, e: TandemEvent): void {
    this.batcher.defer(stream, e);
  }

  startFlushTimer(everyMs: number): void {
    this.stopFlushTimer();
    this.flushTimer = setInterval(this.deps.guard.wrap('flush timer', () => this.flushNow()), Math.max(100, everyMs));
  }

  stopFlushTimer(): void {
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.flushTimer = null;
  }

  /**
   * Sends what is serialised. An event still being serialised in idle slices (a big snapshot) and the
   * events after it go at a later flush (the batcher flushes when its slices fill a batch); with `all`
   * (stop) they are finished now, in this task.
   */
  flushNow(all = false): void {
    if (this.batcher.isEmpty || !this.sender) return;
    this.deps.beforeDrain();
    this.sender.enqueue(this.batcher.drain(all));
  }

  /** Sends everything queued before the call, waiting for its serialisation's idle slices (tracker.flush). */
  async flushAll(): Promise<void> {
    this.flushNow();
    await this.batcher.serialized();
    this.flushNow();
  }

  /** Resolves when everything queued is sent, or when sending has to wait (offline). */
  settled(): Promise<void> {
    return this.sender?.settled() ?? Promise.resolve();
  }

  /** A session is known (again): send what waits. */
  kick(): void {
    this.sender?.kick();
  }

  /** Connectivity came back: skip the rest of the backoff wait. */
  retryNow(): void {
    this.sender?.retryNow();
  }

  /** Back from the back/forward cache: another page of the tab may have left events. */
  reclaimHandoff(): void {
    this.sender?.reclaimHandoff();
  }

  /** pagehide: what is pending goes out in keepalive requests, with a copy in IndexedDB (Sender.flushForUnload). */
  flushForUnload(): void {
    if (!this.sender) return;
    this.deps.beforeDrain();
    this.sender.flushForUnload(this.batcher.drain(true));
  }

  /**
   * stop(): waits up to `timeoutMs` for the last batches (flushNow first), then stores whatever could
   * not be sent in IndexedDB for a later page load, and closes the worker.
   */
  async close(timeoutMs: number): Promise<void> {
    const sender = this.sender;
    if (sender) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([sender.settled(), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
      await sender.persistAll().catch((err) => this.deps.guard.report(err, 'stop persist'));
      sender.dispose();
    }
    this.compressor.close();
    this.sender = null;
  }
}
