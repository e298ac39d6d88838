import type { eventWithTime } from '@rrweb/types';
import {
  RRWEB_EVENT,
  RRWEB_SOURCE,
  TANDEM_EVENT,
  TandemError,
  type CanvasRecording,
  type IdentifyPayload,
  type PageVisitPayload,
  type StartRequest,
  type StartResponse,
  type TandemCustomEventMap,
  type TrackerServerConfig,
} from '@tandem/protocol';
import { Batcher, type Stream } from './batcher.js';
import { EventBus } from './bus.js';
import { UnloadHandoff } from './handoff.js';
import { Compressor } from './compress.js';
import { packVersionFor } from './pack-source.js';
import { installErrorCapture } from './errors.js';
import { installLifecycle } from './lifecycle.js';
import { installNetworkCapture } from './network.js';
import { CUSTOM_PAYLOAD_MAX_BYTES, DEFAULT_SERVER_CONFIG, PRESTART_MAX_EVENTS, STOP_FLUSH_TIMEOUT_MS, type TrackerOptions } from './options.js';
import { installPageCapture } from './pages.js';
import { PendingStore } from './pending-store.js';
import { Recorder, type NodeMirror } from './recorder.js';
import { redactUrl } from './redact.js';
import { whenIdle } from './idle.js';
import { Guard } from './safe.js';
import { Sender, type RefreshOutcome, type SenderStats } from './sender.js';
import { Sequencer } from './sequencer.js';
import { SessionOpener, type OpenResult } from './session-opener.js';
import { SessionStore, safeStorage, type KeyValueStore } from './session.js';
import { CanvasLevelMemory } from './canvas.js';
import { cleanTraits, startRequest } from './start-request.js';
import { Transport } from './transport.js';
import { jsonSafe, safeString, truncate } from './truncate.js';
import { requestWatchLink } from './watch-link.js';

export interface TrackerPlugin {
  name: string;
  setup(tracker: Tracker): void;
}

export interface SessionInfo {
  sessionId: string;
  tabId: string;
  visitorId: string;
  token: string;
}

/** rrweb incremental sources that mean a person is there (keeps the session alive). */
const ACTIVITY_SOURCES = new Set<number>([
  RRWEB_SOURCE.MouseMove,
  RRWEB_SOURCE.MouseInteraction,
  RRWEB_SOURCE.Scroll,
  RRWEB_SOURCE.Input,
  6, // TouchMove
]);

/**
 * The browser SDK: opens a session, records with rrweb, numbers every event, publishes it on the
 * bus and ships it in batches. Every public method is safe to call at any time and never throws.
 */
export class Tracker {
  readonly bus: EventBus;
  readonly projectKey: string;
  readonly ingestUrl: string;

  private readonly opts: TrackerOptions;
  private readonly guard: Guard;
  private readonly disabled: boolean;
  private readonly ids: SessionStore;
  private readonly tabStorage: KeyValueStore;
  private readonly canvasMemory: CanvasLevelMemory;
  private readonly recorder: Recorder;
  private readonly opener: SessionOpener;
  private readonly seq = new Sequencer();
  private readonly batcher: Batcher;
  private readonly transport: Transport;
  private readonly compressor: Compressor;
  private sender: Sender | null = null;
  private pendingStore: Promise<PendingStore | null> | null = null;

  private stream: Stream | undefined;
  private visitor: string | undefined;
  private userId: string | undefined;
  private config: TrackerServerConfig = { ...DEFAULT_SERVER_CONFIG };

  private running = false;
  private startPromise: Promise<void> | null = null;

  private preStart: eventWithTime[] = [];
  private preStartOverflow = false;
  private uninstallers: (() => void)[] = [];
  private flushTimer: ReturnType<typeof setInterval> | null = null;
  private readonly plugins: TrackerPlugin[] = [];
  private readonly sessionListeners = new Set<(s: SessionInfo) => void>();
  private readonly stopListeners = new Set<() => void>();
  /** The page's fetch before our patch (also used for watch links). */
  private readonly fetchImpl: typeof fetch;
  /** URL prefixes network capture skips; plugins add theirs (`ignoreNetwork`). Read per request. */
  private readonly networkIgnore: string[];

  constructor(options: TrackerOptions) {
    this.opts = { ...options };
    // The page's onError gets the error only, as documented; `where` stays in our once-per-kind bookkeeping.
    const onError = options?.onError;
    this.guard = new Guard(onError ? (err) => onError(err) : undefined);
    this.bus = new EventBus(this.guard);
    this.projectKey = String(options?.projectKey ?? '');
    const browser = typeof window !== 'undefined' && typeof document !== 'undefined';
    this.disabled = !browser || !this.projectKey;
    if (!browser) this.guard.report(new Error('tandem: not in a browser; tracker disabled'), 'no browser');
    else if (!this.projectKey) this.guard.report(new Error('tandem: projectKey is required; tracker disabled'), 'no key');

    this.ingestUrl = (options?.ingestUrl || (browser ? location.origin : '')).replace(/\/+$/, '');
    // The page's fetch before our network patch: the tracker's own requests are never recorded.
    const nativeFetch = browser && typeof fetch === 'function' ? fetch : ((() => Promise.reject(new Error('no fetch'))) as typeof fetch);
    this.transport = new Transport(this.ingestUrl, nativeFetch);
    this.fetchImpl = nativeFetch;
    this.networkIgnore = [`${this.ingestUrl}/ingest/`, `${this.ingestUrl}/socket.io/`];
    this.compressor = new Compressor(this.guard);
    // Events are serialised in idle time, not inside rrweb's MutationObserver callback; a batch that
    // fills up is flushed from that idle task.
    this.batcher = new Batcher(this.config.maxBatchBytes, {
      later: (fn) => whenIdle(this.guard.wrap('serialize', fn)),
      onFull: () => this.flushNow(),
      onError: (err) => this.guard.report(err, 'serialize'),
    });
    this.tabStorage = safeStorage(() => (browser ? window.sessionStorage : undefined));
    const local = safeStorage(() => (browser ? window.localStorage : undefined));
    this.ids = new SessionStore(this.projectKey, local, this.tabStorage);
    this.canvasMemory = new CanvasLevelMemory(local, `tandem:${this.projectKey}:canvas`);
    this.config.canvas = this.canvasMemory.recall();
    this.userId = this.ids.resumeIds().userId;
    this.recorder = new Recorder(this.opts, this.guard, (e) => this.onRecordEvent(e), (tag, payload) => this.emitCustom(tag, payload));
    this.opener = new SessionOpener({
      guard: this.guard,
      transport: this.transport,
      request: (fresh) => this.startRequest(fresh),
      apply: (res) => this.applySession(res),
      after: (result, fresh) => this.afterOpen(result, fresh),
      active: () => this.running,
    });
  }

  // ---------------------------------------------------------------- public API

  get sessionId(): string | undefined {
    return this.stream?.sessionId;
  }

  get tabId(): string | undefined {
    return this.stream?.tabId;
  }

  get visitorId(): string | undefined {
    return this.visitor;
  }

  /** The session token (for plugins that talk to the server, e.g. the assist socket). */
  get token(): string | undefined {
    return this.stream?.token;
  }

  get stats(): Readonly<SenderStats> & { lastSeq: number; pendingBytes: number } {
    const s = this.sender?.stats ?? { sentBatches: 0, sentEvents: 0, droppedEvents: 0, restoredEvents: 0, lastAckSeq: -1 };
    return { ...s, lastSeq: this.seq.last, pendingBytes: (this.sender?.pendingBytes ?? 0) + this.batcher.bytes };
  }

  start(): Promise<void> {
    if (this.disabled) return Promise.resolve();
    if (!this.startPromise) {
      this.running = true;
      this.startPromise = this.doStart().catch((err) => this.guard.report(err, 'start'));
    }
    return this.startPromise;
  }

  async stop(): Promise<void> {
    if (!this.startPromise) return;
    await this.startPromise;
    if (!this.running) return;
    this.running = false;
    for (const fn of this.stopListeners) this.guard.run('stop listener', fn);
    this.guard.run('stop', () => {
      this.stopRecording();
      for (const u of this.uninstallers.splice(0)) this.guard.run('uninstall', u);
      if (this.flushTimer) clearInterval(this.flushTimer);
      this.flushTimer = null;
      this.opener.cancelRetry();
      this.flushNow();
    });
    const sender = this.sender;
    if (sender) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([sender.settled(), new Promise<void>((r) => (timer = setTimeout(r, STOP_FLUSH_TIMEOUT_MS)))]);
      clearTimeout(timer);
      // Whatever could not be sent in time waits in IndexedDB for a later page load.
      await sender.persistAll().catch((err) => this.guard.report(err, 'stop persist'));
      sender.dispose();
    }
    this.compressor.close();
    this.sender = null;
    this.startPromise = null;
    this.seq.unset();
  }

  /** Links this session to your user id; kept for this visitor's later sessions. */
  identify(userId: string, traits?: IdentifyPayload['traits']): void {
    this.guard.run('identify', () => {
      const uid = safeString(userId, 256);
      this.userId = uid;
      this.ids.setUserId(uid);
      const payload: IdentifyPayload = { userId: uid };
      const t = cleanTraits(traits);
      if (t) payload.traits = t;
      this.emitCustom(TANDEM_EVENT.identify, payload);
    });
  }

  /** A named event of yours on the timeline; payload must be JSON-able (bounded to 32 KB). */
  event(name: string, payload?: unknown): void {
    this.guard.run('event', () => {
      this.emitCustom(TANDEM_EVENT.custom, { name: safeString(name, 200), payload: jsonSafe(payload, CUSTOM_PAYLOAD_MAX_BYTES) });
    });
  }

  /**
   * Live viewers see typing as it happens: while `on`, rrweb records every `input` event instead of
   * only the value at `change` (the recording's byte-saving default). rrweb reads sampling only in
   * record(), so switching on restarts the recorder, which draws a new Meta + FullSnapshot; returns
   * true when it did (the caller then needs no takeFullSnapshot). Switching off waits for the next
   * restart: a snapshot just to save bytes would cost more than it saves.
   */
  setLiveSampling(on: boolean): boolean {
    return this.guard.run('live sampling', () => {
      if (!this.recorder.wantLiveSampling(on)) return false;
      this.stopRecording();
      this.startRecording();
      return this.recorder.recording;
    }) ?? false;
  }

  /** A new Meta + FullSnapshot now (the assist plugin calls it when an agent joins). */
  takeFullSnapshot(): void {
    this.recorder.takeFullSnapshot();
  }

  /**
   * The recorder's node mirror (rrweb's `record.mirror`: node id ↔ node), null while not recording.
   * The assist plugin maps a controlling agent's node ids to elements with it (the ids the agent's
   * replay shows are this recorder's) and names streamed canvases by it.
   */
  getMirror(): NodeMirror | null {
    return this.recorder.mirror();
  }

  /** Sends everything pending now; resolves when sent or when sending has to wait (offline). */
  async flush(): Promise<void> {
    this.guard.run('flush', () => this.flushNow());
    await this.sender?.settled();
  }

  use(plugin: TrackerPlugin): this {
    if (this.plugins.some((p) => p.name === plugin?.name)) return this;
    this.plugins.push(plugin);
    this.guard.run(`plugin ${plugin?.name}`, () => plugin.setup(this));
    return this;
  }

  /** Called when stop() stops recording (plugins close what they opened; a later start() calls onSession again). */
  onStop(fn: () => void): () => void {
    this.stopListeners.add(fn);
    return () => {
      this.stopListeners.delete(fn);
    };
  }

  /** Called with the session now (if any) and whenever the session, tab or token changes. */
  onSession(fn: (s: SessionInfo) => void): () => void {
    this.sessionListeners.add(fn);
    const info = this.sessionInfo();
    if (info) this.guard.run('session listener', () => fn(info));
    return () => {
      this.sessionListeners.delete(fn);
    };
  }

  /**
   * A watch link for this session (`<origin>/watch/<token>`, the live view without a login), minted
   * by the server with this tab's session token. Waits for the session; rejects with a TandemError
   * (`code`, `message`, `status`) when the server refuses or cannot be reached.
   */
  async getWatchLink(): Promise<string> {
    const info = await this.waitForSession();
    try {
      return await requestWatchLink(this.fetchImpl, this.ingestUrl, info.token);
    } catch (err) {
      // An expired token: refresh it once (as a batch would) and ask again.
      const stream = this.stream;
      if (err instanceof TandemError && err.status === 401 && stream && stream.token === info.token) {
        if ((await this.refresh(stream)) === 'ok' && this.stream?.token) {
          return requestWatchLink(this.fetchImpl, this.ingestUrl, this.stream.token);
        }
      }
      throw err;
    }
  }

  /** The page now, for plugins (the assist socket's page info): URL redacted like every other URL. */
  currentPage(): { url: string; title: string; userId?: string } {
    const page: { url: string; title: string; userId?: string } = { url: '', title: '' };
    this.guard.run('current page', () => {
      if (this.disabled) return;
      page.url = truncate(redactUrl(location.href), 2_000);
      page.title = truncate(document.title || '', 300);
    });
    if (this.userId) page.userId = this.userId;
    return page;
  }

  /** Network capture skips requests whose URL starts with this (a plugin's own traffic). */
  ignoreNetwork(urlPrefix: string): void {
    if (typeof urlPrefix === 'string' && urlPrefix && !this.networkIgnore.includes(urlPrefix)) this.networkIgnore.push(urlPrefix);
  }

  /** A plugin's failure, reported like the tracker's own (once per kind, to `onError`). */
  reportError(err: unknown, where: string): void {
    this.guard.report(err, String(where));
  }

  /** The plugin registered under this name (`use`), if any. */
  plugin(name: string): TrackerPlugin | undefined {
    return this.plugins.find((p) => p.name === name);
  }

  private waitForSession(): Promise<SessionInfo> {
    const now = this.sessionInfo();
    if (now) return Promise.resolve(now);
    if (this.disabled) return Promise.reject(new TandemError('bad_request', 'tandem: tracker disabled (no browser or no projectKey)', 0));
    if (this.opener.fatal) return Promise.reject(this.opener.fatalError ?? new TandemError('unauthorized', 'tandem: the server refused this tracker', 0));
    return new Promise((resolve, reject) => {
      let off: (() => void) | undefined;
      const fail = (err: unknown) => {
        off?.();
        reject(err);
      };
      const unwait = this.opener.onRefusal(fail);
      off = this.onSession((s) => {
        unwait();
        off?.();
        resolve(s);
      });
    });
  }

  // ---------------------------------------------------------------- start-up

  private async doStart(): Promise<void> {
    this.installCaptures();
    this.installLifecycle();
    this.pendingStore ??= PendingStore.open(`tandem:${this.projectKey}`).catch((err) => {
      this.guard.report(err, 'pending store open');
      return null;
    });
    this.sender = new Sender({
      transport: this.transport,
      compressor: this.compressor,
      guard: this.guard,
      store: this.pendingStore,
      currentStream: () => this.stream,
      refresh: (s) => this.refresh(s),
      maxBatchBytes: () => this.config.maxBatchBytes,
      handoff: new UnloadHandoff(this.tabStorage, `tandem:${this.projectKey}:unsent`),
    });
    // Record from the first moment, not from the start answer: what the user does during that round
    // trip (the first click on a fast page, more on a slow network) waits in preStart until the
    // session is known, instead of never being recorded.
    this.startRecording();
    // The start request leaves at the first idle moment after the first snapshot's task, not inside
    // it: building it reads the time zone (Intl's first use loads ICU data, 10–50 ms of main thread)
    // and the page's first frame after start() should wait for rrweb's snapshot only. The snapshot
    // and anything recorded meanwhile wait in preStart; idle comes within IDLE_MAX_WAIT_MS.
    await new Promise<void>((resolve) => whenIdle(resolve));
    // Batches left by an earlier page are read once the session is known: its ackSeq tells which
    // of them (copies stored at unload) the server already has.
    const result = await this.opener.open(false);
    this.afterOpen(result, false);
  }

  private installCaptures(): void {
    const g = this.guard;
    if (this.opts.captureErrors !== false) {
      this.uninstallers.push(installErrorCapture(g, (p) => this.emitCustom(TANDEM_EVENT.error, p)));
    }
    if (this.opts.captureNetwork !== false) {
      this.uninstallers.push(
        installNetworkCapture({
          guard: g,
          emit: (p) => this.emitCustom(TANDEM_EVENT.network, p),
          ignorePrefixes: this.networkIgnore,
        }),
      );
    }
    // Installed last so the first-load visit is the first event of the page.
    this.uninstallers.push(installPageCapture(g, (p) => this.emitCustom(TANDEM_EVENT.pageVisit, p)));
  }

  private installLifecycle(): void {
    this.uninstallers.push(
      installLifecycle(this.guard, {
        hide: () => this.onHide(),
        online: () => {
          this.sender?.retryNow();
          if (!this.stream) this.opener.retrySoon();
        },
        // Back from the back/forward cache: this page's memory is as it was, but the tab may have
        // numbered events on other pages meanwhile. Continue after them, and draw a new baseline.
        restored: () => {
          if (!this.stream || !this.seq.ready) return;
          const stored = this.ids.lastSeq(this.stream);
          if (stored > this.seq.last) this.seq.reset(-1, stored);
          this.sender?.reclaimHandoff();
          if (this.recorder.recording) this.newBaseline();
        },
      }),
    );
  }

  // ---------------------------------------------------------------- session

  /** The start request's ids: a token refresh keeps this tab's ids even if another tab has since moved to a newer session. */
  private startRequest(fresh: boolean): StartRequest {
    const stored = this.ids.resumeIds();
    return startRequest(this.projectKey, {
      visitorId: this.visitor ?? stored.visitorId,
      sessionId: fresh ? undefined : (this.stream?.sessionId ?? stored.sessionId),
      tabId: fresh ? undefined : (this.stream?.tabId ?? stored.tabId),
      userId: this.userId,
    });
  }

  /** Synchronous on purpose: no event may be numbered between the seq reset and the pre-start drain. */
  private applySession(res: StartResponse): OpenResult {
    const offset = res.serverTime - Date.now();
    const tokenExpiresAt = res.tokenExpiresAt - offset;
    const prev = this.stream;
    let result: OpenResult;
    if (prev && prev.sessionId === res.sessionId && prev.tabId === res.tabId) {
      prev.token = res.token; // queued batches of this stream share the object: all get the new token
      prev.tokenExpiresAt = tokenExpiresAt;
      prev.ackSeq = Math.max(prev.ackSeq, res.ackSeq);
      result = 'same';
    } else {
      const floor = this.ids.lastSeq(res);
      this.stream = { sessionId: res.sessionId, tabId: res.tabId, token: res.token, tokenExpiresAt, ackSeq: res.ackSeq };
      this.seq.reset(res.ackSeq, floor);
      result = prev ? 'new' : 'first';
    }
    this.visitor = res.visitorId;
    this.config = { ...DEFAULT_SERVER_CONFIG, canvas: 'off', ...res.config };
    this.canvasMemory.remember(this.config.canvas ?? 'off');
    this.batcher.maxBytes = this.config.maxBatchBytes;
    this.compressor.pack = packVersionFor(this.config.pack);
    this.ids.save(res);
    if (!this.seq.ready) this.seq.reset(res.ackSeq, this.ids.lastSeq(res)); // rotation kept the ids
    const held = this.preStart;
    this.preStart = [];
    for (const e of held) this.emit(e);
    const info = this.sessionInfo()!;
    for (const fn of this.sessionListeners) this.guard.run('session listener', () => fn(info));
    return result;
  }

  /** What follows a start answer: recording, a new baseline for new ids, or a retry later. */
  private afterOpen(result: OpenResult, fresh: boolean): void {
    this.guard.run('after start', () => this.continueAfterOpen(result, fresh));
  }

  private continueAfterOpen(result: OpenResult, fresh: boolean): void {
    if (!this.running) return;
    if (result === 'failed') {
      this.opener.scheduleRetry(fresh);
      return;
    }
    if (result === 'fatal') {
      // Wrong project key or similar: nothing will ever be accepted, so stop spending the page's CPU.
      this.stopRecording();
      this.preStart = [];
      return;
    }
    this.opener.succeeded();
    this.sender?.kick();
    const checkoutMs = this.opts.checkoutEveryNms ?? this.config.checkoutEveryNms;
    const recording = this.recorder.recording;
    if (recording && (checkoutMs !== this.recorder.checkoutMs || this.canvasLevel() !== this.recorder.canvas)) {
      // The server asked for another keyframe interval or canvas level than the recording started
      // with; rrweb reads both only at record(), so restart (which also draws a new baseline).
      this.stopRecording();
      this.startRecording();
    } else if (!recording) this.startRecording();
    else if (result === 'new' || this.preStartOverflow) this.newBaseline();
    this.preStartOverflow = false;
    this.startFlushTimer();
  }

  /** The sender's 401 / near-expiry path: a new token for `stream`, or word that it is gone. */
  private async refresh(stream: Stream): Promise<RefreshOutcome> {
    if (stream !== this.stream) return 'dead';
    const result = await this.opener.open(false);
    if (result === 'failed') return 'later';
    if (result === 'fatal') return 'dead';
    if (this.stream === stream) return 'ok';
    this.afterOpen(result, false);
    return 'dead';
  }

  /** The visitor came back after the idle limit: close this session's data, open a new one. */
  private rotate(): void {
    if (this.opener.busy || !this.seq.ready) return;
    this.flushNow();
    this.seq.unset(); // events wait in preStart until the new session's numbering starts
    void this.opener.open(true).then((result) => this.afterOpen(result, true));
  }

  private sessionInfo(): SessionInfo | undefined {
    const s = this.stream;
    if (!s || !this.visitor) return undefined;
    return { sessionId: s.sessionId, tabId: s.tabId, visitorId: this.visitor, token: s.token };
  }

  // ---------------------------------------------------------------- recording

  private startRecording(): void {
    this.recorder.start(this.opts.checkoutEveryNms ?? this.config.checkoutEveryNms, this.canvasLevel());
  }

  private canvasLevel(): CanvasRecording {
    return this.opts.canvas ?? this.config.canvas ?? 'off';
  }

  private stopRecording(): void {
    this.recorder.stop();
  }

  private onRecordEvent(e: eventWithTime): void {
    if (e.type === RRWEB_EVENT.Meta) {
      const data = e.data as { href: string };
      data.href = redactUrl(data.href);
    } else if (e.type === RRWEB_EVENT.IncrementalSnapshot && ACTIVITY_SOURCES.has((e.data as { source: number }).source)) {
      if (this.ids.touch()) this.rotate();
    }
    this.emit(e);
  }

  /** A fresh keyframe for new ids: page visit first (the server reads the URL from it), then the snapshot. */
  private newBaseline(): void {
    const visit: PageVisitPayload = { url: redactUrl(location.href), title: truncate(document.title || '', 300), via: 'load' };
    this.emitCustom(TANDEM_EVENT.pageVisit, visit);
    this.takeFullSnapshot();
  }

  private emitCustom<K extends keyof TandemCustomEventMap>(tag: K, payload: TandemCustomEventMap[K]): void {
    // rrweb not yet past its load wait (or not recording): build the event ourselves.
    if (this.recorder.addCustomEvent(tag, payload)) return;
    this.emit({ type: RRWEB_EVENT.Custom, data: { tag, payload }, timestamp: Date.now() } as eventWithTime);
  }

  /** Numbers the event, queues it for sending and publishes it on the bus. */
  private emit(e: eventWithTime): void {
    const stream = this.stream;
    if (!this.seq.ready || !stream) {
      if (this.preStart.length < PRESTART_MAX_EVENTS) this.preStart.push(e);
      else this.preStartOverflow = true; // a new full snapshot repairs the gap once the session is known
      return;
    }
    const te = this.seq.assign(e);
    // Serialised once, in idle time (bus listeners only read events; see Batcher.defer).
    this.batcher.defer(stream, te);
    this.bus.publish(te);
  }

  // ---------------------------------------------------------------- batching

  private startFlushTimer(): void {
    if (this.flushTimer) clearInterval(this.flushTimer);
    const every = this.opts.flushIntervalMs ?? this.config.flushIntervalMs;
    this.flushTimer = setInterval(this.guard.wrap('flush timer', () => this.flushNow()), Math.max(100, every));
  }

  private flushNow(): void {
    if (this.batcher.isEmpty || !this.sender) return;
    this.rememberSeq();
    this.sender.enqueue(this.batcher.drain());
  }

  /** Before events leave memory, note the last seq, so a reload never reuses one (see session.ts). */
  private rememberSeq(): void {
    if (this.stream && this.seq.ready) this.ids.saveLastSeq(this.stream, this.seq.last);
  }

  private onHide(): void {
    if (!this.sender) return;
    this.rememberSeq();
    this.sender.flushForUnload(this.batcher.drain());
  }
}
