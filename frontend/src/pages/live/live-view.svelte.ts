import type { Replayer } from '@rrweb/replay';
import '@rrweb/replay/dist/style.css';
import type {
  Capability,
  ConsoleEntry,
  LiveEndReason,
  LiveEventsMessage,
  LiveSession,
  LiveTab,
  ResyncReason,
} from '@tandem/protocol';
import type { ApiClient } from '../../lib/api/client';
import { AssistController } from '../../lib/assist/assist.svelte';
import { userToServer } from '../../lib/live/clock';
import { appendConsole, consoleEntryOf } from '../../lib/live/console';
import { activeTab, agentNames } from '../../lib/live/list';
import { StreamedBuffer } from '../../lib/live/merge';
import { LiveSequencer } from '../../lib/live/sequencer';
import type { LiveSocket } from '../../lib/live/socket.svelte';
import type { FrameSize } from '../../lib/stage';
import type { EarlyJoin, JoinCallback } from './early-join';
import { AnswerFirst, EarlyEvents, PictureWatchdog, REJOIN_EVERY_MS, RejoinGrace } from './join-policy';
import { LivePicture } from './live-picture.svelte';
import { TimeTravel } from './time-travel.svelte';

export type LiveState = 'connecting' | 'waiting-consent' | 'live' | 'time-travel' | 'ended' | 'error';

/** A join or tab switch the server does not answer within this is shown as an error (try again). */
const ACK_TIMEOUT_MS = 10_000;

/**
 * One joined live session: the join, the watched tab's stream in seq order into the live picture
 * (live-picture.svelte.ts: an rrweb Replayer in live mode on the agent's clock), resyncs on gaps, tab
 * switching (by hand or following the user), the live console, time travel over the stored + streamed
 * events of the watched tab (time-travel.svelte.ts), and assist over WebRTC (lib/assist/).
 *
 * Two Replayers can exist at once: the live one keeps drawing (hidden) during time travel, so going
 * back to live is instant. The waiting rules (watchdog, rejoin grace, early events) are in join-policy.ts.
 */
export class LiveViewController {
  session = $state.raw<LiveSession | null>(null);
  watchedTabId = $state<string | null>(null);
  /** switch tabs with the user */
  follow = $state(true);
  joined = $state(false);
  /** joined before, now waiting for the user's tabs to come back (after a reconnect) */
  rejoining = $state(false);
  /** The live Replayer and what it measures (live-picture.svelte.ts). */
  readonly picture: LivePicture;
  /** the live picture is up (a full snapshot was drawn) */
  get drawn(): boolean {
    return this.picture.drawn;
  }
  ended = $state<LiveEndReason | null>(null);
  /** server-clock ms when it ended (the right end of the timeline from then on) */
  endedAt = $state<number | null>(null);
  error = $state<{ code: string; message: string } | null>(null);
  /** a passing problem worth a line (a tab switch refused, …) */
  notice = $state<string | null>(null);
  capabilities = $state.raw<Capability[]>([]);
  resyncs = $state(0);
  /** median ms from the user's change to drawn here (on the corrected clocks) */
  get latencyMs(): number | null {
    return this.picture.latencyMs;
  }
  get frame(): FrameSize | null {
    return this.picture.frame;
  }
  consoleEntries = $state.raw<ConsoleEntry[]>([]);
  /** server-clock now, ticking once a second (durations, the time-travel range) */
  now = $state(Date.now());

  /** Looking back within the session (time-travel.svelte.ts): its `at` is null while live. */
  readonly travel: TimeTravel;

  watchedTab = $derived<LiveTab | null>(this.session?.tabs.find((t) => t.tabId === this.watchedTabId) ?? null);
  tabConsole = $derived(this.consoleEntries.filter((e) => e.tabId === this.watchedTabId));

  state = $derived.by<LiveState>(() => {
    if (this.error) return 'error';
    // Going back in time still works once the session ended (the recording is all there).
    if (this.travel.at !== null) return 'time-travel';
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
  #early = new EarlyEvents();
  /** The first picture waits (briefly) for a canvas answer being made (join-policy.ts). */
  #answerFirst = new AnswerFirst<LiveEventsMessage>(() => this.assist.mesh.answered());
  readonly #watchdog: PictureWatchdog;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #unsubscribe: (() => void)[] = [];
  #started = false;
  #destroyed = false;
  #everJoined = false;
  #rejoinGrace = new RejoinGrace();
  #rejoinTimer: ReturnType<typeof setTimeout> | undefined;
  /** The join sent while the app started (early-join.ts), used by the first join. */
  #earlyJoin: Pick<EarlyJoin, 'take'> | null;

  constructor(
    socket: LiveSocket,
    api: ApiClient,
    sessionId: string,
    options: { tabId?: string; selfId?: string; early?: Pick<EarlyJoin, 'take'> & { peers?: EarlyJoin['peers'] } } = {},
  ) {
    this.socket = socket;
    this.#api = api;
    this.sessionId = sessionId;
    this.#initialTabId = options.tabId;
    this.selfId = options.selfId;
    this.#earlyJoin = options.early ?? null;
    this.assist = new AssistController(socket, api, sessionId, options.early?.peers);
    this.#watchdog = new PictureWatchdog({
      idle: () => this.#destroyed || !!this.ended || !!this.error || !this.joined,
      satisfied: () => !this.#seq.waitingForMeta && this.drawn,
      holdOff: () => !!this.session?.awaitingConsent || !this.socket.connected,
      ask: () => this.#requestResync('behind'),
    });
    this.picture = new LivePicture(() => this.socket.agentOffsetMs, () => this.#watchdog.clear());
    const view = this;
    this.travel = new TimeTravel({
      api,
      sessionId,
      get watchedTabId() {
        return view.watchedTabId;
      },
      get destroyed() {
        return view.#destroyed;
      },
      get travelStart() {
        return view.travelStart;
      },
      get liveEdge() {
        return view.liveEdge;
      },
      streamed: () => this.#streamed.events,
      offsetOf: (tabId) => this.session?.tabs.find((t) => t.tabId === tabId)?.clockOffsetMs ?? 0,
    });
  }

  /** The live Replayer (its iframe and mirror), for the assist layers drawn over it. */
  get liveReplayer(): Replayer | null {
    return this.picture.replayer;
  }

  /** Where the Replayers draw: both must be in the document (rrweb builds its iframe in them). */
  attach(liveRoot: HTMLElement, travelRoot: HTMLElement | null): void {
    this.picture.setRoot(liveRoot);
    this.travel.setRoot(travelRoot);
    if (this.#started) return;
    this.#started = true;
    // The join bench reads it: until the view is attached, what the early join received waits in its log.
    performance.mark('tandem:live-attached');
    // The live Replayer (its sandboxed iframe: ~20 ms quiet, ~100 ms at load 7 in a trace) is built
    // now, before the join's log is replayed: the join left long before (early-join.ts), so the view
    // usually attaches while the user's snapshot is still on its way and this fills that wait; when the
    // snapshot came first it is the next thing handled, which would build the Replayer all the same.
    // (Built at the join itself, before the early join, it sat between the handshake and the snapshot:
    // docs/decisions.md, fifth session.)
    this.picture.prepare();
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
    this.#watchdog.clear();
    clearTimeout(this.#rejoinTimer);
    clearInterval(this.#ticker);
    if (this.socket.connected && this.joined && !this.ended) this.socket.socket.emit('live:leave', { sessionId: this.sessionId });
    this.assist.destroy();
    this.travel.destroy();
    this.picture.destroy();
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
    this.#early.clear();
    const tabId = this.watchedTabId ?? this.#initialTabId;
    this.watchedTabId = null;
    // The Replayer is built at attach (above), not here: a rejoin keeps the picture on screen, and a
    // task after the join held the snapshot's handling on the main thread (docs/decisions.md).
    const answer: JoinCallback = (err, result) => this.#joinAnswered(err, result);
    const early = this.#earlyJoin;
    this.#earlyJoin = null;
    if (early?.take(answer)) return;
    this.socket.socket.timeout(ACK_TIMEOUT_MS).emit('live:join', { sessionId: this.sessionId, ...(tabId ? { tabId } : {}) }, answer);
  }

  #joinAnswered(err: Error | null, result: Parameters<JoinCallback>[1]): void {
    if (this.#destroyed) return;
    if (err) {
      this.error = { code: 'timeout', message: 'The Tandem server did not answer the join. Try again.' };
      return;
    }
    if (!result.ok) {
      if (result.error.code === 'not_found' && this.#everJoined && this.#rejoinGrace.allowed()) {
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
    this.#rejoinGrace.reset();
    this.rejoining = false;
    this.session = result.session;
    this.capabilities = result.capabilities;
    this.watchedTabId = result.tabId;
    this.assist.watching(result.tabId);
    this.joined = true;
    this.#watchdog.arm();
    for (const message of this.#early.take()) this.#onEvents(message);
    // The user may already be on another tab than the one we got.
    if (this.follow) this.#followActive();
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
    if (!session || this.travel.at !== null) return;
    const active = session.tabs.find((t) => t.tabId === session.activeTabId);
    if (active && active.tabId !== this.watchedTabId) this.#switchTab(active.tabId);
  }

  #onEnded(reason: LiveEndReason): void {
    if (this.ended) return;
    this.ended = reason;
    this.endedAt = this.socket.serverNow();
    this.travel.pause();
    this.#watchdog.clear();
    this.assist.end();
  }

  #onEvents(message: LiveEventsMessage): void {
    if (this.#destroyed || this.ended) return;
    if (!this.joined) {
      // Before the join's answer we do not know the watched tab yet: keep a bounded few.
      this.#early.push(message);
      return;
    }
    if (message.tabId !== this.watchedTabId || this.#answerFirst.hold(message, (m) => this.#onEvents(m))) return;
    const tab = this.session?.tabs.find((t) => t.tabId === message.tabId) ?? null;
    const { decisions, gap } = this.#seq.acceptBatch(message.events);
    const consoleAdded: ConsoleEntry[] = [];
    for (const { event, decision } of decisions) {
      if (decision.kind === 'start') {
        if (!decision.continuous || !this.picture.replayer) this.picture.start();
        this.picture.feed(event, tab?.clockOffsetMs ?? 0);
        if (decision.continuous) setTimeout(() => this.picture.trim(), 0);
      } else if (decision.kind === 'apply') {
        this.picture.feed(event, tab?.clockOffsetMs ?? 0);
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

  /** Asks the watched tab for a fresh full snapshot. */
  resync(reason: ResyncReason = 'manual'): void {
    this.#requestResync(reason);
  }

  #requestResync(reason: ResyncReason): void {
    const tabId = this.watchedTabId;
    if (!tabId || !this.joined || this.ended) return;
    this.socket.socket.emit('live:resync', { sessionId: this.sessionId, tabId, reason });
    this.resyncs++;
    this.#watchdog.arm();
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
    this.assist.watching(tabId);
    this.notice = null;
    this.travel.leave();
    this.#seq.reset();
    this.#streamed.clear();
    this.picture.destroy();
    this.picture.frame = null;
    this.picture.prepare();
    this.#watchdog.arm();
    this.socket.socket.timeout(ACK_TIMEOUT_MS).emit('live:watch-tab', { sessionId: this.sessionId, tabId }, (err, result) => {
      if (this.#destroyed || this.watchedTabId !== tabId) return;
      if (!err && result.ok) {
        if (result.tabId !== tabId) {
          this.watchedTabId = result.tabId;
          this.assist.watching(result.tabId);
        }
        return;
      }
      this.notice = `Could not switch tabs: ${err ? 'the server did not answer' : result.ok ? '' : result.error.message}`;
      if (previous) {
        this.watchedTabId = previous;
        this.assist.watching(previous);
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

  /** Back to the live picture, which kept drawing all along. */
  backToLive(): void {
    this.travel.leave();
    if (this.follow && this.joined && !this.ended) this.#followActive();
  }

  /** For tests and the stat line: the active tab per the server, and whether we watch it. */
  get activeTabId(): string | null {
    return this.session ? (activeTab(this.session)?.tabId ?? null) : null;
  }
}
