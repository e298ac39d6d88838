import type { LiveEventsMessage } from '@tandem/protocol';

/**
 * The live view's waiting rules (live-view.svelte.ts keeps the join itself): how long it waits for a
 * picture before asking again, how long a rejoin after a reconnect keeps trying, and what it keeps of
 * the events that arrive before the join's answer.
 */

/** After joining, switching tabs or asking for a resync: how long to wait for a picture before asking (again). */
export const NO_PICTURE_MS = 3_000;
/** Asking again doubles the wait up to this (a tab that cannot answer is not asked every 3 s forever). */
export const NO_PICTURE_MAX_MS = 15_000;
/**
 * After a reconnect (a server restart, a network blip) the user's tabs may come back a little after us:
 * "not live" then means "not back yet". Keep asking this long before calling it gone.
 */
export const REJOIN_GRACE_MS = 45_000;
export const REJOIN_EVERY_MS = 2_000;
/** Events that arrive before the join's answer (kept, then sorted out once we know the watched tab). */
export const EARLY_MAX = 2_000;

/** What the watchdog asks of the view each time it fires. */
export interface WatchdogHost {
  /** Stop for good (destroyed, ended, failed, not joined). */
  idle(): boolean;
  /** The picture is up and nothing is awaited. */
  satisfied(): boolean;
  /** Asking would be pointless now (consent pending, socket down): wait the same again. */
  holdOff(): boolean;
  /** Ask the watched tab for a fresh snapshot. */
  ask(): void;
}

/** No picture within a few seconds of asking for one: ask again, less and less often. */
export class PictureWatchdog {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #host: WatchdogHost;

  constructor(host: WatchdogHost) {
    this.#host = host;
  }

  arm(delay = NO_PICTURE_MS): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      const host = this.#host;
      if (host.idle() || host.satisfied()) return;
      if (host.holdOff()) {
        this.arm(delay);
        return;
      }
      host.ask();
      this.arm(Math.min(delay * 2, NO_PICTURE_MAX_MS));
    }, delay);
  }

  clear(): void {
    clearTimeout(this.#timer);
  }
}

/** A joined view whose session is "not found" after a reconnect keeps asking for REJOIN_GRACE_MS. */
export class RejoinGrace {
  #since = 0;

  /** True while still within the grace that started at the first refusal. */
  allowed(now = Date.now()): boolean {
    if (!this.#since) this.#since = now;
    return now - this.#since < REJOIN_GRACE_MS;
  }

  /** Joined again: the next refusal starts a new grace. */
  reset(): void {
    this.#since = 0;
  }
}

/** The events that came before the join's answer, at most EARLY_MAX of them. */
export class EarlyEvents {
  #messages: LiveEventsMessage[] = [];
  #count = 0;

  push(message: LiveEventsMessage): void {
    if (this.#count + message.events.length > EARLY_MAX) return;
    this.#messages.push(message);
    this.#count += message.events.length;
  }

  /** Hands the kept messages over (in arrival order) and empties the buffer. */
  take(): LiveEventsMessage[] {
    const messages = this.#messages;
    this.clear();
    return messages;
  }

  clear(): void {
    this.#messages = [];
    this.#count = 0;
  }
}

/**
 * How long the first picture may wait for a canvas answer (AnswerFirst): the answer's three main-thread
 * steps take a few ms each on a quiet machine; past this, on a busy one, the picture goes first anyway.
 */
export const ANSWER_FIRST_MAX_MS = 200;

/**
 * The first picture's events wait while a canvas offer is being answered (PeerMesh.answered). The
 * snapshot's rebuild is one long main-thread task (hundreds of ms on a big page), and the answer's steps
 * each need the main thread: drawn first, the picture pushed the answer, and so the canvas video, behind
 * the whole rebuild; answered first, the peer connects while the picture is built. Once only: later
 * snapshots (resyncs, tab switches) are never held. Messages keep their order (held ones first).
 */
export class AnswerFirst<M> {
  #queue: M[] | null = null;
  #done = false;
  readonly #answered: () => Promise<void> | null;
  readonly #maxMs: number;

  constructor(answered: () => Promise<void> | null, maxMs = ANSWER_FIRST_MAX_MS) {
    this.#answered = answered;
    this.#maxMs = maxMs;
  }

  /** True when `message` is held; `handle` then gets it (and any held after it) in order, later. */
  hold(message: M, handle: (m: M) => void): boolean {
    if (this.#queue) {
      this.#queue.push(message);
      return true;
    }
    if (this.#done) return false;
    this.#done = true;
    const pending = this.#answered();
    if (!pending) return false;
    const queue = (this.#queue = [message]);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const release = () => {
      clearTimeout(timer);
      if (this.#queue !== queue) return;
      this.#queue = null;
      for (const m of queue) handle(m);
    };
    timer = setTimeout(release, this.#maxMs);
    void pending.then(release);
    return true;
  }
}
