import { PROTOCOL_VERSION, type TandemEvent } from '@tandem/protocol';

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
   * Runs the serialisation of deferred events later (default: at once, synchronously). The tracker
   * passes an idle-time scheduler: rrweb hands events over inside its MutationObserver callback, and
   * JSON.stringify of a big mutation there delayed the page's next frame (see docs/decisions.md).
   */
  later?: (fn: () => void) => void;
  /** Called (from `later`'s task) when serialised events reached maxBytes: flush early. */
  onFull?: () => void;
  /** An event that cannot be serialised (a cycle a plugin put in a custom payload): dropped, reported. */
  onError?: (err: unknown) => void;
}

/**
 * Collects emitted events until the next flush. `add` answers whether the pending bytes reached
 * maxBytes, so the caller flushes early instead of letting one batch grow without bound. `defer`
 * takes the event object and serialises it later (each event is still stringified exactly once);
 * `drain` serialises whatever is still deferred first, so nothing is lost or reordered.
 */
export class Batcher {
  private runs: { stream: Stream; events: QueuedEvent[] }[] = [];
  private pendingBytes = 0;
  private deferred: { stream: Stream; event: TandemEvent }[] = [];
  private scheduled = false;

  constructor(
    public maxBytes: number,
    private readonly opts: BatcherOptions = {},
  ) {}

  add(stream: Stream, seq: number, json: string, ts?: number): boolean {
    let run = this.runs[this.runs.length - 1];
    if (!run || run.stream !== stream) {
      run = { stream, events: [] };
      this.runs.push(run);
    }
    run.events.push(ts === undefined ? { seq, json } : { seq, json, ts });
    this.pendingBytes += json.length + 1;
    return this.pendingBytes >= this.maxBytes;
  }

  /**
   * Keeps the event to serialise later, in order after everything added before. The object must not
   * change afterwards (rrweb never touches an event it emitted; bus listeners only read).
   */
  defer(stream: Stream, event: TandemEvent): void {
    this.deferred.push({ stream, event });
    if (this.scheduled) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      if (this.serialize()) this.opts.onFull?.();
    };
    if (this.opts.later) this.opts.later(run);
    else run();
  }

  /** Stringifies the deferred events; true when the pending bytes reached maxBytes. */
  serialize(): boolean {
    const list = this.deferred;
    if (list.length === 0) return this.pendingBytes >= this.maxBytes;
    this.deferred = [];
    let full = false;
    for (const { stream, event } of list) {
      let json: string;
      try {
        json = JSON.stringify(event);
      } catch (err) {
        this.opts.onError?.(err);
        continue;
      }
      full = this.add(stream, event.seq, json, event.timestamp) || full;
    }
    return full;
  }

  /** Bytes of the serialised pending events (deferred ones are counted once serialised). */
  get bytes(): number {
    return this.pendingBytes;
  }

  get isEmpty(): boolean {
    return this.runs.length === 0 && this.deferred.length === 0;
  }

  /** Everything pending, cut into batches of at most maxBytes, oldest first. */
  drain(): Batch[] {
    this.serialize();
    const out: Batch[] = [];
    for (const run of this.runs) out.push(...cutBatches(run.stream, run.events, this.maxBytes));
    this.runs = [];
    this.pendingBytes = 0;
    return out;
  }
}
