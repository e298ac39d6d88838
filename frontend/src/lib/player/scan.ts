import { RRWEB_CLICK, RRWEB_EVENT, RRWEB_SOURCE, TANDEM_EVENT } from '@tandem/protocol';

/**
 * The timeline of a whole tab (clicks, custom events, identify calls, moments of user input) read
 * from its event stream without keeping the events: the player only holds a window or two, but the
 * scrub bar's markers, the idle stretches and the Events panel cover the whole recording.
 * Everything the timeline needs is in small events; full snapshots and big mutations (most of the
 * bytes) are skipped as raw bytes, never decoded or parsed, so a 6-hour stream costs the page little
 * memory and no long task.
 */

/** Longer lines are skipped unparsed: a custom event's payload is capped at 32 KB by the tracker (CUSTOM_PAYLOAD_MAX_BYTES), a click is ~100 B. */
export const MAX_SCANNED_LINE_BYTES = 40 * 1024;

export interface TimelineClick {
  ts: number;
  seq: number;
}

export interface TimelineCustom {
  ts: number;
  seq: number;
  name: string;
  payload: unknown;
}

export interface TimelineIdentify {
  ts: number;
  seq: number;
  userId: string;
  traits: Record<string, unknown> | null;
}

export interface TimelineScan {
  clicks: TimelineClick[];
  customs: TimelineCustom[];
  identifies: TimelineIdentify[];
  /** epoch ms of each mouse, touch, scroll, resize or input event, ascending */
  interactions: number[];
}

export const emptyScan = (): TimelineScan => ({ clicks: [], customs: [], identifies: [], interactions: [] });

interface ScannedEvent {
  type?: number;
  timestamp?: number;
  seq?: number;
  data?: { source?: number; type?: number; tag?: string; payload?: Record<string, unknown> };
}

/** Adds one event's contribution to the scan. */
export function scanEvent(raw: unknown, out: TimelineScan): void {
  const event = raw as ScannedEvent;
  const ts = Number(event.timestamp);
  const seq = Number(event.seq ?? 0);
  const data = event.data;
  if (!Number.isFinite(ts) || !data) return;
  if (event.type === RRWEB_EVENT.IncrementalSnapshot) {
    const source = data.source ?? -1;
    // Same rule as rrweb's skip-inactivity: sources after Mutation up to Input are user activity.
    if (source > RRWEB_SOURCE.Mutation && source <= RRWEB_SOURCE.Input) out.interactions.push(ts);
    if (source === RRWEB_SOURCE.MouseInteraction && data.type === RRWEB_CLICK) out.clicks.push({ ts, seq });
  } else if (event.type === RRWEB_EVENT.Custom) {
    const p = data.payload ?? {};
    if (data.tag === TANDEM_EVENT.custom) {
      out.customs.push({ ts, seq, name: typeof p.name === 'string' ? p.name : '(unnamed)', payload: p.payload });
    } else if (data.tag === TANDEM_EVENT.identify) {
      const traits = p.traits && typeof p.traits === 'object' ? (p.traits as Record<string, unknown>) : null;
      out.identifies.push({ ts, seq, userId: String(p.userId ?? ''), traits });
    }
  }
}

/**
 * Splits NDJSON bytes into lines, handing on only the short ones. A long line is dropped chunk by
 * chunk as it arrives, so its bytes are never joined.
 */
export class ShortLineSplitter {
  #parts: Uint8Array[] = [];
  #length = 0;
  #skipping = false;
  #decoder = new TextDecoder();
  readonly #max: number;

  constructor(max = MAX_SCANNED_LINE_BYTES) {
    this.#max = max;
  }

  push(chunk: Uint8Array, onLine: (line: string) => void): void {
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(10, pos);
      const end = nl === -1 ? chunk.length : nl;
      const piece = chunk.subarray(pos, end);
      if (!this.#skipping) {
        if (this.#length + piece.length > this.#max) {
          this.#skipping = true;
          this.#parts = [];
          this.#length = 0;
        } else if (piece.length > 0) {
          // Copy: the stream may reuse the chunk's buffer.
          this.#parts.push(nl === -1 ? piece.slice() : piece);
          this.#length += piece.length;
        }
      }
      if (nl === -1) break;
      this.#flush(onLine);
      pos = nl + 1;
    }
  }

  end(onLine: (line: string) => void): void {
    this.#flush(onLine);
  }

  #flush(onLine: (line: string) => void): void {
    if (!this.#skipping && this.#length > 0) {
      const bytes = this.#parts.length === 1 ? this.#parts[0] : concat(this.#parts, this.#length);
      const line = this.#decoder.decode(bytes).trim();
      if (line) onLine(line);
    }
    this.#parts = [];
    this.#length = 0;
    this.#skipping = false;
  }
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Reads a tab's NDJSON event stream into a scan. `onUpdate` gets the scan so far every
 * `updateEveryMs`, so markers appear while a long recording is still being read.
 */
export async function scanStream(
  body: ReadableStream<Uint8Array>,
  onUpdate?: (scan: TimelineScan) => void,
  updateEveryMs = 500,
): Promise<TimelineScan> {
  const out = emptyScan();
  const splitter = new ShortLineSplitter();
  const reader = body.getReader();
  const onLine = (line: string) => {
    try {
      scanEvent(JSON.parse(line), out);
    } catch {
      // A malformed line cannot be a marker; the player reports stream errors on its own fetches.
    }
  };
  let lastUpdate = performance.now();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    splitter.push(value, onLine);
    if (onUpdate && performance.now() - lastUpdate >= updateEveryMs) {
      lastUpdate = performance.now();
      onUpdate(out);
    }
  }
  splitter.end(onLine);
  out.interactions.sort((a, b) => a - b);
  return out;
}
