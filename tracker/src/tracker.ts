import type { eventWithTime } from '@rrweb/types';
import {
  RRWEB_EVENT,
  TANDEM_EVENT,
  TandemError,
  type CanvasRecording,
  type IdentifyPayload,
  type PageVisitPayload,
  type TandemCustomEventMap,
} from '@tandem/protocol';
import { EventBus } from './bus.js';
import { EventNumbering } from './event-numbering.js';
import { installCaptures } from './captures.js';
import { installLifecycle } from './lifecycle.js';
import { CUSTOM_PAYLOAD_MAX_BYTES, STOP_FLUSH_TIMEOUT_MS, type TrackerOptions } from './options.js';
import { Outbox } from './outbox.js';
import { Recorder, type NodeMirror } from './recorder.js';
import { redactUrl } from './redact.js';
import { whenIdle } from './idle.js';
import { Guard } from './safe.js';
import { TOKEN_REFRESH_MARGIN_MS, type SenderStats } from './sender.js';
import { SessionKeeper } from './session-keeper.js';
import { SessionOpener } from './session-opener.js';
import { SessionStore, safeStorage } from './session.js';
import { CanvasLevelMemory } from './canvas.js';
import { cleanTraits } from './start-request.js';
import { TabSession, type SessionInfo } from './tab-session.js';
import { Transport } from './transport.js';
import { jsonSafe, safeString, truncate } from './truncate.js';
import { requestWatchLink } from './watch-link.js';

export interface TrackerPlugin {
  name: string;
  setup(tracker: Tracker): void;
}

export type { SessionInfo } from './tab-session.js';

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
  private readonly recorder: Recorder;
  private readonly opener: SessionOpener;
  private readonly numbering: EventNumbering;
  private readonly session: TabSession;
  private readonly transport: Transport;
  private readonly outbox: Outbox;
  private readonly keeper: SessionKeeper;

  private running = false;
  private startPromise: Promise<void> | null = null;

  private uninstallers: (() => void)[] = [];
  private readonly plugins: TrackerPlugin[] = [];
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
    const tabStorage = safeStorage(() => (browser ? window.sessionStorage : undefined));
    const local = safeStorage(() => (browser ? window.localStorage : undefined));
    this.ids = new SessionStore(this.projectKey, local, tabStorage);
    this.outbox = new Outbox({
      guard: this.guard,
      transport: this.transport,
      projectKey: this.projectKey,
      tabStorage,
      currentStream: () => this.session.stream,
      refresh: (s) => this.keeper.refresh(s),
      maxBatchBytes: () => this.session.config.maxBatchBytes,
      beforeDrain: () => this.session.rememberSeq(),
    });
    // Serialised once, in idle time (bus listeners only read events; see Batcher.defer).
    this.numbering = new EventNumbering((stream, te) => {
      this.outbox.defer(stream, te);
      this.bus.publish(te);
    }, { kv: tabStorage, key: `tandem:${this.projectKey}:held` });
    this.session = new TabSession({
      projectKey: this.projectKey,
      guard: this.guard,
      ids: this.ids,
      canvasMemory: new CanvasLevelMemory(local, `tandem:${this.projectKey}:canvas`),
      numbering: this.numbering,
      configure: (config) => this.outbox.configure(config),
    });
    this.recorder = new Recorder(this.opts, this.guard, (e) => this.onRecordEvent(e), (tag, payload) => this.emitCustom(tag, payload));
    this.opener = new SessionOpener({
      guard: this.guard,
      transport: this.transport,
      request: (fresh) => this.session.request(fresh),
      apply: (res) => this.session.apply(res),
      after: (result, fresh) => this.keeper.afterOpen(result, fresh),
      active: () => this.running,
    });
    this.keeper = new SessionKeeper({
      guard: this.guard,
      opener: this.opener,
      ids: this.ids,
      session: this.session,
      numbering: this.numbering,
      outbox: this.outbox,
      recorder: this.recorder,
      running: () => this.running,
      wanted: () => ({ checkoutMs: this.checkoutMs(), canvas: this.canvasLevel() }),
      flushIntervalMs: () => this.flushIntervalMs(),
      startRecording: () => this.startRecording(),
      newBaseline: () => this.newBaseline(),
    });
  }

  // ---------------------------------------------------------------- public API

  get sessionId(): string | undefined {
    return this.session.stream?.sessionId;
  }

  get tabId(): string | undefined {
    return this.session.stream?.tabId;
  }

  get visitorId(): string | undefined {
    return this.session.visitor;
  }

  /** The session token (for plugins that talk to the server, e.g. the assist socket). */
  get token(): string | undefined {
    return this.session.stream?.token;
  }

  get stats(): Readonly<SenderStats> & { lastSeq: number; pendingBytes: number } {
    return { ...this.outbox.stats, lastSeq: this.numbering.seq.last, pendingBytes: this.outbox.pendingBytes };
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
      this.outbox.stopFlushTimer();
      this.opener.cancelRetry();
      this.outbox.flushNow(true);
    });
    // Whatever could not be sent in time waits in IndexedDB for a later page load.
    await this.outbox.close(STOP_FLUSH_TIMEOUT_MS);
    this.startPromise = null;
    this.numbering.seq.unset();
  }

  /** Links this session to your user id; kept for this visitor's later sessions. */
  identify(userId: string, traits?: IdentifyPayload['traits']): void {
    this.guard.run('identify', () => {
      const uid = safeString(userId, 256);
      this.session.userId = uid;
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
    // Events still being serialised in idle slices (a big snapshot) are waited for, not finished in one task.
    await this.outbox.flushAll().catch((err) => this.guard.report(err, 'flush'));
    await this.outbox.settled();
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
    return this.session.onChange(fn);
  }

  /**
   * A watch link for this session (`<origin>/watch/<token>`, the live view without a login), minted
   * by the server with this tab's session token. Waits for the session; rejects with a TandemError
   * (`code`, `message`, `status`) when the server refuses or cannot be reached.
   */
  async getWatchLink(): Promise<string> {
    if (this.disabled) throw new TandemError('bad_request', 'tandem: tracker disabled (no browser or no projectKey)', 0);
    const info = await this.session.whenKnown(this.opener);
    try {
      return await requestWatchLink(this.fetchImpl, this.ingestUrl, info.token);
    } catch (err) {
      // An expired token: refresh it once (as a batch would) and ask again.
      const stream = this.session.stream;
      if (err instanceof TandemError && err.status === 401 && stream && stream.token === info.token) {
        if ((await this.keeper.refresh(stream)) === 'ok' && this.session.stream?.token) {
          return requestWatchLink(this.fetchImpl, this.ingestUrl, this.session.stream.token);
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
    if (this.session.userId) page.userId = this.session.userId;
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

  // ---------------------------------------------------------------- start-up

  private async doStart(): Promise<void> {
    this.uninstallers.push(...installCaptures(this.opts, this.guard, (tag, payload) => this.emitCustom(tag, payload), this.networkIgnore));
    this.installLifecycle();
    this.outbox.open();
    this.numbering.takeCarried();
    // A later page of the tab sends from the start, on the tab's stream (TabSession.resume).
    if (this.session.resume(TOKEN_REFRESH_MARGIN_MS)) this.outbox.startFlushTimer(this.flushIntervalMs());
    // Record from the first moment, not from the start answer: what the user does during that round
    // trip (the first click on a fast page, more on a slow network) waits in preStart until the
    // session is known, instead of never being recorded.
    this.startRecording();
    // The start request leaves at the first idle moment after the first snapshot's task, not inside
    // it: building it reads the time zone (Intl's first use loads ICU data, 10–50 ms of main thread)
    // and the page's first frame after start() should wait for rrweb's snapshot only. The snapshot
    // and anything recorded meanwhile wait in preStart; idle comes within IDLE_MAX_WAIT_MS.
    await new Promise<void>((resolve) => whenIdle(() => resolve()));
    // Batches left by an earlier page are read once the session is known: its ackSeq tells which
    // of them (copies stored at unload) the server already has.
    const result = await this.opener.open(false);
    this.keeper.afterOpen(result, false);
  }

  private installLifecycle(): void {
    this.uninstallers.push(
      installLifecycle(this.guard, {
        hide: () => {
          this.numbering.keepHeld();
          this.outbox.flushForUnload();
        },
        online: () => {
          this.outbox.retryNow();
          if (!this.session.stream) this.opener.retrySoon();
        },
        // Back from the back/forward cache: this page's memory is as it was, but the tab may have
        // numbered events on other pages meanwhile. Continue after them, and draw a new baseline.
        restored: () => {
          const stream = this.session.stream;
          const seq = this.numbering.seq;
          if (!stream || !seq.ready) return;
          const stored = this.ids.lastSeq(stream);
          if (stored > seq.last) seq.reset(-1, stored);
          this.outbox.reclaimHandoff();
          if (this.recorder.recording) this.newBaseline();
        },
      }),
    );
  }

  // ---------------------------------------------------------------- recording

  private startRecording(): void {
    this.recorder.start(this.checkoutMs(), this.canvasLevel());
  }

  /** The flush period: the tracker's option, else the server's config. */
  private flushIntervalMs(): number {
    return this.opts.flushIntervalMs ?? this.session.config.flushIntervalMs;
  }

  private checkoutMs(): number {
    return this.opts.checkoutEveryNms ?? this.session.config.checkoutEveryNms;
  }

  private canvasLevel(): CanvasRecording {
    return this.opts.canvas ?? this.session.config.canvas ?? 'off';
  }

  private stopRecording(): void {
    this.recorder.stop();
  }

  private onRecordEvent(e: eventWithTime): void {
    if (e.type === RRWEB_EVENT.Meta) {
      const data = e.data as { href: string };
      data.href = redactUrl(data.href);
    } else this.keeper.noteActivity(e);
    this.numbering.take(e, this.session.stream);
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
    this.numbering.take({ type: RRWEB_EVENT.Custom, data: { tag, payload }, timestamp: Date.now() } as eventWithTime, this.session.stream);
  }
}
