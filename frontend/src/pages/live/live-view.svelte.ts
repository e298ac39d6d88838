import { Replayer } from '@rrweb/replay';
import '@rrweb/replay/dist/style.css';
import {
  RRWEB_EVENT,
  type Capability,
  type ConsoleEntry,
  type LiveEndReason,
  type LiveEventsMessage,
  type LiveSession,
  type LiveTab,
  type ResyncReason,
  type TandemEvent,
} from '@tandem/protocol';
import { isAbort, messageOf, type ApiClient } from '../../lib/api/client';
import { AssistController } from '../../lib/assist/assist.svelte';
import { liveTimestamp, median, serverToUser, userToAgent, userToServer } from '../../lib/live/clock';
import { appendConsole, consoleEntryOf } from '../../lib/live/console';
import { activeTab, agentNames } from '../../lib/live/list';
import { hasPicture, mergeBySeq, replayOffset, StreamedBuffer } from '../../lib/live/merge';
import { LiveSequencer } from '../../lib/live/sequencer';
import type { LiveSocket } from '../../lib/live/socket.svelte';
import type { FrameSize } from '../../lib/stage';

export type LiveState = 'connecting' | 'waiting-consent' | 'live' | 'time-travel' | 'ended' | 'error';

/** After joining, switching tabs or asking for a resync: how long to wait for a picture before asking (again). */
const NO_PICTURE_MS = 3_000;
const NO_PICTURE_MAX_MS = 15_000;
const ACK_TIMEOUT_MS = 10_000;
/**
 * After a reconnect (a server restart, a network blip) the user's tabs may come back a little after us:
 * "not live" then means "not back yet". Keep asking this long before calling it gone.
 */
const REJOIN_GRACE_MS = 45_000;
const REJOIN_EVERY_MS = 2_000;
/** Latency read-out: median of the last N incremental events drawn. */
const LATENCY_WINDOW = 64;
/** Events that arrive before the join's answer (kept, then sorted out once we know the watched tab). */
const EARLY_MAX = 2_000;

const MOUSE_TAIL = { duration: 600, lineWidth: 3, strokeStyle: 'rgba(79, 70, 229, 0.45)' };

interface LivePicture {
  replayer: Replayer;
  /** agent-clock ms passed to startLive */
  baseline: number;
  /** performance.now() at startLive: "now" on the Replayer's own timer, immune to wall-clock steps */
  perfBase: number;
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
 * One joined live session: the join, the watched tab's stream in seq order into an rrweb Replayer in
 * live mode, resyncs on gaps, tab switching (by hand or following the user), the live console, and
 * time travel over the stored + streamed events of the watched tab.
 *
 * Live drawing: the Replayer runs with `useVirtualDom: false` (DESIGN.md §9: with the virtual DOM,
 * events older than the baseline are never drawn). Each event's timestamp is moved to this browser's
 * clock (`ts + tab.clockOffsetMs − agentOffsetMs`) and clamped into [baseline, now] (see
 * `liveTimestamp`), so every event is drawn on the animation frame after it arrives, cursor and
 * clicks included, whatever the user's clock says.
 *
 * Two Replayers can exist at once: the live one keeps drawing (hidden) during time travel, so going
 * back to live is instant.
 */
export class LiveViewController {
  session = $state.raw<LiveSession | null>(null);
  watchedTabId = $state<string | null>(null);
  /** switch tabs with the user */
  follow = $state(true);
  joined = $state(false);
  /** joined before, now waiting for the user's tabs to come back (after a reconnect) */
  rejoining = $state(false);
  /** the live picture is up (a full snapshot was drawn) */
  drawn = $state(false);
  ended = $state<LiveEndReason | null>(null);
  /** server-clock ms when it ended (the right end of the timeline from then on) */
  endedAt = $state<number | null>(null);
  error = $state<{ code: string; message: string } | null>(null);
  /** a passing problem worth a line (a tab switch refused, …) */
  notice = $state<string | null>(null);
  capabilities = $state.raw<Capability[]>([]);
  resyncs = $state(0);
  /** median ms from the user's change to drawn here (on the corrected clocks) */
  latencyMs = $state<number | null>(null);
  frame = $state<FrameSize | null>(null);
  consoleEntries = $state.raw<ConsoleEntry[]>([]);
  /** server-clock now, ticking once a second (durations, the time-travel range) */
  now = $state(Date.now());

  /** server-clock ms shown in time travel; null while live */
  travelAt = $state<number | null>(null);
  travelLoading = $state(false);
  travelError = $state<string | null>(null);
  travelPlaying = $state(false);
  travelFrame = $state<FrameSize | null>(null);

  watchedTab = $derived<LiveTab | null>(this.session?.tabs.find((t) => t.tabId === this.watchedTabId) ?? null);
  tabConsole = $derived(this.consoleEntries.filter((e) => e.tabId === this.watchedTabId));

  state = $derived.by<LiveState>(() => {
    if (this.error) return 'error';
    // Going back in time still works once the session ended (the recording is all there).
    if (this.travelAt !== null) return 'time-travel';
    if (this.ended) return 'ended';
    if (this.session?.awaitingConsent && !this.drawn) return 'waiting-consent';
    if (this.drawn && this.socket.connected) return 'live';
    return 'connecting';
  });

  readonly sessionId: string;
  readonly selfId: string | undefined;

  /** other agents watching (names) */
  get otherAgents(): string[] {
    return this.session ? agentNames(this.session.agents, this.selfId) : [];
  }

  readonly socket: LiveSocket;
  /** Calls, canvas video, remote control, drawing and recording (lib/assist/). */
  readonly assist: AssistController;
  #api: ApiClient;
  #initialTabId: string | undefined;
  #seq = new LiveSequencer();
  #streamed = new StreamedBuffer();
  #live: LivePicture | null = null;
  #liveRev = $state(0);
  #liveRoot: HTMLElement | null = null;
  #travelRoot: HTMLElement | null = null;
  #travel: TravelPicture | null = null;
  #travelTarget: number | null = null;
  #travelBuilding = false;
  #travelRaf = 0;
  #stored: { tabId: string; events: TandemEvent[] } | null = null;
  #storedAbort: AbortController | null = null;
  #early: LiveEventsMessage[] = [];
  #earlyCount = 0;
  #castAt = new WeakMap<object, number>();
  #latency: number[] = [];
  #latencyShownAt = 0;
  /** performance.now() when the current picture was drawn */
  #pictureAt = 0;
  #watchdog: ReturnType<typeof setTimeout> | undefined;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #unsubscribe: (() => void)[] = [];
  #started = false;
  #destroyed = false;
  #everJoined = false;
  #rejoinSince = 0;
  #rejoinTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(socket: LiveSocket, api: ApiClient, sessionId: string, options: { tabId?: string; selfId?: string } = {}) {
    this.socket = socket;
    this.#api = api;
    this.sessionId = sessionId;
    this.#initialTabId = options.tabId;
    this.selfId = options.selfId;
    this.assist = new AssistController(socket, api, sessionId);
  }

  /** The live Replayer (its iframe and mirror), for the assist layers drawn over it. */
  get liveReplayer(): Replayer | null {
    void this.#liveRev; // reactive: a new Replayer replaces the old on every fresh start
    return this.#live?.replayer ?? null;
  }

  /** Where the Replayers draw: both must be in the document (rrweb builds its iframe in them). */
  attach(liveRoot: HTMLElement, travelRoot: HTMLElement | null): void {
    this.#liveRoot = liveRoot;
    this.#travelRoot = travelRoot;
    if (this.#started) return;
    this.#started = true;
    this.#unsubscribe.push(
      this.socket.listen(this.sessionId, {
        session: (s) => this.#onSession(s),
        events: (m) => this.#onEvents(m),
        ended: (info) => this.#onEnded(info.reason),
      }),
      this.socket.onConnect(() => this.#join()),
    );
    this.#ticker = setInterval(() => (this.now = this.socket.serverNow()), 1_000);
    this.now = this.socket.serverNow();
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe = [];
    clearTimeout(this.#watchdog);
    clearTimeout(this.#rejoinTimer);
    clearInterval(this.#ticker);
    this.#storedAbort?.abort();
    if (this.socket.connected && this.joined && !this.ended) this.socket.socket.emit('live:leave', { sessionId: this.sessionId });
    this.assist.destroy();
    this.#destroyTravel();
    this.#destroyLive();
  }

  // ------------------------------------------------------------------------------------ joining

  /** (Re)joins: on every connect, and from the "try again" button. */
  retry(): void {
    this.error = null;
    if (this.socket.connected) this.#join();
  }

  #join(): void {
    clearTimeout(this.#rejoinTimer);
    if (this.#destroyed || this.ended) return;
    this.joined = false;
    // Keep the picture on screen while we rejoin; the next Meta starts a fresh one.
    this.#seq.reset();
    this.#early = [];
    this.#earlyCount = 0;
    const tabId = this.watchedTabId ?? this.#initialTabId;
    this.watchedTabId = null;
    this.socket.socket.timeout(ACK_TIMEOUT_MS).emit('live:join', { sessionId: this.sessionId, ...(tabId ? { tabId } : {}) }, (err, result) => {
      if (this.#destroyed) return;
      if (err) {
        this.error = { code: 'timeout', message: 'The Tandem server did not answer the join. Try again.' };
        return;
      }
      if (!result.ok) {
        if (result.error.code === 'not_found' && this.#everJoined && this.#rejoinAllowed()) {
          // We were watching: wait for the user's tab to come back rather than give up at once.
          this.rejoining = true;
          this.#rejoinTimer = setTimeout(() => {
            if (this.socket.connected) this.#join();
          }, REJOIN_EVERY_MS);
          return;
        }
        this.rejoining = false;
        this.error = { code: result.error.code, message: result.error.message };
        return;
      }
      this.error = null;
      this.#everJoined = true;
      this.#rejoinSince = 0;
      this.rejoining = false;
      this.session = result.session;
      this.capabilities = result.capabilities;
      this.watchedTabId = result.tabId;
      this.joined = true;
      this.#armWatchdog();
      const early = this.#early;
      this.#early = [];
      this.#earlyCount = 0;
      for (const message of early) this.#onEvents(message);
      // The user may already be on another tab than the one we got.
      if (this.follow) this.#followActive();
    });
  }

  #rejoinAllowed(): boolean {
    const now = Date.now();
    if (!this.#rejoinSince) this.#rejoinSince = now;
    return now - this.#rejoinSince < REJOIN_GRACE_MS;
  }

  // ------------------------------------------------------------------------------- live stream

  #onSession(session: LiveSession): void {
    this.session = session;
    this.assist.tabsChanged(session.tabs.map((t) => t.tabId));
    if (this.ended || !this.joined) return;
    if (this.follow) this.#followActive();
  }

  #followActive(): void {
    const session = this.session;
    // Not while the agent looks back in time: following catches up on the way back to live.
    if (!session || this.travelAt !== null) return;
    const active = session.tabs.find((t) => t.tabId === session.activeTabId);
    if (active && active.tabId !== this.watchedTabId) this.#switchTab(active.tabId);
  }

  #onEnded(reason: LiveEndReason): void {
    if (this.ended) return;
    this.ended = reason;
    this.endedAt = this.socket.serverNow();
    this.travelPlaying = false;
    clearTimeout(this.#watchdog);
    this.assist.end();
  }

  #onEvents(message: LiveEventsMessage): void {
    if (this.#destroyed || this.ended) return;
    if (!this.joined) {
      // Before the join's answer we do not know the watched tab yet: keep a bounded few.
      if (this.#earlyCount + message.events.length <= EARLY_MAX) {
        this.#early.push(message);
        this.#earlyCount += message.events.length;
      }
      return;
    }
    if (message.tabId !== this.watchedTabId) return;
    const tab = this.session?.tabs.find((t) => t.tabId === message.tabId) ?? null;
    const { decisions, gap } = this.#seq.acceptBatch(message.events);
    const consoleAdded: ConsoleEntry[] = [];
    for (const { event, decision } of decisions) {
      if (decision.kind === 'start') {
        if (!decision.continuous || !this.#live) this.#newLive();
        this.#feed(event, tab);
        if (decision.continuous) setTimeout(() => this.#trimLive(), 0);
      } else if (decision.kind === 'apply') {
        this.#feed(event, tab);
      } else {
        continue;
      }
      this.#streamed.push(event);
      const entry = consoleEntryOf(event, message.tabId, userToServer(event.timestamp, tab?.clockOffsetMs ?? 0));
      if (entry) consoleAdded.push(entry);
    }
    if (consoleAdded.length) this.consoleEntries = appendConsole(this.consoleEntries, consoleAdded);
    if (gap) this.#requestResync('gap');
  }

  /** Hands one event to the live Replayer on the agent's clock (see `liveTimestamp`). */
  #feed(event: TandemEvent, tab: LiveTab | null): void {
    const live = this.#live;
    if (!live) return;
    const agentTs = userToAgent(event.timestamp, tab?.clockOffsetMs ?? 0, this.socket.agentOffsetMs);
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

  #newLive(): void {
    this.#destroyLive();
    const root = this.#liveRoot;
    if (!root?.isConnected) return;
    const replayer = new Replayer([], {
      root,
      liveMode: true,
      useVirtualDom: false,
      showWarning: false,
      triggerFocus: false,
      mouseTail: MOUSE_TAIL,
    });
    assertSandboxed(replayer);
    const baseline = Date.now();
    const perfBase = performance.now();
    replayer.startLive(baseline);
    this.#live = { replayer, baseline, perfBase };
    this.#liveRev++;
    this.drawn = false;
    replayer.on('resize', (size) => {
      const { width, height } = size as FrameSize;
      if (this.#live?.replayer === replayer && width > 0 && height > 0) this.frame = { width, height };
    });
    replayer.on('fullsnapshot-rebuilded', () => {
      if (this.#live?.replayer !== replayer) return;
      this.drawn = true;
      this.#pictureAt = performance.now();
      clearTimeout(this.#watchdog);
    });
    replayer.on('event-cast', (event) => {
      const agentTs = this.#castAt.get(event as object);
      if (agentTs !== undefined) this.#sampleLatency(Date.now() - agentTs);
    });
  }

  /** In live mode the Replayer keeps every event it was given: keep only the current picture's. */
  #trimLive(): void {
    const events = this.#live?.replayer.service.state.context.events;
    if (!events) return;
    for (let i = events.length - 1; i > 0; i--) {
      if (events[i].type === RRWEB_EVENT.Meta) {
        events.splice(0, i);
        return;
      }
    }
  }

  #destroyLive(): void {
    const live = this.#live;
    this.#live = null;
    if (live) this.#liveRev++;
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

  /** Asks the watched tab for a fresh full snapshot. */
  resync(reason: ResyncReason = 'manual'): void {
    this.#requestResync(reason);
  }

  #requestResync(reason: ResyncReason): void {
    const tabId = this.watchedTabId;
    if (!tabId || !this.joined || this.ended) return;
    this.socket.socket.emit('live:resync', { sessionId: this.sessionId, tabId, reason });
    this.resyncs++;
    this.#armWatchdog();
  }

  /** No picture within a few seconds of asking for one: ask again, less and less often. */
  #armWatchdog(delay = NO_PICTURE_MS): void {
    clearTimeout(this.#watchdog);
    this.#watchdog = setTimeout(() => {
      if (this.#destroyed || this.ended || this.error || !this.joined) return;
      if (!this.#seq.waitingForMeta && this.drawn) return;
      if (this.session?.awaitingConsent || !this.socket.connected) {
        this.#armWatchdog(delay);
        return;
      }
      this.#requestResync('behind');
      this.#armWatchdog(Math.min(delay * 2, NO_PICTURE_MAX_MS));
    }, delay);
  }

  // ------------------------------------------------------------------------------------- tabs

  /** The agent picked a tab. Picking another tab than the user's turns "follow" off. */
  selectTab(tabId: string): void {
    if (tabId !== this.session?.activeTabId) this.follow = false;
    this.#switchTab(tabId);
  }

  setFollow(follow: boolean): void {
    this.follow = follow;
    if (follow && this.joined) this.#followActive();
  }

  #switchTab(tabId: string): void {
    if (tabId === this.watchedTabId || this.ended || !this.joined) return;
    const previous = this.watchedTabId;
    this.watchedTabId = tabId;
    this.notice = null;
    this.#leaveTravel();
    this.#seq.reset();
    this.#streamed.clear();
    this.#destroyLive();
    this.frame = null;
    this.#armWatchdog();
    this.socket.socket.timeout(ACK_TIMEOUT_MS).emit('live:watch-tab', { sessionId: this.sessionId, tabId }, (err, result) => {
      if (this.#destroyed || this.watchedTabId !== tabId) return;
      if (!err && result.ok) {
        if (result.tabId !== tabId) this.watchedTabId = result.tabId;
        return;
      }
      this.notice = `Could not switch tabs: ${err ? 'the server did not answer' : result.ok ? '' : result.error.message}`;
      if (previous) {
        this.watchedTabId = previous;
        this.#seq.reset();
        this.#requestResync('tab_switch');
      }
    });
  }

  // ------------------------------------------------------------------------------ time travel

  /** The timeline's span on the server clock: from the session's start to now (or its end). */
  get travelStart(): number {
    return Math.min(this.session?.startedAt ?? this.liveEdge, this.liveEdge);
  }

  get liveEdge(): number {
    return this.endedAt ?? this.now;
  }

  /** Shows the watched tab as it was at `serverTs` (server clock), paused. */
  travelTo(serverTs: number): void {
    const tabId = this.watchedTabId;
    if (!tabId || !this.#travelRoot) return;
    const at = Math.max(this.travelStart, Math.min(serverTs, this.liveEdge));
    this.travelAt = at;
    this.#travelTarget = at;
    if (this.#travelBuilding) return; // the build seeks to the latest target when done
    const travel = this.#travel;
    const newer = this.#streamed.events.length > 0 && this.#streamed.events[this.#streamed.events.length - 1].seq > (travel?.lastSeq ?? -1);
    const end = travel ? userToServer(travel.startTime + travel.totalTime, this.#offsetOf(travel.tabId)) : 0;
    if (travel && travel.tabId === tabId && !(newer && at > end)) {
      this.#seekTravel(at);
      return;
    }
    void this.#buildTravel(tabId);
  }

  async #buildTravel(tabId: string): Promise<void> {
    this.#travelBuilding = true;
    this.travelLoading = true;
    this.travelError = null;
    const wasPlaying = this.travelPlaying;
    this.#stopTravelClock();
    try {
      if (!this.#stored || this.#stored.tabId !== tabId) {
        this.#storedAbort?.abort();
        const abort = new AbortController();
        this.#storedAbort = abort;
        const events = await this.#api.events(this.sessionId, tabId, () => {}, abort.signal);
        this.#stored = { tabId, events };
      }
      if (this.travelAt === null || this.watchedTabId !== tabId || this.#destroyed) return;
      const merged = mergeBySeq(this.#stored.events, tabId === this.watchedTabId ? this.#streamed.events : []);
      if (!hasPicture(merged)) {
        this.travelError = 'Nothing of this tab is stored yet. Try again in a few seconds.';
        return;
      }
      this.#destroyTravel();
      const root = this.#travelRoot;
      if (!root?.isConnected) return;
      const replayer = new Replayer(merged, {
        root,
        speed: 1,
        skipInactive: false,
        showWarning: false,
        triggerFocus: false,
        mouseTail: MOUSE_TAIL,
      });
      assertSandboxed(replayer);
      const meta = replayer.getMetaData();
      this.#travel = { replayer, tabId, startTime: meta.startTime, totalTime: meta.totalTime, lastSeq: merged[merged.length - 1].seq };
      replayer.on('resize', (size) => {
        const { width, height } = size as FrameSize;
        if (this.#travel?.replayer === replayer && width > 0 && height > 0) this.travelFrame = { width, height };
      });
      replayer.on('finish', () => {
        if (this.#travel?.replayer !== replayer) return;
        this.travelPlaying = false;
        this.#stopTravelClock();
      });
    } catch (err) {
      if (!isAbort(err)) this.travelError = `Could not load the recording: ${messageOf(err)}`;
    } finally {
      this.#travelBuilding = false;
      this.travelLoading = false;
    }
    if (this.travelAt === null) {
      this.#destroyTravel();
      return;
    }
    const target = this.#travelTarget ?? this.travelAt;
    if (this.#travel) {
      this.#seekTravel(target);
      if (wasPlaying) this.playTravel();
    }
  }

  #offsetOf(tabId: string): number {
    return this.session?.tabs.find((t) => t.tabId === tabId)?.clockOffsetMs ?? 0;
  }

  #seekTravel(serverTs: number): void {
    const travel = this.#travel;
    if (!travel) return;
    const offset = replayOffset(travel.startTime, travel.totalTime, serverToUser(serverTs, this.#offsetOf(travel.tabId)));
    if (this.travelPlaying) travel.replayer.play(offset);
    else travel.replayer.pause(offset);
  }

  playTravel(): void {
    const travel = this.#travel;
    if (!travel || this.travelAt === null) return;
    const offsetMs = this.#offsetOf(travel.tabId);
    let offset = replayOffset(travel.startTime, travel.totalTime, serverToUser(this.travelAt, offsetMs));
    if (offset >= travel.totalTime) offset = 0;
    travel.replayer.play(offset);
    this.travelPlaying = true;
    const tick = () => {
      const t = this.#travel;
      if (!t || !this.travelPlaying) {
        this.#travelRaf = 0;
        return;
      }
      this.travelAt = userToServer(t.startTime + t.replayer.getCurrentTime(), offsetMs);
      this.#travelRaf = requestAnimationFrame(tick);
    };
    this.#stopTravelClock();
    this.#travelRaf = requestAnimationFrame(tick);
  }

  pauseTravel(): void {
    this.#travel?.replayer.pause();
    this.travelPlaying = false;
    this.#stopTravelClock();
  }

  #stopTravelClock(): void {
    if (this.#travelRaf) cancelAnimationFrame(this.#travelRaf);
    this.#travelRaf = 0;
  }

  /** Back to the live picture, which kept drawing all along. */
  backToLive(): void {
    this.#leaveTravel();
    if (this.follow && this.joined && !this.ended) this.#followActive();
  }

  #leaveTravel(): void {
    this.travelAt = null;
    this.#travelTarget = null;
    this.travelPlaying = false;
    this.travelError = null;
    this.#stopTravelClock();
    this.#storedAbort?.abort();
    this.#stored = null;
    this.#destroyTravel();
  }

  #destroyTravel(): void {
    const travel = this.#travel;
    this.#travel = null;
    this.travelFrame = null;
    if (travel) safeDestroy(travel.replayer);
  }

  /** For tests and the stat line: the active tab per the server, and whether we watch it. */
  get activeTabId(): string | null {
    return this.session ? (activeTab(this.session)?.tabId ?? null) : null;
  }
}

/** rrweb's default iframe sandbox has no `allow-scripts`: the user's page scripts never run here. */
function assertSandboxed(replayer: Replayer): void {
  const sandbox = replayer.iframe.getAttribute('sandbox');
  if (sandbox === null || /\ballow-scripts\b/.test(sandbox)) {
    safeDestroy(replayer);
    throw new Error('The replay frame must be sandboxed without scripts.');
  }
}

function safeDestroy(replayer: Replayer): void {
  try {
    replayer.destroy();
  } catch {
    // destroy() removes its wrapper from the root; a root already gone from the DOM is fine.
  }
}
