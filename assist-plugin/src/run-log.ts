import { RRWEB_EVENT, type Guard, type TandemEvent } from '@tandem/protocol';

/**
 * At most this many events after the snapshot are kept. Why: an agent rebuilds the page from the
 * snapshot and then applies every event kept; past a few hundred mutations that replay costs it more
 * than a fresh snapshot costs the user's page, and the page would hold them all in memory.
 */
export const RUN_LOG_MAX_EVENTS = 1_000;

/**
 * How long the log is kept after the last agent stopped watching. Why: an agent who reloads the live
 * view, comes back from another tab or a second agent joining soon after are served without a new
 * snapshot; a page nobody watched for a minute keeps nothing (and no listener) and pays a fresh
 * snapshot at the next join, as before.
 */
export const RUN_LOG_KEEP_MS = 60_000;

/**
 * The current run of the tracker's bus as the agents would get it: the last Meta + FullSnapshot and
 * every event published after them, with consecutive seqs. A joining agent can be sent this instead of
 * a new snapshot (rrweb's serialize of a large page is most of the user's cost of a join): replaying a
 * snapshot and every event after it in order is how a recording reproduces a page, and the node ids
 * are the recorder's own as long as it was not restarted (a restart publishes a new Meta, which starts
 * a new log). Anything that breaks that chain — a seq jump, a run that does not begin with Meta +
 * FullSnapshot, more than RUN_LOG_MAX_EVENTS — empties the log until the next Meta.
 *
 * Pure logic (the plugin subscribes it to the bus and decides when it may be used), unit tested.
 */
export class RunLog {
  private events: TandemEvent[] = [];

  /** A bus event. */
  push(e: TandemEvent): void {
    if (e.type === RRWEB_EVENT.Meta) {
      this.events = [e];
      return;
    }
    const n = this.events.length;
    if (n === 0) return;
    const fits = e.seq === this.events[n - 1].seq + 1 && (n > 1 || e.type === RRWEB_EVENT.FullSnapshot) && n - 2 < RUN_LOG_MAX_EVENTS;
    if (fits) this.events.push(e);
    else this.events = [];
  }

  /** The run so far (Meta, FullSnapshot, then what followed), or null when there is none to reuse. */
  replay(): TandemEvent[] | null {
    return this.events.length >= 2 ? this.events.slice() : null;
  }

  get size(): number {
    return this.events.length;
  }

  clear(): void {
    this.events = [];
  }
}

/** Where a kept run comes from and how failures are reported (the plugin's host and guard, read when used). */
export interface KeptRunDeps {
  bus(): { subscribe(fn: (e: TandemEvent) => void): () => void } | null;
  guard(): Guard;
}

/**
 * The run log wired to the bus: tapped while someone watches and RUN_LOG_KEEP_MS after the last agent
 * left (or the socket dropped), then untapped and emptied, so a page nobody watches keeps nothing.
 */
export class KeptRun {
  private readonly log = new RunLog();
  private unsub: (() => void) | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly deps: KeptRunDeps) {}

  /** Taps the bus (before any snapshot is taken, so it sees that snapshot's Meta); cancels a pending expiry. */
  keep(): void {
    this.clearTimer();
    const bus = this.unsub ? null : this.deps.bus();
    if (bus) this.unsub = bus.subscribe(this.deps.guard().wrap('run log', (e: TandemEvent) => this.log.push(e)) as (e: TandemEvent) => void);
  }

  /** Nobody watches now: the run stays RUN_LOG_KEEP_MS for an agent coming back, then goes. */
  expireLater(): void {
    if (this.unsub && !this.timer) this.timer = setTimeout(this.deps.guard().wrap('run log expiry', () => this.drop()), RUN_LOG_KEEP_MS);
  }

  /** Untaps the bus and forgets the run (the user's Stop or Decline, a consent request, a new room). */
  drop(): void {
    this.clearTimer();
    if (this.unsub) this.unsub();
    this.unsub = null;
    this.log.clear();
  }

  /** The run so far (Meta, FullSnapshot, what followed), or null when there is none to reuse. */
  replay(): TandemEvent[] | null {
    return this.log.replay();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
