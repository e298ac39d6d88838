import type { eventWithTime } from '@rrweb/types';
import { RRWEB_EVENT, RRWEB_SOURCE } from '@tandem/protocol';
import type { Stream } from './batcher.js';
import type { EventNumbering } from './event-numbering.js';
import type { Outbox } from './outbox.js';
import type { Recorder } from './recorder.js';
import type { Guard } from './safe.js';
import type { RefreshOutcome } from './sender.js';
import type { OpenResult, SessionOpener } from './session-opener.js';
import type { SessionStore } from './session.js';
import type { TabSession } from './tab-session.js';

/** rrweb incremental sources that mean a person is there (keeps the session alive). */
const ACTIVITY_SOURCES = new Set<number>([
  RRWEB_SOURCE.MouseMove,
  RRWEB_SOURCE.MouseInteraction,
  RRWEB_SOURCE.Scroll,
  RRWEB_SOURCE.Input,
  6, // TouchMove
]);

export interface SessionKeeperDeps {
  guard: Guard;
  opener: SessionOpener;
  /** The stored ids and the visitor's last activity (session.ts). */
  ids: SessionStore;
  session: TabSession;
  numbering: EventNumbering;
  outbox: Outbox;
  recorder: Recorder;
  /** False once the tracker was stopped. */
  running(): boolean;
  /** The keyframe interval and canvas level recording should have now (options, else the server's config). */
  wanted(): { checkoutMs: number; canvas: Recorder['canvas'] };
  /** The tracker's flush period: its option, else the server's. */
  flushIntervalMs(): number;
  startRecording(): void;
  /** A page visit and a full snapshot: where a replay of new ids begins. */
  newBaseline(): void;
}

/**
 * What follows each start answer, whoever asked for it (start, a token refresh, a rotation, a retry):
 * recording (re)started as the server's config wants, a new baseline for new ids, sending resumed,
 * or a retry later; and the two other reasons to ask: a token about to expire, a visitor back after
 * the idle limit (noteActivity).
 */
export class SessionKeeper {
  constructor(private readonly deps: SessionKeeperDeps) {}

  afterOpen(result: OpenResult, fresh: boolean): void {
    this.deps.guard.run('after start', () => this.continueAfterOpen(result, fresh));
  }

  /** The sender's 401 / near-expiry path: a new token for `stream`, or word that it is gone. */
  async refresh(stream: Stream): Promise<RefreshOutcome> {
    const { session, opener } = this.deps;
    if (stream !== session.stream) return 'dead';
    const result = await opener.open(false);
    if (result === 'failed') return 'later';
    if (result === 'fatal') return 'dead';
    if (session.stream === stream) return 'ok';
    this.afterOpen(result, false);
    return 'dead';
  }

  /** A recorded event that means a person is there keeps the session alive, or, after the idle limit, rotates it. */
  noteActivity(e: eventWithTime): void {
    if (e.type !== RRWEB_EVENT.IncrementalSnapshot || !ACTIVITY_SOURCES.has((e.data as { source: number }).source)) return;
    if (this.deps.ids.touch()) this.rotate();
  }

  /** The visitor came back after the idle limit: close this session's data, open a new one. */
  rotate(): void {
    const { opener, numbering, outbox } = this.deps;
    if (opener.busy || !numbering.ready) return;
    outbox.flushNow();
    numbering.seq.unset(); // events are held until the new session's numbering starts
    void opener.open(true).then((result) => this.afterOpen(result, true));
  }

  private continueAfterOpen(result: OpenResult, fresh: boolean): void {
    const { opener, recorder, numbering, outbox } = this.deps;
    if (!this.deps.running()) return;
    if (result === 'failed') {
      opener.scheduleRetry(fresh);
      return;
    }
    if (result === 'fatal') {
      // Wrong project key or similar: nothing will ever be accepted, so stop spending the page's CPU.
      recorder.stop();
      numbering.dropHeld();
      return;
    }
    opener.succeeded();
    outbox.kick();
    const wanted = this.deps.wanted();
    const recording = recorder.recording;
    if (recording && (wanted.checkoutMs !== recorder.checkoutMs || wanted.canvas !== recorder.canvas)) {
      // The server asked for another keyframe interval or canvas level than the recording started
      // with; rrweb reads both only at record(), so restart (which also draws a new baseline).
      recorder.stop();
      this.deps.startRecording();
    } else if (!recording) this.deps.startRecording();
    else if (result === 'new' || numbering.overflowed) this.deps.newBaseline();
    numbering.overflowed = false;
    outbox.startFlushTimer(this.deps.flushIntervalMs());
  }
}
