import type { TandemEvent } from '@tandem/protocol';
import type { eventWithTime } from '@rrweb/types';

/**
 * Per-tab sequence numbers. The server stores events by (session, tab, seq) and drops duplicates,
 * so a resumed tab must continue after every seq that may already exist: the server's ackSeq
 * (durable) and our own last assigned seq (which may sit unsent in IndexedDB).
 */
export class Sequencer {
  private next = -1;

  get ready(): boolean {
    return this.next >= 0;
  }

  /** Starts numbering after max(ackSeq, floor); both are -1 when nothing exists. */
  reset(ackSeq: number, floor = -1): void {
    this.next = Math.max(ackSeq, floor, -1) + 1;
  }

  /** Stops numbering until the next reset (while a new session is being opened). */
  unset(): void {
    this.next = -1;
  }

  /** The last seq handed out, or -1. */
  get last(): number {
    return this.next - 1;
  }

  assign(e: eventWithTime): TandemEvent {
    if (this.next < 0) throw new Error('Sequencer used before reset');
    const te = e as TandemEvent;
    te.seq = this.next++;
    return te;
  }
}
