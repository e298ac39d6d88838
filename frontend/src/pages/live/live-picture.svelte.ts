import { Replayer } from '@rrweb/replay';
import { RRWEB_EVENT, type TandemEvent } from '@tandem/protocol';
import { liveTimestamp, median, userToAgent } from '../../lib/live/clock';
import type { FrameSize } from '../../lib/stage';
import { REPLAY_STYLE_RULES } from '../../lib/replay';
import { assertSandboxed, MOUSE_TAIL, safeDestroy } from './replayer-safety';

/** Latency read-out: median of the last N incremental events drawn. */
const LATENCY_WINDOW = 64;

interface Picture {
  replayer: Replayer;
  /** agent-clock ms passed to startLive */
  baseline: number;
  /** performance.now() at startLive: "now" on the Replayer's own timer, immune to wall-clock steps */
  perfBase: number;
  /** built ahead (`prepare`), nothing given to it yet: the next snapshot is drawn in it */
  fresh: boolean;
}

/**
 * The live Replayer of a live view: `new Replayer([], {liveMode, useVirtualDom:false})` started at
 * this browser's now (DESIGN.md §9: with the virtual DOM, events older than the baseline are never
 * drawn). Each event's timestamp is moved to this browser's clock and clamped into [baseline, now]
 * (`liveTimestamp`), so it is drawn on the next animation frame whatever the user's clock says. It
 * also measures change → drawn latency.
 */
export class LivePicture {
  /** a full snapshot was drawn */
  drawn = $state(false);
  frame = $state<FrameSize | null>(null);
  /** median ms from the user's change to drawn here (on the corrected clocks) */
  latencyMs = $state<number | null>(null);

  #picture = $state.raw<Picture | null>(null);
  #root: HTMLElement | null = null;
  #agentOffsetMs: () => number;
  #onDrawn: () => void;
  #castAt = new WeakMap<object, number>();
  #latency: number[] = [];
  #latencyShownAt = 0;
  /** performance.now() when the current picture was drawn */
  #pictureAt = 0;

  constructor(agentOffsetMs: () => number, onDrawn: () => void) {
    this.#agentOffsetMs = agentOffsetMs;
    this.#onDrawn = onDrawn;
  }

  /** The Replayer now (reactive: a fresh start replaces it), for the layers drawn over it. */
  get replayer(): Replayer | null {
    return this.#picture?.replayer ?? null;
  }

  setRoot(root: HTMLElement): void {
    this.#root = root;
  }

  /**
   * Builds the Replayer (its sandboxed iframe, rrweb's styles) before the snapshot arrives: ~20 ms on
   * a quiet machine and several times that under load, spent while the view waits on the network
   * (the join, the user's snapshot) instead of after the snapshot arrived. The next `start` uses it.
   */
  prepare(): void {
    if (this.#picture) return;
    this.#create(true);
  }

  /** A fresh Replayer (a Meta that does not follow on, or the first one). */
  start(): void {
    const ready = this.#picture;
    if (ready?.fresh) {
      ready.fresh = false;
      return;
    }
    this.destroy();
    this.#create(false);
  }

  #create(fresh: boolean): void {
    const root = this.#root;
    if (!root?.isConnected) return;
    const replayer = new Replayer([], {
      root,
      liveMode: true,
      useVirtualDom: false,
      showWarning: false,
      triggerFocus: false,
      insertStyleRules: REPLAY_STYLE_RULES,
      mouseTail: MOUSE_TAIL,
    });
    assertSandboxed(replayer);
    const baseline = Date.now();
    const perfBase = performance.now();
    replayer.startLive(baseline);
    this.#picture = { replayer, baseline, perfBase, fresh };
    this.drawn = false;
    replayer.on('resize', (size) => {
      const { width, height } = size as FrameSize;
      if (this.#picture?.replayer === replayer && width > 0 && height > 0) this.frame = { width, height };
    });
    replayer.on('fullsnapshot-rebuilded', () => {
      if (this.#picture?.replayer !== replayer) return;
      this.drawn = true;
      this.#pictureAt = performance.now();
      this.#onDrawn();
    });
    replayer.on('event-cast', (event) => {
      const agentTs = this.#castAt.get(event as object);
      if (agentTs !== undefined) this.#sampleLatency(Date.now() - agentTs);
    });
  }

  /** Hands one event to the Replayer on the agent's clock (see `liveTimestamp`). */
  feed(event: TandemEvent, tabClockOffsetMs: number): void {
    const live = this.#picture;
    if (!live) return;
    live.fresh = false;
    const agentTs = userToAgent(event.timestamp, tabClockOffsetMs, this.#agentOffsetMs());
    const now = live.baseline + (performance.now() - live.perfBase);
    // A copy: the Replayer writes `delay` on events and filters `data.removes` in place, and the
    // original is kept for time travel.
    const copy = {
      ...event,
      data: event.type === RRWEB_EVENT.IncrementalSnapshot ? { ...(event.data as object) } : event.data,
      timestamp: liveTimestamp(agentTs, live.baseline, now),
    } as TandemEvent;
    if (event.type === RRWEB_EVENT.IncrementalSnapshot) this.#castAt.set(copy, agentTs);
    live.replayer.addEvent(copy);
  }

  /** In live mode the Replayer keeps every event it was given: keep only the current picture's. */
  trim(): void {
    const events = this.#picture?.replayer.service.state.context.events;
    if (!events) return;
    for (let i = events.length - 1; i > 0; i--) {
      if (events[i].type === RRWEB_EVENT.Meta) {
        events.splice(0, i);
        return;
      }
    }
  }

  destroy(): void {
    const live = this.#picture;
    this.#picture = null;
    this.drawn = false;
    if (live) safeDestroy(live.replayer);
  }

  #sampleLatency(ms: number): void {
    // Events right after a snapshot waited for it to arrive and be built: not the steady latency.
    if (performance.now() - this.#pictureAt < 1_000) return;
    this.#latency.push(ms);
    if (this.#latency.length > LATENCY_WINDOW) this.#latency.shift();
    const t = performance.now();
    if (t - this.#latencyShownAt > 500) {
      this.#latencyShownAt = t;
      const m = median(this.#latency);
      this.latencyMs = m === null ? null : Math.round(m);
    }
  }
}
