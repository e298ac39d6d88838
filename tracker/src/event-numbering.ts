import type { eventWithTime } from '@rrweb/types';
import type { TandemEvent } from '@tandem/protocol';
import type { Stream } from './batcher.js';
import { PRESTART_MAX_EVENTS } from './options.js';
import { Sequencer } from './sequencer.js';

/**
 * Gives every event its tab seq, or holds it while no session is known (before the first start
 * answer, during a rotation): recording starts before the server answers, and what happens during
 * that round trip is numbered once the answer says where numbering continues.
 */
export class EventNumbering {
  readonly seq = new Sequencer();
  private held: eventWithTime[] = [];
  /** More than PRESTART_MAX_EVENTS were held: the oldest kept, the rest lost (a new snapshot repairs it). */
  overflowed = false;

  /** `deliver` gets each numbered event with the stream it belongs to. */
  constructor(private readonly deliver: (stream: Stream, e: TandemEvent) => void) {}

  get ready(): boolean {
    return this.seq.ready;
  }

  /** Numbers the event and delivers it, or holds it until `release`. */
  take(e: eventWithTime, stream: Stream | undefined): void {
    if (!this.seq.ready || !stream) {
      if (this.held.length < PRESTART_MAX_EVENTS) this.held.push(e);
      else this.overflowed = true;
      return;
    }
    this.deliver(stream, this.seq.assign(e));
  }

  /** The session is known and numbering reset: the held events, numbered, in their order. */
  release(stream: Stream): void {
    const held = this.held;
    this.held = [];
    for (const e of held) this.take(e, stream);
  }

  /** The server refused the tracker for good: nothing held will ever be sent. */
  dropHeld(): void {
    this.held = [];
  }
}
