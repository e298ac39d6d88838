import type { eventWithTime } from '@rrweb/types';
import type { TandemEvent } from '@tandem/protocol';
import type { Stream } from './batcher.js';
import { HANDOFF_MAX_CHARS } from './handoff.js';
import { PRESTART_MAX_EVENTS } from './options.js';
import type { KeyValueStore } from './session.js';
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

  /** Held events copied to `carry` by keepHeld (0: no copy there from this page). */
  private kept = 0;

  /**
   * `deliver` gets each numbered event with the stream it belongs to. `carry` (sessionStorage) takes what is
   * held when the page goes away before its session is known, for the tab's next page (keepHeld, takeCarried).
   */
  constructor(
    private readonly deliver: (stream: Stream, e: TandemEvent) => void,
    private readonly carry?: { kv: KeyValueStore; key: string },
  ) {}

  /**
   * The page is hidden or going away: a copy of the held events for the tab's next page. Without it, a page
   * left before the start answer (a quick visit, a slow server) lost everything it recorded.
   */
  keepHeld(): void {
    if (!this.carry || !this.held.length) return;
    try {
      const json = JSON.stringify(this.held);
      if (json.length > HANDOFF_MAX_CHARS) return;
      this.carry.kv.setItem(this.carry.key, json);
      this.kept = this.held.length;
    } catch {
      // quota or storage refused: the page's events stay held here only
    }
  }

  /** At start: what an earlier page of this tab held when it went away, held first (it happened first). */
  takeCarried(): void {
    if (!this.carry) return;
    try {
      const raw = this.carry.kv.getItem(this.carry.key);
      if (raw === null) return;
      this.carry.kv.removeItem(this.carry.key);
      const events = JSON.parse(raw) as unknown;
      if (Array.isArray(events)) this.held.unshift(...(events as eventWithTime[]).slice(0, PRESTART_MAX_EVENTS));
    } catch {
      // unreadable: nothing carried
    }
  }

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
    let held = this.held;
    this.held = [];
    if (this.kept && this.carry) {
      // A copy was left for the next page (keepHeld): gone means a next page took it (this page came back from
      // the back/forward cache), so those events are its to send; still there, it is this page's again.
      try {
        if (this.carry.kv.getItem(this.carry.key) === null) held = held.slice(this.kept);
        else this.carry.kv.removeItem(this.carry.key);
      } catch {
        // storage refused: deliver them (a rare copy beats a loss)
      }
      this.kept = 0;
    }
    for (const e of held) this.take(e, stream);
  }

  /** The server refused the tracker for good: nothing held will ever be sent. */
  dropHeld(): void {
    this.held = [];
  }
}
