import { RRWEB_EVENT, type TandemEvent } from '@tandem/protocol';

/**
 * The live stream of one tab: which bus events go to the agents, in which messages.
 *
 * - Nothing flows until `start()` (the server's `live:start`); then events are taken from the first
 *   Meta event on (the plugin calls `takeFullSnapshot()` right after `start()`), so every run the
 *   agent sees begins with Meta + FullSnapshot.
 * - Within a run, seqs are consecutive. If the bus shows a jump (the tracker renumbered after a
 *   back/forward-cache restore, or events were lost before the bus), the run ends: a Meta at the jump
 *   starts the next run at once, anything else waits for a Meta and a snapshot is asked for.
 * - Events are queued and sent once per macrotask: a burst of mutations from one observer callback
 *   is one `live:events` message, and the added latency is one task (~0-1 ms), not a timer.
 *
 * Pure logic: sending, scheduling and snapshot requests are injected, so it is unit tested.
 */

export interface ForwarderDeps {
  /** Sends one `live:events` batch. A throw is the caller's to report; the forwarder stays sane. */
  send(events: TandemEvent[]): void;
  /** Runs fn in a later macrotask (MessageChannel in browsers). */
  schedule(fn: () => void): void;
  /**
   * Asks for a new full snapshot after a seq jump, later (not inside the bus publish that showed
   * the jump). Returns a cancel function, called when a Meta arrives first.
   */
  requestSnapshot(): () => void;
  /** Reports a failure of `send`. */
  onError?(err: unknown): void;
}

/** A message this size is still fine for socket.io; full snapshots are one event however big. */
export const MAX_EVENTS_PER_MESSAGE = 500;

export class Forwarder {
  private active = false;
  private waitingMeta = false;
  /** Seq of the last event taken into the current run, -1 before the first. */
  private runSeq = -1;
  private queue: TandemEvent[] = [];
  private flushScheduled = false;
  private cancelSnapshot: (() => void) | null = null;

  /** Runs started (each begins with a Meta event). */
  runs = 0;
  /** Seq jumps seen while forwarding. */
  gaps = 0;
  sentMessages = 0;
  sentEvents = 0;
  /** Seq of the last event actually sent, -1 before the first. Kept across stop/start. */
  lastForwardedSeq = -1;

  constructor(private readonly deps: ForwarderDeps) {}

  /** Between `start()` and `stop()`. */
  get forwarding(): boolean {
    return this.active;
  }

  /** Waiting for the Meta event that begins the next run. */
  get awaitingSnapshot(): boolean {
    return this.active && this.waitingMeta;
  }

  get queued(): number {
    return this.queue.length;
  }

  /**
   * Starts forwarding (or restarts it: a resync). What is queued of an earlier run is dropped: the
   * agent asked for a fresh picture and the new snapshot covers it. Call `takeFullSnapshot()` next.
   */
  start(): void {
    this.clearSnapshotRequest();
    this.active = true;
    this.waitingMeta = true;
    this.runSeq = -1;
    this.queue = [];
  }

  /** Stops forwarding and drops whatever was not sent yet. */
  stop(): void {
    this.clearSnapshotRequest();
    this.active = false;
    this.waitingMeta = false;
    this.runSeq = -1;
    this.queue = [];
  }

  /** A bus event. Cheap when not forwarding: one boolean test. */
  push(e: TandemEvent): void {
    if (!this.active) return;
    if (this.waitingMeta) {
      if (e.type !== RRWEB_EVENT.Meta) return;
      this.waitingMeta = false;
      this.clearSnapshotRequest();
      this.runs++;
    } else if (e.seq !== this.runSeq + 1) {
      this.gaps++;
      // What is queued belongs to the old run and is consecutive: it still goes out (first).
      if (e.type === RRWEB_EVENT.Meta) {
        this.runs++;
      } else {
        this.waitingMeta = true;
        this.runSeq = -1;
        if (!this.cancelSnapshot) this.cancelSnapshot = this.deps.requestSnapshot();
        this.scheduleFlush();
        return;
      }
    }
    this.runSeq = e.seq;
    this.queue.push(e);
    this.scheduleFlush();
  }

  /** Sends what is queued now (normally called by the scheduled task). */
  flush(): void {
    this.flushScheduled = false;
    if (!this.active || this.queue.length === 0) return;
    const events = this.queue;
    this.queue = [];
    for (let i = 0; i < events.length; i += MAX_EVENTS_PER_MESSAGE) {
      const chunk = i === 0 && events.length <= MAX_EVENTS_PER_MESSAGE ? events : events.slice(i, i + MAX_EVENTS_PER_MESSAGE);
      try {
        this.deps.send(chunk);
      } catch (err) {
        // The stream now has a hole the agent cannot see: start a new run with a new snapshot.
        this.deps.onError?.(err);
        this.waitingMeta = true;
        this.runSeq = -1;
        if (!this.cancelSnapshot) this.cancelSnapshot = this.deps.requestSnapshot();
        return;
      }
      this.sentMessages++;
      this.sentEvents += chunk.length;
      this.lastForwardedSeq = chunk[chunk.length - 1].seq;
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.queue.length === 0) return;
    this.flushScheduled = true;
    this.deps.schedule(() => this.flush());
  }

  private clearSnapshotRequest(): void {
    const cancel = this.cancelSnapshot;
    this.cancelSnapshot = null;
    if (cancel) cancel();
  }
}

/**
 * A macrotask scheduler: MessageChannel (not throttled in background tabs, no 4 ms clamp of nested
 * timers), else setTimeout(0). Callbacks scheduled in the same task run together in one task.
 */
export function createMacrotask(onError?: (err: unknown) => void): (fn: () => void) => void {
  let pending: (() => void)[] = [];
  const runAll = () => {
    const fns = pending;
    pending = [];
    for (const fn of fns) {
      try {
        fn();
      } catch (err) {
        onError?.(err);
      }
    }
  };
  let post: (() => void) | null = null;
  try {
    if (typeof MessageChannel === 'function') {
      const ch = new MessageChannel();
      ch.port1.onmessage = runAll;
      // Node (tests): a port with a handler keeps the process alive unless unref'd.
      (ch.port1 as unknown as { unref?: () => void }).unref?.();
      post = () => ch.port2.postMessage(0);
    }
  } catch {
    post = null;
  }
  const tick = post ?? (() => setTimeout(runAll, 0));
  return (fn) => {
    pending.push(fn);
    if (pending.length === 1) tick();
  };
}
