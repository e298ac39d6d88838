import { RRWEB_EVENT, type TandemEvent } from '@tandem/protocol';

/**
 * Time travel inside a live session replays the tab's stored events (they lag the page by up to one
 * tracker flush, ~5 s) plus everything streamed since the agent joined. Both carry the tab's seq, so
 * the union is deduplicated by seq (stored copies win: they are what replay shows later too) and put
 * in seq order — the order the page produced them in. The Replayer then sorts by timestamp with a
 * stable sort, so events with equal timestamps keep this order.
 */
export function mergeBySeq(stored: readonly TandemEvent[], streamed: readonly TandemEvent[]): TandemEvent[] {
  const bySeq = new Map<number, TandemEvent>();
  for (const event of streamed) bySeq.set(event.seq, event);
  for (const event of stored) bySeq.set(event.seq, event);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** True when `events` hold something to draw: a Meta followed (later) by a FullSnapshot. */
export function hasPicture(events: readonly TandemEvent[]): boolean {
  let meta = false;
  for (const event of events) {
    if (event.type === RRWEB_EVENT.Meta) meta = true;
    else if (event.type === RRWEB_EVENT.FullSnapshot && meta) return true;
  }
  return false;
}

/**
 * Streamed events kept for time travel, bounded: once the buffer is over `max`, the oldest are
 * dropped (by then they have long been flushed to storage, which time travel reads as well).
 */
export class StreamedBuffer {
  #events: TandemEvent[] = [];
  readonly max: number;

  constructor(max = 20_000) {
    this.max = max;
  }

  get events(): readonly TandemEvent[] {
    return this.#events;
  }

  push(event: TandemEvent): void {
    this.#events.push(event);
    if (this.#events.length > this.max + this.max / 4) this.#events = this.#events.slice(-this.max);
  }

  clear(): void {
    this.#events = [];
  }
}

/**
 * Where to pause a replay starting at `startTime` and lasting `totalTime` (user clock, as the
 * Replayer's metadata says) to show the user-clock moment `userTs`: clamped into the replay.
 */
export function replayOffset(startTime: number, totalTime: number, userTs: number): number {
  return Math.min(Math.max(0, userTs - startTime), Math.max(0, totalTime));
}
