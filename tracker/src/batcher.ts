import { PROTOCOL_VERSION, type TandemEvent } from '@tandem/protocol';
import { SlicedJson } from './sliced-json.js';

/** Who a batch belongs to, and the token that may write to it. Refreshing the token mutates it. */
export interface Stream {
  sessionId: string;
  tabId: string;
  token: string;
  /** Local-clock epoch ms when the token expires (server time corrected by the measured offset). */
  tokenExpiresAt: number;
  /** Every seq ≤ ackSeq of this stream is durable on the server (-1: none known). */
  ackSeq: number;
}

/** One event already serialised (each event is stringified exactly once, when emitted). */
export interface QueuedEvent {
  seq: number;
  json: string;
  /** The event's timestamp: orders stored batches (see pending-store.ts). */
  ts?: number;
}

export interface Batch {
  stream: Stream;
  events: QueuedEvent[];
  /** Sum of the events' JSON lengths (the body adds a small envelope). */
  bytes: number;
  /** Read back from IndexedDB (older than anything else in memory). */
  restored?: boolean;
}

/** Bytes of `{"v":1,"sessionId":"…","tabId":"…","events":[]}` besides the ids: keeps estimates honest. */
const ENVELOPE_BYTES = 48;

/**
 * The slices' texts of an event serialised in slices (SlicedJson.pieces), kept beside the event (not in
 * it: the event objects are also stored in sessionStorage and IndexedDB, where only `json` belongs).
 */
const PIECES = new WeakMap<QueuedEvent, string[]>();

/**
 * The batch body in parts whose concatenation is batchBody(b), for a hand-off to the worker one part per
 * task; null when no event of the batch was serialised in slices (the body then goes whole). Small events
 * are grouped into one part; a sliced event contributes its slices' texts as they are.
 */
export function batchParts(b: Batch): string[] | null {
  if (!b.events.some((e) => PIECES.has(e))) return null;
  const parts: string[] = [];
  let cur = `{"v":${PROTOCOL_VERSION},"sessionId":${JSON.stringify(b.stream.sessionId)},"tabId":${JSON.stringify(b.stream.tabId)},"events":[`;
  for (let i = 0; i < b.events.length; i++) {
    const e = b.events[i];
    if (i) cur += ',';
    const pieces = PIECES.get(e);
    if (!pieces) {
      cur += e.json;
      continue;
    }
    if (cur) parts.push(cur);
    cur = '';
    for (const p of pieces) if (p) parts.push(p);
  }
  parts.push(cur + ']}');
  return parts;
}

export function batchBody(b: Batch): string {
  let body = `{"v":${PROTOCOL_VERSION},"sessionId":${JSON.stringify(b.stream.sessionId)},"tabId":${JSON.stringify(b.stream.tabId)},"events":[`;
  for (let i = 0; i < b.events.length; i++) body += (i ? ',' : '') + b.events[i].json;
  return body + ']}';
}

export function bodyBytes(b: Batch): number {
  return ENVELOPE_BYTES + b.stream.sessionId.length + b.stream.tabId.length + b.bytes + b.events.length;
}

/**
 * Cuts a run of events into batches whose body stays under maxBytes (string length is our byte
 * estimate: exact for ASCII, low for other text, which the 413 split path covers). An event larger
 * than maxBytes travels alone; the server then answers 413 and the sender drops it.
 */
/** One batch of the given batches' events, in order (all of one stream). */
export function mergeBatches(batches: Batch[]): Batch {
  return {
    stream: batches[0].stream,
    events: batches.flatMap((b) => b.events),
    bytes: batches.reduce((n, b) => n + b.bytes, 0),
  };
}

export function cutBatches(stream: Stream, events: QueuedEvent[], maxBytes: number): Batch[] {
  const out: Batch[] = [];
  const budget = Math.max(1, maxBytes - ENVELOPE_BYTES - stream.sessionId.length - stream.tabId.length);
  let cur: Batch = { stream, events: [], bytes: 0 };
  for (const e of events) {
    const size = e.json.length + 1;
    if (cur.events.length > 0 && cur.bytes + size > budget) {
      out.push(cur);
      cur = { stream, events: [], bytes: 0 };
    }
    cur.events.push(e);
    cur.bytes += size;
  }
  if (cur.events.length > 0) out.push(cur);
  return out;
}

/** Halves a batch for a 413 answer; null when it holds a single event (nothing left to split). */
export function splitBatch(b: Batch): [Batch, Batch] | null {
  if (b.events.length < 2) return null;
  const mid = Math.ceil(b.events.length / 2);
  const mk = (events: QueuedEvent[]): Batch => ({
    stream: b.stream,
    events,
    bytes: events.reduce((n, e) => n + e.json.length + 1, 0),
  });
  return [mk(b.events.slice(0, mid)), mk(b.events.slice(mid))];
}

export interface BatcherOptions {
  /**
   * Runs a slice of the deferred events' serialisation later (default: at once, everything). The tracker
   * passes an idle-time scheduler: rrweb hands events over inside its MutationObserver callback, and
   * JSON.stringify of a big mutation there delayed the page's next frame (see docs/decisions.md). The
   * callback gets the idle deadline when there is one.
   */
  later?: (fn: (deadline?: IdleDeadlineLike) => void) => void;
  /** Called (from `later`'s task) when serialised events reached maxBytes: flush early. */
  onFull?: () => void;
  /** An event that cannot be serialised (a cycle a plugin put in a custom payload): dropped, reported. */
  onError?: (err: unknown) => void;
}

export interface IdleDeadlineLike {
  didTimeout: boolean;
  timeRemaining(): number;
}

/**
 * The longest a serialising slice runs: one task of the page stays far below the 50 ms of a long task
 * (DESIGN §10) and below a frame's budget. The first full snapshot of a 60,000-node page took one 128 ms
 * task when stringified at once; in slices it takes a few dozen short ones (issue 8).
 */
export const SERIALIZE_SLICE_MS = 8;
/** In an idle period shorter than this we still do this much: a page never idle long still progresses. */
const SERIALIZE_MIN_SLICE_MS = 2;

/**
 * Collects emitted events until the next flush. `add` answers whether the pending bytes reached
 * maxBytes, so the caller flushes early instead of letting one batch grow without bound. `defer`
 * takes the event object and serialises it later, in slices of a few ms (SlicedJson: a big snapshot
 * spans many idle tasks; each event is still stringified exactly once). `drain` hands over what is
 * serialised; an event still being serialised, and every event deferred after it, waits for the next
 * drain, so nothing is reordered. `drain(true)` (pagehide, stop) first finishes everything at once.
 */
export class Batcher {
  private runs: { stream: Stream; events: QueuedEvent[] }[] = [];
  private pendingBytes = 0;
  private deferred: { stream: Stream; event: TandemEvent }[] = [];
  /** Index of the first deferred event not yet serialised. */
  private head = 0;
  /** The head event, being serialised across slices. */
  private job: SlicedJson | null = null;
  private scheduled = false;
  /** Events deferred and events serialised (or dropped) since the start: `serialized()` waits on them. */
  private deferredCount = 0;
  private doneCount = 0;
  private waiters: { upTo: number; resolve: () => void }[] = [];

  constructor(
    public maxBytes: number,
    private readonly opts: BatcherOptions = {},
  ) {}

  add(stream: Stream, seq: number, json: string, ts?: number, pieces?: string[]): boolean {
    let run = this.runs[this.runs.length - 1];
    if (!run || run.stream !== stream) {
      run = { stream, events: [] };
      this.runs.push(run);
    }
    const e: QueuedEvent = ts === undefined ? { seq, json } : { seq, json, ts };
    if (pieces && pieces.length > 1) PIECES.set(e, pieces);
    run.events.push(e);
    this.pendingBytes += json.length + 1;
    return this.pendingBytes >= this.maxBytes;
  }

  /**
   * Keeps the event to serialise later, in order after everything added before. The object must not
   * change afterwards (rrweb never touches an event it emitted; bus listeners only read).
   */
  defer(stream: Stream, event: TandemEvent): void {
    this.deferred.push({ stream, event });
    this.deferredCount++;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const run = (deadline?: IdleDeadlineLike) => {
      this.scheduled = false;
      const idle = deadline && !deadline.didTimeout ? deadline.timeRemaining() : SERIALIZE_SLICE_MS;
      const budget = Math.min(SERIALIZE_SLICE_MS, Math.max(SERIALIZE_MIN_SLICE_MS, idle));
      const full = this.serialize(performance.now() + budget);
      if (this.head < this.deferred.length) this.schedule();
      if (full) this.opts.onFull?.();
    };
    if (this.opts.later) this.opts.later(run);
    else run();
  }

  /**
   * Stringifies deferred events, in order, until done or until performance.now() passes `until`
   * (default: no limit). True when the pending bytes reached maxBytes.
   */
  serialize(until = Infinity): boolean {
    let full = false;
    while (this.head < this.deferred.length) {
      const { stream, event } = this.deferred[this.head];
      let json: string | undefined;
      let pieces: string[] | undefined;
      try {
        // Every event through SlicedJson: a small one is one native JSON.stringify; a big one (the first
        // snapshot of a big page, a mutation storm's one wide event) spans slices, runs of small items in
        // one native call each (sliced-json.ts), so no idle task of ours runs far past its budget.
        this.job ??= new SlicedJson(event);
        if (!this.job.run(until)) break; // the rest of this event in the next slice
        json = this.job.result;
        pieces = this.job.pieces;
      } catch (err) {
        this.opts.onError?.(err);
      }
      this.job = null;
      this.head++;
      this.doneCount++;
      if (json !== undefined) full = this.add(stream, event.seq, json, event.timestamp, pieces) || full;
      if (until !== Infinity && performance.now() >= until) break;
    }
    // Let go of the serialised events (a page that never lets the queue run empty still frees them).
    if (this.head >= this.deferred.length) {
      this.deferred = [];
      this.head = 0;
    } else if (this.head >= 1024) {
      this.deferred.splice(0, this.head);
      this.head = 0;
    }
    this.wake();
    return full || this.pendingBytes >= this.maxBytes;
  }

  /** Resolves once every event deferred before the call is serialised (tracker.flush waits for it). */
  serialized(): Promise<void> {
    if (this.doneCount >= this.deferredCount) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ upTo: this.deferredCount, resolve }));
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => w.upTo <= this.doneCount);
    this.waiters = this.waiters.filter((w) => w.upTo > this.doneCount);
    for (const w of ready) w.resolve();
  }

  /** Bytes of the serialised pending events (deferred ones are counted once serialised). */
  get bytes(): number {
    return this.pendingBytes;
  }

  get isEmpty(): boolean {
    return this.runs.length === 0 && this.head >= this.deferred.length;
  }

  /**
   * What is serialised, cut into batches of at most maxBytes, oldest first. With `all` (pagehide, stop),
   * what is still deferred is serialised first, at once; without, it waits for its idle slices.
   */
  drain(all = false): Batch[] {
    if (all) this.serialize();
    const out: Batch[] = [];
    for (const run of this.runs) out.push(...cutBatches(run.stream, run.events, this.maxBytes));
    this.runs = [];
    this.pendingBytes = 0;
    return out;
  }
}
