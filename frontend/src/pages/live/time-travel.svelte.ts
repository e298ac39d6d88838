import { Replayer } from '@rrweb/replay';
import type { TandemEvent } from '@tandem/protocol';
import { isAbort, messageOf, type ApiClient } from '../../lib/api/client';
import { serverToUser, userToServer } from '../../lib/live/clock';
import { hasPicture, mergeBySeq, replayOffset } from '../../lib/live/merge';
import { REPLAY_STYLE_RULES } from '../../lib/replay';
import type { FrameSize } from '../../lib/stage';
import { assertSandboxed, MOUSE_TAIL, safeDestroy } from './replayer-safety';

/** What time travel needs from its live view. */
export interface TravelHost {
  readonly api: ApiClient;
  readonly sessionId: string;
  readonly watchedTabId: string | null;
  readonly destroyed: boolean;
  /** The timeline's span on the server clock. */
  readonly travelStart: number;
  readonly liveEdge: number;
  /** Events streamed since joining (storage lags a flush behind them). */
  streamed(): readonly TandemEvent[];
  /** serverClock − userClock of a tab. */
  offsetOf(tabId: string): number;
}

interface TravelPicture {
  replayer: Replayer;
  tabId: string;
  /** user-clock ms of the replay's first event, and its length */
  startTime: number;
  totalTime: number;
  /** highest seq in the replay, to know when newer streamed events are worth a rebuild */
  lastSeq: number;
}

/**
 * Time travel within a live session: the stored events of the watched tab merged with everything
 * streamed since joining (dedup by seq) feed a normal Replayer, paused at the chosen moment; it can
 * play from there. The live Replayer keeps drawing underneath, so going back to live is instant.
 */
export class TimeTravel {
  /** server-clock ms shown; null while live */
  at = $state<number | null>(null);
  loading = $state(false);
  error = $state<string | null>(null);
  playing = $state(false);
  frame = $state<FrameSize | null>(null);

  #host: TravelHost;
  #root: HTMLElement | null = null;
  #picture: TravelPicture | null = null;
  #target: number | null = null;
  #building = false;
  #raf = 0;
  #stored: { tabId: string; events: TandemEvent[] } | null = null;
  #storedAbort: AbortController | null = null;

  constructor(host: TravelHost) {
    this.#host = host;
  }

  setRoot(root: HTMLElement | null): void {
    this.#root = root;
  }

  /** Shows the watched tab as it was at `serverTs` (server clock), paused. */
  to(serverTs: number): void {
    const tabId = this.#host.watchedTabId;
    if (!tabId || !this.#root) return;
    const at = Math.max(this.#host.travelStart, Math.min(serverTs, this.#host.liveEdge));
    this.at = at;
    this.#target = at;
    if (this.#building) return; // the build seeks to the latest target when done
    const travel = this.#picture;
    const newer = this.#host.streamed().length > 0 && this.#host.streamed()[this.#host.streamed().length - 1].seq > (travel?.lastSeq ?? -1);
    const end = travel ? userToServer(travel.startTime + travel.totalTime, this.#host.offsetOf(travel.tabId)) : 0;
    if (travel && travel.tabId === tabId && !(newer && at > end)) {
      this.#seek(at);
      return;
    }
    void this.#build(tabId);
  }

  async #build(tabId: string): Promise<void> {
    this.#building = true;
    this.loading = true;
    this.error = null;
    const wasPlaying = this.playing;
    this.#stopClock();
    try {
      if (!this.#stored || this.#stored.tabId !== tabId) {
        this.#storedAbort?.abort();
        const abort = new AbortController();
        this.#storedAbort = abort;
        const events = await this.#host.api.events(this.#host.sessionId, tabId, () => {}, abort.signal);
        this.#stored = { tabId, events };
      }
      if (this.at === null || this.#host.watchedTabId !== tabId || this.#host.destroyed) return;
      const merged = mergeBySeq(this.#stored.events, tabId === this.#host.watchedTabId ? this.#host.streamed() : []);
      if (!hasPicture(merged)) {
        this.error = 'Nothing of this tab is stored yet. Try again in a few seconds.';
        return;
      }
      this.#destroyPicture();
      const root = this.#root;
      if (!root?.isConnected) return;
      const replayer = new Replayer(merged, {
        root,
        speed: 1,
        skipInactive: false,
        showWarning: false,
        triggerFocus: false,
        insertStyleRules: REPLAY_STYLE_RULES,
        mouseTail: MOUSE_TAIL,
      });
      assertSandboxed(replayer);
      const meta = replayer.getMetaData();
      this.#picture = { replayer, tabId, startTime: meta.startTime, totalTime: meta.totalTime, lastSeq: merged[merged.length - 1].seq };
      replayer.on('resize', (size) => {
        const { width, height } = size as FrameSize;
        if (this.#picture?.replayer === replayer && width > 0 && height > 0) this.frame = { width, height };
      });
      replayer.on('finish', () => {
        if (this.#picture?.replayer !== replayer) return;
        this.playing = false;
        this.#stopClock();
      });
    } catch (err) {
      if (!isAbort(err)) this.error = `Could not load the recording: ${messageOf(err)}`;
    } finally {
      this.#building = false;
      this.loading = false;
    }
    if (this.at === null) {
      this.#destroyPicture();
      return;
    }
    const target = this.#target ?? this.at;
    if (this.#picture) {
      this.#seek(target);
      if (wasPlaying) this.play();
    }
  }

  #seek(serverTs: number): void {
    const travel = this.#picture;
    if (!travel) return;
    const offset = replayOffset(travel.startTime, travel.totalTime, serverToUser(serverTs, this.#host.offsetOf(travel.tabId)));
    if (this.playing) travel.replayer.play(offset);
    else travel.replayer.pause(offset);
  }

  play(): void {
    const travel = this.#picture;
    if (!travel || this.at === null) return;
    const offsetMs = this.#host.offsetOf(travel.tabId);
    let offset = replayOffset(travel.startTime, travel.totalTime, serverToUser(this.at, offsetMs));
    if (offset >= travel.totalTime) offset = 0;
    travel.replayer.play(offset);
    this.playing = true;
    const tick = () => {
      const t = this.#picture;
      if (!t || !this.playing) {
        this.#raf = 0;
        return;
      }
      this.at = userToServer(t.startTime + t.replayer.getCurrentTime(), offsetMs);
      this.#raf = requestAnimationFrame(tick);
    };
    this.#stopClock();
    this.#raf = requestAnimationFrame(tick);
  }

  pause(): void {
    this.#picture?.replayer.pause();
    this.playing = false;
    this.#stopClock();
  }

  #stopClock(): void {
    if (this.#raf) cancelAnimationFrame(this.#raf);
    this.#raf = 0;
  }

  /** Back to live: forget the picture and the stored events. */
  leave(): void {
    this.at = null;
    this.#target = null;
    this.playing = false;
    this.error = null;
    this.#stopClock();
    this.#storedAbort?.abort();
    this.#stored = null;
    this.#destroyPicture();
  }

  #destroyPicture(): void {
    const travel = this.#picture;
    this.#picture = null;
    this.frame = null;
    if (travel) safeDestroy(travel.replayer);
  }

  destroy(): void {
    this.#storedAbort?.abort();
    this.#destroyPicture();
  }
}
