import type { Replayer } from '@rrweb/replay';
import type { TandemEvent } from '@tandem/protocol';
import { isAbort, messageOf } from '../../lib/api/client';
import type { StreamProgress } from '../../lib/api/ndjson';
import { formatDuration } from '../../lib/format';
import { DeferredScrolls, withDeferredScrolls } from '../../lib/player/deferred-scroll';
import { discardEarlyFrame, releaseEarlyStage, type EarlyFrame } from '../../lib/player/early-frame';
import { fastForward, nextTask } from '../../lib/player/position';
import { createReplayer, moveReplayInto } from '../../lib/player/replayer';
import { skipTarget } from '../../lib/player/skip';
import { WindowCache, type WindowFetcher } from '../../lib/player/window-cache';
import { outsideSnapshotGaps, planWindows, shouldPrefetch, snapshotGaps, windowAt, type KeyframeRef, type ReplayWindow, type TabSpan } from '../../lib/player/windows';
import type { Period } from '../../lib/timeline';

export const SPEEDS = [0.5, 1, 2, 4, 8, 16] as const;
export type Speed = (typeof SPEEDS)[number];

/** rrweb's own default: stretches without input longer than this are skipped and shaded. */
export const INACTIVE_THRESHOLD_MS = 10_000;
/** How long the "Skipped 2m of inactivity" note stays up. */
const SKIP_NOTE_MS = 2_500;
interface FrameSize {
  width: number;
  height: number;
}

export interface LoadState extends StreamProgress {
  /** a guess of the window's event count from the tab's, for the progress bar; null when unknown */
  expected: number | null;
}

/** One Replayer over one loaded window, in its own element inside the stage. */
interface Mounted {
  replayer: Replayer;
  host: HTMLElement;
  window: ReplayWindow;
  /** ms since the tab's start of this Replayer's time 0 (its first event) */
  base: number;
  /** its last event has been played: the clock runs on without it until the next window */
  finished: boolean;
  /** the recorded viewport, from the window's Meta event (told while the Replayer is still built off screen) */
  size: FrameSize | null;
}

/**
 * The player clock and controls over rrweb Replayers fed one keyframe window at a time (see
 * lib/player/windows.ts). Everything the page shows about time reads `currentTime`/`now` from here;
 * everything that moves time goes through `play`, `pause` and `seek`.
 * A seek forward inside the loaded window is a `pause(t)`/`play(t)` on its Replayer; a seek elsewhere
 * (or backward) loads the window starting at the keyframe before the target and swaps in a new Replayer
 * positioned there (built off screen over a few short tasks while the old frame stays shown, so no
 * blank frame shows between the two and no task runs long). Playback crosses into the next window
 * (prefetched) the same way. Only two windows are ever held.
 * The Replayer keeps its defaults for safety: its iframe is sandboxed without `allow-scripts` and
 * rrweb's canvas replay (UNSAFE_replayCanvas, which would add it) stays off; canvas frames come from
 * lib/replay's plugin instead.
 */
export class PlayerController {
  /** ms since the tab's first event */
  currentTime = $state(0);
  /** ms from the tab's first event to its last */
  #tabTime = $state(0);
  /** epoch ms of the tab's first event */
  startTime = $state(0);
  /** the viewer's intent: the clock runs (or will, once the window is loaded) */
  playing = $state(false);
  speed = $state<Speed>(1);
  skipInactive = $state(true);
  /** stretches without user input, ms offsets; shaded on the scrub bar and jumped over */
  inactive = $state.raw<Period[]>([]);
  /**
   * Stretches with recorded call media (ms offsets): never skipped as inactive. A call is often
   * exactly when the user's page is quiet (they talk), and skipping it would skip the recording.
   */
  media = $state.raw<Period[]>([]);
  /**
   * The timeline's length: to the tab's last event, or further to the end of a recorded call that
   * outlasts it (a user often talks while the page is still, so the call's last minutes have no DOM
   * event; the replay then shows its last frame while the call plays on).
   */
  totalTime = $derived(Math.max(this.#tabTime, ...this.media.map((m) => m.end)));
  skipNote = $state<string | null>(null);
  frame = $state<FrameSize | null>(null);
  /** a window the current moment needs is loading (the first one, or after a far seek) */
  loading = $state.raw<LoadState | null>(null);
  error = $state<string | null>(null);
  /** a frame has been drawn for the current tab */
  ready = $state(false);
  /** index of the window on screen (tests and the bench read it from the DOM) */
  windowIndex = $state(-1);
  /** how many windows the tab was split into */
  windowCount = $state(0);
  /** stretches held in memory, shaded on the scrub bar like a video's buffer */
  buffered = $state.raw<Period[]>([]);
  /** the replayed moment as epoch ms, to compare with panel entries' `ts` */
  now = $derived(this.startTime + this.currentTime);
  ended = $derived(this.totalTime > 0 && this.currentTime >= this.totalTime);

  #windows: ReplayWindow[] = [];
  #gaps: { start: number; end: number }[] = [];
  #cache: WindowCache | null = null;
  #eventCount = 0;
  #stage: HTMLElement | null = null;
  #mounted: Mounted | null = null;
  /** bumps on every move: a window that arrives for an older one is not shown */
  #token = 0;
  #raf = 0;
  #lastTick = 0;
  #noteTimer: ReturnType<typeof setTimeout> | undefined;
  /** a share link's frame built before the app (lib/player/early-frame.ts), for the first open to adopt */
  #early: Promise<EarlyFrame | null> | null = null;

  /** Starts over with another tab: its windows are planned from the session's keyframes. */
  configure(tab: TabSpan & { eventCount: number }, keyframes: readonly KeyframeRef[], fetch: WindowFetcher): void {
    this.detach();
    this.#windows = planWindows(tab, keyframes);
    this.windowCount = this.#windows.length;
    this.#gaps = snapshotGaps(tab, keyframes);
    this.windowIndex = -1;
    this.#eventCount = tab.eventCount;
    this.#cache = new WindowCache(fetch, () => this.#updateBuffered());
    this.startTime = tab.startedAt;
    this.#tabTime = Math.max(0, tab.endedAt - tab.startedAt);
    this.currentTime = 0;
    this.ready = false;
    this.error = null;
    this.buffered = [];
  }

  setStage(stage: HTMLElement | null): void {
    this.#stage = stage;
  }

  /**
   * Shows `offset` (ms since the tab's start), then plays if `play`. `early`: a frame of this tab built
   * before the app; adopted when it shows that moment of the window the player picks, else discarded.
   */
  open(offset: number, play: boolean, early: Promise<EarlyFrame | null> | null = null): Promise<void> {
    this.playing = play;
    this.#dropEarly();
    this.#early = early;
    return this.#goto(offset);
  }

  detach(): void {
    this.#dropEarly();
    this.#token++;
    this.#stopClock();
    clearTimeout(this.#noteTimer);
    this.skipNote = null;
    this.#unmount(this.#mounted);
    this.#mounted = null;
    this.#cache?.clear();
    this.playing = false;
    this.loading = null;
    this.frame = null;
  }

  play(): void {
    if (!this.#cache) return;
    if (this.ended) this.currentTime = 0;
    this.playing = true;
    void this.#goto(this.currentTime);
  }

  pause(): void {
    this.playing = false;
    this.#stopClock();
    const m = this.#mounted;
    if (!m) return;
    if (!m.finished) this.currentTime = clamp(m.base + m.replayer.getCurrentTime(), 0, this.totalTime);
    m.replayer.pause();
  }

  toggle(): void {
    if (this.playing) this.pause();
    else this.play();
  }

  /** Moves to `offset` ms, keeping the play/pause state. */
  seek(offset: number): void {
    if (!this.#cache) return;
    void this.#goto(offset);
  }

  /** Moves to an epoch-ms timestamp (a panel entry or marker). */
  seekTo(ts: number): void {
    this.seek(ts - this.startTime);
  }

  setSpeed(speed: Speed): void {
    this.speed = speed;
    this.#mounted?.replayer.setConfig({ speed });
  }

  setSkipInactive(skip: boolean): void {
    this.skipInactive = skip;
  }

  async #goto(offset: number): Promise<void> {
    const cache = this.#cache;
    if (!cache || this.#windows.length === 0) return;
    const token = ++this.#token;
    const target = outsideSnapshotGaps(this.#gaps, clamp(offset, 0, this.totalTime));
    const shown = this.currentTime;
    this.currentTime = target;
    const window = windowAt(this.#windows, target);
    const m = this.#mounted;
    // Forward in the shown window: rrweb applies only the events in between. Backward it would rebuild
    // the keyframe and replay up to `target` in one task, so that builds a new Replayer like a far seek.
    if (m && m.window.index === window.index && target >= shown) {
      this.loading = null;
      this.#position(m, target);
      return;
    }
    this.#stopClock();
    m?.replayer.pause();
    const early = this.#early;
    this.#early = null;
    if (early) {
      this.loading = { items: 0, bytes: 0, expected: this.#expectedEvents(window) };
      const frame = await early;
      const fits = frame && frame.window.fromSeq === window.fromSeq && frame.window.toSeq === window.toSeq && frame.target === target;
      if (frame && fits && token === this.#token && !this.#mounted && this.#stage) {
        this.#adopt(frame, window, target);
        return;
      }
      if (frame) discardEarlyFrame(frame);
      if (token !== this.#token) return;
    }
    let events = cache.get(window.index);
    if (!events) {
      const expected = this.#expectedEvents(window);
      this.loading = { items: 0, bytes: 0, expected };
      try {
        events = await cache.load(window, (p) => {
          if (token === this.#token) this.loading = { ...p, expected };
        });
      } catch (err) {
        if (token === this.#token && !isAbort(err)) {
          this.loading = null;
          this.error = messageOf(err);
          this.playing = false;
        }
        return;
      }
      if (token !== this.#token) return;
      this.loading = null;
    }
    if (events.length === 0) {
      this.error = 'This part of the recording has no events.';
      this.playing = false;
      return;
    }
    this.error = null;
    // A frame is on screen (a seek): the window's read, asset rewrite and the page's updates for them ran
    // in this task (promise continuations), so the Replayer's build gets a task of its own. The first
    // frame has nothing to keep responsive and is built at once (each task boundary can cost the page a
    // render of its own before the frame).
    const sliced = this.#mounted !== null;
    if (sliced) {
      await nextTask();
      if (token !== this.#token) return;
    }
    await this.#swap(window, events, target, token, sliced);
  }

  /**
   * Builds a Replayer for `window` off screen, positions it at `target` over a few tasks (the shown
   * frame stays meanwhile), then shows it and removes the old one. A newer move (token) abandons it.
   */
  async #swap(window: ReplayWindow, events: TandemEvent[], target: number, token: number, sliced: boolean): Promise<void> {
    const stage = this.#stage;
    if (!stage) return;
    const host = document.createElement('div');
    host.className = 'replay-host';
    // Built without layout (display: none) while the old frame stays shown; first in the stage, so the
    // replaced one is under it until its own task removes it (#retire).
    host.style.display = 'none';
    stage.prepend(host);
    const replayer = createReplayer(events, host, this.speed);
    const mounted: Mounted = { replayer, host, window, base: events[0].timestamp - this.startTime, finished: false, size: null };
    this.#watch(mounted);
    performance.mark('tandem:replayer-built');
    const scrolls = new DeferredScrolls(replayer.iframe.contentWindow);
    if (!(await fastForward(replayer, events, Math.max(0, target - mounted.base), scrolls, () => token === this.#token, sliced))) {
      this.#unmount(mounted);
      return;
    }
    const old = this.#mounted;
    this.#show(mounted);
    host.style.display = '';
    scrolls.flush();
    this.#position(mounted, target);
    this.#retire(old);
    performance.mark('tandem:replayer-positioned');
    this.#settle(window);
  }

  /** `mounted` becomes the replay shown (its window's index, its page's size). */
  #show(mounted: Mounted): void {
    this.#mounted = mounted;
    if (mounted.size) this.frame = mounted.size;
    this.windowIndex = mounted.window.index;
  }

  /** The shown window is positioned: the player is ready, and the cache keeps the windows around it. */
  #settle(window: ReplayWindow): void {
    this.ready = true;
    this.#cache?.keepAround(window.index, this.#windows.length);
  }

  /** Keeps `m.size` and `m.finished` from its Replayer's events. */
  #watch(mounted: Mounted): void {
    mounted.replayer.on('resize', (size) => {
      const { width, height } = size as FrameSize;
      if (width <= 0 || height <= 0) return;
      mounted.size = { width, height };
      if (this.#mounted === mounted) this.frame = mounted.size;
    });
    mounted.replayer.on('finish', () => {
      if (this.#mounted === mounted) mounted.finished = true;
    });
  }

  /**
   * Takes over the frame built before the app: its iframe moves into the stage (keeping its page), its
   * events become the window's in the cache, and it is positioned like a Replayer built here.
   */
  #adopt(frame: EarlyFrame, window: ReplayWindow, target: number): void {
    const mounted: Mounted = { replayer: frame.replayer, host: frame.host, window, base: frame.base, finished: false, size: frame.size };
    this.#watch(mounted);
    if (this.speed !== 1) frame.replayer.setConfig({ speed: this.speed });
    moveReplayInto(this.#stage!, frame.host);
    releaseEarlyStage(frame);
    this.#cache?.put(window.index, frame.events);
    this.loading = null;
    this.error = null;
    this.#show(mounted);
    this.#position(mounted, target);
    performance.mark('tandem:early-adopted');
    this.#settle(window);
  }

  #dropEarly(): void {
    const early = this.#early;
    this.#early = null;
    void early?.then((frame) => frame && discardEarlyFrame(frame));
  }

  #position(m: Mounted, target: number): void {
    m.finished = false;
    const local = Math.max(0, target - m.base);
    const playing = this.playing;
    if (!playing) this.#stopClock();
    // One layout for the whole positioning instead of one per recorded scroll (lib/player/deferred-scroll.ts).
    withDeferredScrolls(m.replayer.iframe.contentWindow, () => (playing ? m.replayer.play(local) : m.replayer.pause(local)));
    if (playing) this.#startClock();
  }

  /**
   * Takes a replaced Replayer off screen now and tears it down in a task of its own: removing an iframe
   * holding a rebuilt page (~1,500 nodes) costs 5–300 ms, and in the swap's task it made the longest task of
   * a seek (rrweb's rebuild and positioning, then this). Hidden first, so the new frame is the only one shown.
   */
  #retire(m: Mounted | null): void {
    if (!m) return;
    m.host.style.display = 'none'; // already paused by #goto
    setTimeout(() => this.#unmount(m), 0);
  }

  #unmount(m: Mounted | null): void {
    if (!m) return;
    try {
      m.replayer.destroy();
    } catch {
      // destroy() removes its wrapper from `root`; a root already gone from the DOM is fine.
    }
    m.host.remove();
  }

  #expectedEvents(window: ReplayWindow): number | null {
    if (this.#tabTime <= 0 || this.#eventCount <= 0) return null;
    return Math.max(1, Math.round((this.#eventCount * (window.end - window.start)) / this.#tabTime));
  }

  #updateBuffered(): void {
    const cache = this.#cache;
    this.buffered = cache
      ? cache.loadedIndexes().map((i) => ({ start: this.#windows[i].start, end: this.#windows[i].end }))
      : [];
  }

  /** While playing, jumps over the quiet stretch the clock is in, if any. */
  #skipIfInactive(time: number): boolean {
    const target = this.skipInactive ? skipTarget(time, this.inactive, this.media) : null;
    if (target === null) return false;
    this.skipNote = `Skipped ${formatDuration(target - time)} of inactivity`;
    clearTimeout(this.#noteTimer);
    this.#noteTimer = setTimeout(() => (this.skipNote = null), SKIP_NOTE_MS);
    this.seek(target);
    return true;
  }

  // The Replayer has no time event, so the clock is read once per frame while playing. After a
  // window's last event the Replayer stops; the clock then runs on wall time until the next window.
  #tick = (wallNow: number): void => {
    this.#raf = 0;
    const m = this.#mounted;
    if (!m || !this.playing) return;
    const elapsed = Math.max(0, wallNow - this.#lastTick) * this.speed;
    this.#lastTick = wallNow;
    const time = Math.min(this.totalTime, m.finished ? this.currentTime + elapsed : m.base + m.replayer.getCurrentTime());
    this.currentTime = Math.max(0, time);
    if (time >= this.totalTime) {
      this.playing = false;
      m.replayer.pause();
      return;
    }
    if (this.#skipIfInactive(time)) return;
    const next = this.#windows[m.window.index + 1];
    if (next && time >= next.start) {
      void this.#goto(time);
      return;
    }
    if (next && shouldPrefetch(m.window, time, this.speed, this.#windows.length)) {
      this.#cache?.load(next).catch(() => {
        // A failed prefetch is retried (and reported) when playback reaches that window.
      });
    }
    this.#raf = requestAnimationFrame(this.#tick);
  };

  #startClock(): void {
    if (this.#raf) return;
    this.#lastTick = performance.now();
    this.#raf = requestAnimationFrame(this.#tick);
  }

  #stopClock(): void {
    if (this.#raf) cancelAnimationFrame(this.#raf);
    this.#raf = 0;
  }
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
