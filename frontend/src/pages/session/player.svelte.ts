import { Replayer } from '@rrweb/replay';
import '@rrweb/replay/dist/style.css';
import type { TandemEvent } from '@tandem/protocol';

export const SPEEDS = [1, 2, 4, 8] as const;
export type Speed = (typeof SPEEDS)[number];

/** rrweb's own default: stretches without input longer than this are fast-forwarded and shaded. */
export const INACTIVE_THRESHOLD_MS = 10_000;

interface FrameSize {
  width: number;
  height: number;
}

interface StateChange {
  player?: { matches(state: string): boolean };
}

/**
 * The player clock and controls over rrweb's Replayer. Everything the page shows about time
 * (scrub bar, time label, panel highlighting) reads `currentTime`/`now` from here; everything that
 * moves time goes through `play`, `pause` and `seek`.
 * The Replayer keeps its defaults for safety: its iframe is sandboxed without `allow-scripts` and
 * canvas replay (UNSAFE_replayCanvas) stays off.
 */
export class PlayerController {
  /** ms since the first event of the replayed tab */
  currentTime = $state(0);
  totalTime = $state(0);
  /** epoch ms of the first event */
  startTime = $state(0);
  playing = $state(false);
  speed = $state<Speed>(1);
  skipInactive = $state(true);
  /** true while rrweb fast-forwards through an inactive stretch */
  skipping = $state(false);
  frame = $state<FrameSize | null>(null);
  /** the replayed moment as epoch ms, to compare with panel entries' `ts` */
  now = $derived(this.startTime + this.currentTime);
  ended = $derived(this.totalTime > 0 && this.currentTime >= this.totalTime);

  #replayer: Replayer | null = null;
  #raf = 0;

  attach(root: HTMLElement, events: TandemEvent[]): void {
    this.detach();
    const replayer = new Replayer(events, {
      root,
      speed: this.speed,
      skipInactive: this.skipInactive,
      inactivePeriodThreshold: INACTIVE_THRESHOLD_MS,
      showWarning: false,
      triggerFocus: false,
      mouseTail: { duration: 600, lineWidth: 3, strokeStyle: 'rgba(79, 70, 229, 0.45)' },
    });
    this.#replayer = replayer;
    const meta = replayer.getMetaData();
    this.startTime = meta.startTime;
    this.totalTime = meta.totalTime;
    this.currentTime = 0;
    this.playing = false;
    this.skipping = false;

    replayer.on('resize', (size) => {
      const { width, height } = size as FrameSize;
      if (width > 0 && height > 0) this.frame = { width, height };
    });
    replayer.on('skip-start', () => (this.skipping = true));
    replayer.on('skip-end', () => (this.skipping = false));
    replayer.on('state-change', (change) => {
      const player = (change as StateChange).player;
      if (player) this.playing = player.matches('playing');
    });
    replayer.on('finish', () => {
      this.playing = false;
      this.skipping = false;
      this.currentTime = this.totalTime;
      this.#stopClock();
    });
  }

  detach(): void {
    this.#stopClock();
    const replayer = this.#replayer;
    this.#replayer = null;
    if (!replayer) return;
    try {
      replayer.destroy();
    } catch {
      // destroy() removes its wrapper from `root`; a root already gone from the DOM is fine.
    }
    this.playing = false;
    this.frame = null;
  }

  play(): void {
    const replayer = this.#replayer;
    if (!replayer) return;
    if (this.ended) this.currentTime = 0;
    replayer.play(this.currentTime);
    this.playing = true;
    this.#startClock();
  }

  pause(): void {
    const replayer = this.#replayer;
    if (!replayer) return;
    replayer.pause();
    this.playing = false;
    this.skipping = false;
    this.currentTime = clamp(replayer.getCurrentTime(), 0, this.totalTime);
    this.#stopClock();
  }

  toggle(): void {
    if (this.playing) this.pause();
    else this.play();
  }

  /** Moves to `offset` ms, keeping the play/pause state. */
  seek(offset: number): void {
    const replayer = this.#replayer;
    if (!replayer) return;
    const target = clamp(offset, 0, this.totalTime);
    this.currentTime = target;
    this.skipping = false;
    if (this.playing) {
      replayer.play(target);
      this.#startClock();
    } else {
      replayer.pause(target);
    }
  }

  /** Moves to an epoch-ms timestamp (a panel entry or marker). */
  seekTo(ts: number): void {
    this.seek(ts - this.startTime);
  }

  setSpeed(speed: Speed): void {
    this.speed = speed;
    this.#replayer?.setConfig({ speed });
  }

  setSkipInactive(skip: boolean): void {
    this.skipInactive = skip;
    this.#replayer?.setConfig({ skipInactive: skip });
    if (!skip) this.skipping = false;
  }

  // The Replayer has no time event, so the clock is read once per frame while playing.
  #startClock(): void {
    if (this.#raf) return;
    const tick = () => {
      const replayer = this.#replayer;
      if (!replayer || !this.playing) {
        this.#raf = 0;
        return;
      }
      this.currentTime = clamp(replayer.getCurrentTime(), 0, this.totalTime);
      this.#raf = requestAnimationFrame(tick);
    };
    this.#raf = requestAnimationFrame(tick);
  }

  #stopClock(): void {
    if (this.#raf) cancelAnimationFrame(this.#raf);
    this.#raf = 0;
  }
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
