import { Replayer } from '@rrweb/replay';
import '@rrweb/replay/dist/style.css';
import type { TandemEvent } from '@tandem/protocol';
import { formatDuration } from '../../lib/format';
import { inactivePeriods, type Period } from '../../lib/timeline';

export const SPEEDS = [1, 2, 4, 8] as const;
export type Speed = (typeof SPEEDS)[number];

/** rrweb's own default: stretches without input longer than this are skipped and shaded. */
export const INACTIVE_THRESHOLD_MS = 10_000;
/**
 * When skipping, play this much of the quiet stretch first (so the last action settles on screen)
 * and land this long before the next action (so the viewer sees it coming).
 */
const SKIP_LEAD_MS = 1_000;
const SKIP_TAIL_MS = 1_000;
/** How long the "Skipped 2m of inactivity" note stays up. */
const SKIP_NOTE_MS = 2_500;

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
 * Skipping inactivity is a jump (a seek to just before the next input) rather than rrweb's
 * fast-forward, which spends ~5 s on every quiet stretch however long it is.
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
  /** stretches without user input, ms offsets; shaded on the scrub bar and jumped over */
  inactive = $state.raw<Period[]>([]);
  /** set for a moment after a jump over an inactive stretch, for the note in the controls */
  skipNote = $state<string | null>(null);
  frame = $state<FrameSize | null>(null);
  /** the replayed moment as epoch ms, to compare with panel entries' `ts` */
  now = $derived(this.startTime + this.currentTime);
  ended = $derived(this.totalTime > 0 && this.currentTime >= this.totalTime);

  #replayer: Replayer | null = null;
  #raf = 0;
  #noteTimer: ReturnType<typeof setTimeout> | undefined;

  attach(root: HTMLElement, events: TandemEvent[]): void {
    this.detach();
    const replayer = new Replayer(events, {
      root,
      speed: this.speed,
      skipInactive: false,
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
    this.skipNote = null;
    this.inactive = inactivePeriods(events, INACTIVE_THRESHOLD_MS);

    replayer.on('resize', (size) => {
      const { width, height } = size as FrameSize;
      if (width > 0 && height > 0) this.frame = { width, height };
    });
    replayer.on('state-change', (change) => {
      const player = (change as StateChange).player;
      if (player) this.playing = player.matches('playing');
    });
    replayer.on('finish', () => {
      this.playing = false;
      this.currentTime = this.totalTime;
      this.#stopClock();
    });
  }

  detach(): void {
    this.#stopClock();
    clearTimeout(this.#noteTimer);
    this.skipNote = null;
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
  }

  /** While playing, jumps over the quiet stretch the clock is in, if any. */
  #skipIfInactive(time: number): void {
    if (!this.skipInactive) return;
    const period = this.inactive.find((p) => time >= p.start + SKIP_LEAD_MS && time < p.end - SKIP_TAIL_MS);
    if (!period) return;
    const target = period.end - SKIP_TAIL_MS;
    this.skipNote = `Skipped ${formatDuration(target - time)} of inactivity`;
    clearTimeout(this.#noteTimer);
    this.#noteTimer = setTimeout(() => (this.skipNote = null), SKIP_NOTE_MS);
    this.seek(target);
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
      this.#skipIfInactive(this.currentTime);
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
