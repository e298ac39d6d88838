import { RRWEB_EVENT, type TandemEvent } from '@tandem/protocol';

/**
 * Order and gaps of one watched tab's live stream (DESIGN.md §3: "an agent that sees a gap asks for
 * a resync instead of silently drifting").
 *
 * A forwarding run starts at a Meta event (type 4, followed by its FullSnapshot) and then counts up
 * one seq at a time. The sequencer decides, per event, what the view does with it:
 * - `start`: a Meta that begins a picture. `continuous` is true when it simply follows the last seq
 *   (a periodic checkout inside the same run: the Replayer rebuilds in place); false when it begins a
 *   new run (first picture, after a gap, after a reload, after a tab switch: start a fresh Replayer).
 * - `apply`: the next event of the run.
 * - `drop`: a duplicate (seq already applied) or an event while no picture is running (waiting for a
 *   Meta after joining, switching tabs or a gap).
 * - `gap`: a seq is missing. Nothing more is applied until the next Meta; the caller asks the tab for
 *   one (`live:resync`, reason `gap`). Only the first event of a gap says `gap`; the rest are drops.
 */
export type SequenceDecision =
  | { kind: 'start'; continuous: boolean }
  | { kind: 'apply' }
  | { kind: 'drop'; why: 'duplicate' | 'waiting' }
  | { kind: 'gap'; expected: number; got: number };

export class LiveSequencer {
  #lastSeq: number | null = null;
  #waiting = true;

  /** Highest seq applied in the current run (`null` before the first Meta). */
  get lastSeq(): number | null {
    return this.#lastSeq;
  }

  /** True while no picture runs: everything but a Meta is dropped. */
  get waitingForMeta(): boolean {
    return this.#waiting;
  }

  /** Forget the run (tab switch, rejoin): the next picture starts at a Meta. */
  reset(): void {
    this.#lastSeq = null;
    this.#waiting = true;
  }

  accept(event: TandemEvent): SequenceDecision {
    const isMeta = event.type === RRWEB_EVENT.Meta;
    if (this.#waiting) {
      if (!isMeta) return { kind: 'drop', why: 'waiting' };
      this.#waiting = false;
      this.#lastSeq = event.seq;
      return { kind: 'start', continuous: false };
    }
    const last = this.#lastSeq ?? -1;
    if (event.seq === last + 1) {
      this.#lastSeq = event.seq;
      return isMeta ? { kind: 'start', continuous: true } : { kind: 'apply' };
    }
    if (isMeta && event.seq !== last) {
      // A Meta after a jump either way: a new run (a reloaded page continues after a seq that
      // never reached us, or the numbering started over). It carries a whole picture: take it.
      this.#lastSeq = event.seq;
      return { kind: 'start', continuous: false };
    }
    if (event.seq <= last) return { kind: 'drop', why: 'duplicate' };
    this.#waiting = true;
    this.#lastSeq = null;
    return { kind: 'gap', expected: last + 1, got: event.seq };
  }

  /**
   * A batch as it came off the socket, sorted by seq first (batches are in order; this only guards
   * against a sender that is not). Returns each event with its decision, and whether a gap was seen.
   */
  acceptBatch(events: readonly TandemEvent[]): { decisions: { event: TandemEvent; decision: SequenceDecision }[]; gap: boolean } {
    const sorted = isSortedBySeq(events) ? events : [...events].sort((a, b) => a.seq - b.seq);
    let gap = false;
    const decisions = sorted.map((event) => {
      const decision = this.accept(event);
      if (decision.kind === 'gap') gap = true;
      return { event, decision };
    });
    return { decisions, gap };
  }
}

function isSortedBySeq(events: readonly TandemEvent[]): boolean {
  for (let i = 1; i < events.length; i++) if (events[i].seq < events[i - 1].seq) return false;
  return true;
}
