import {
  RRWEB_EVENT,
  TANDEM_EVENT,
  type AgentPresence,
  type IdentifyPayload,
  type ServerToTabEvents,
  type TabPage,
  type TabToServerEvents,
  type TandemEvent,
} from '@tandem/protocol';
import { io as realIo, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { measureClock, type ClockOffset } from './clock.js';
import { Forwarder, createMacrotask } from './forwarder.js';
import type { Guard } from '@tandem/protocol';
import { assistGuard } from './guard.js';
import { ResumeFlags, buildTabHandshake, socketTarget, type KeyValue } from './handshake.js';
import type { AssistHost, AssistSession } from './host.js';
import { classifyConnectError, connectErrorCode, retryDelay, type ConnectFailureKind } from './retry.js';
import { createUi, type AssistUi } from './ui.js';

export interface AssistOptions {
  /** Default true. False: the plugin does nothing at all (no socket). */
  enabled?: boolean;
  /** Tandem server for the socket; default the tracker's ingestUrl. */
  socketUrl?: string;
  /** Called with the agents present whenever they change (empty: nobody). */
  onAgentsChange?: (agents: AgentPresence[]) => void;
  /** Default true. False hides the "is viewing" banner (build your own with onAgentsChange + stop()). */
  banner?: boolean;
}

/** Read-only picture of the plugin, for tests and support tooling (`Tandem('assistState', cb)`). */
export interface AssistState {
  enabled: boolean;
  /** The tab socket is connected to `/assist`. */
  connected: boolean;
  /** Between `live:start` and `live:stop` (or the user's Stop / a disconnect). */
  forwarding: boolean;
  agents: AgentPresence[];
  /** Seq of the last event sent to the agents, -1 before the first. */
  lastForwardedSeq: number;
  /** `live:events` messages sent since the page loaded. */
  sentMessages: number;
  /** Events in those messages. */
  sentEvents: number;
  /** Forwarding runs (each begins with Meta + FullSnapshot). */
  runs: number;
  /** Seq jumps seen on the bus while forwarding (each starts a new run). */
  gaps: number;
  /** Every message the tab emitted, by event name (`tab:page`, `clock:ping`, `live:events`, ...). */
  emitted: Record<string, number>;
  /** Successful connections (1 + reconnects). */
  connects: number;
  /** Last measured clock offset (serverClock - userClock) and its round trip. */
  clock: ClockOffset | null;
  bannerVisible: boolean;
  consentPending: boolean;
  /** Code of a handshake refusal that stopped the plugin (`unauthorized`, ...), null while trying. */
  stoppedReason: string | null;
}

export interface AssistPlugin {
  readonly name: 'assist';
  setup(host: AssistHost): void;
  assistState(): AssistState;
  /** What the banner's Stop button does: ends watching for every agent. */
  stop(): void;
  /** What the consent prompt's buttons do (for a consent UI of your own); no-op when nothing was asked. */
  answerConsent(accepted: boolean): void;
}

type TabSocket = Socket<ServerToTabEvents, TabToServerEvents>;
type IoFactory = (url: string, opts: Partial<ManagerOptions & SocketOptions>) => TabSocket;

/** Injected for tests; the defaults are the browser's. */
export interface AssistDeps {
  io?: IoFactory;
  /** sessionStorage (resume flags). */
  storage?: KeyValue;
  /** null: no DOM (no banner, no page listeners). */
  doc?: Document | null;
  schedule?: (fn: () => void) => void;
  random?: () => number;
}

/** focus/blur/visibility changes are sent at most this often. */
export const PAGE_THROTTLE_MS = 250;
/** Round trips of `clock:ping` answer within this or are skipped. */
export const CLOCK_PING_TIMEOUT_MS = 5_000;
/** A disconnect longer than this clears the agents (and the banner): nobody can be watching. */
export const AGENTS_GRACE_MS = 10_000;

/** `tracker.use(assist())`: live assist (see README.md). */
export function assist(options: AssistOptions = {}): AssistPlugin {
  return createAssist(options, {});
}

export function createAssist(options: AssistOptions = {}, deps: AssistDeps = {}): AssistPlugin {
  const enabled = options?.enabled !== false;
  const showBanner = options?.banner !== false;
  const hasDom = typeof document !== 'undefined' && typeof window !== 'undefined';
  const doc: Document | null = deps.doc !== undefined ? deps.doc : hasDom ? document : null;
  const ioFactory: IoFactory = deps.io ?? (realIo as unknown as IoFactory);
  const random = deps.random ?? Math.random;

  let guard: Guard = assistGuard();
  let host: AssistHost | null = null;
  let session: AssistSession | null = null;
  let socket: TabSocket | null = null;
  let resume: ResumeFlags | null = null;
  let forwarder: Forwarder | null = null;
  let ui: AssistUi | null = null;
  let unsubForward: (() => void) | null = null;
  let unsubPage: (() => void) | null = null;

  let connected = false;
  let connects = 0;
  let agents: AgentPresence[] = [];
  let consentFor: AgentPresence[] | null = null;
  /** A live:start that came while the user had not answered the consent prompt yet. */
  let deferredStart = false;
  /** The user pressed Stop / Decline: no banner until the server's next `agents`. */
  let bannerSuppressed = false;
  let clock: ClockOffset | null = null;
  let clockRun = 0;
  let stoppedReason: string | null = null;
  let retryAttempt = 0;
  /** The socket was closed at pagehide (back/forward cache): reopened at pageshow. */
  let pausedByPagehide = false;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;
  let agentsTimer: ReturnType<typeof setTimeout> | null = null;
  let pageTimer: ReturnType<typeof setTimeout> | null = null;
  let lastPageAt = 0;
  let lastPageJson = '';
  let userId: string | undefined;
  const emitted: Record<string, number> = {};

  // ------------------------------------------------------------------ sending

  const count = (name: string) => {
    emitted[name] = (emitted[name] ?? 0) + 1;
  };

  const send = <E extends keyof TabToServerEvents>(name: E, ...args: Parameters<TabToServerEvents[E]>): void => {
    if (!socket) return;
    (socket.emit as (ev: string, ...a: unknown[]) => unknown)(name, ...args);
    count(name);
  };

  // ------------------------------------------------------------------ page info

  const currentPage = (): TabPage => {
    const fromHost = host?.currentPage ? guard.run('current page', () => host!.currentPage!()) : undefined;
    let url = fromHost?.url ?? '';
    let title = fromHost?.title ?? '';
    if (!fromHost && doc) {
      // No redaction available without the tracker: no query or fragment at all.
      const loc = doc.location;
      url = loc ? loc.origin + loc.pathname : '';
      title = String(doc.title || '').slice(0, 300);
    }
    const page: TabPage = {
      url,
      title,
      visible: doc ? doc.visibilityState === 'visible' : false,
      focused: doc && typeof doc.hasFocus === 'function' ? doc.hasFocus() : false,
    };
    const uid = fromHost?.userId ?? userId;
    if (uid) page.userId = uid;
    return page;
  };

  const sendPage = () => {
    pageTimer = null;
    if (!connected) return;
    const page = currentPage();
    const json = JSON.stringify(page);
    if (json === lastPageJson) return;
    lastPageJson = json;
    lastPageAt = Date.now();
    send('tab:page', page);
  };

  /** Leading edge soon (next task), then at most one message per PAGE_THROTTLE_MS. */
  const pageSoon = () => {
    if (pageTimer || !connected) return;
    const wait = Math.max(0, lastPageAt + PAGE_THROTTLE_MS - Date.now());
    pageTimer = setTimeout(guard.wrap('tab page', sendPage), wait);
  };

  const onBusForPage = (e: TandemEvent) => {
    if (e.type !== RRWEB_EVENT.Custom) return;
    const data = e.data as { tag?: string; payload?: unknown };
    if (data.tag === TANDEM_EVENT.pageVisit) {
      pageSoon();
    } else if (data.tag === TANDEM_EVENT.identify) {
      const uid = (data.payload as IdentifyPayload | undefined)?.userId;
      if (typeof uid === 'string') userId = uid;
      pageSoon();
    }
  };

  const installPageListeners = () => {
    if (!doc) return;
    const win = doc.defaultView;
    const onChange = guard.wrap('page listener', pageSoon);
    doc.addEventListener('visibilitychange', onChange);
    win?.addEventListener('focus', onChange);
    win?.addEventListener('blur', onChange);
    // An open WebSocket keeps a page out of the back/forward cache: close it when the page is
    // hidden for good or frozen, reopen it (resume = true) if the page comes back from the cache.
    win?.addEventListener(
      'pagehide',
      guard.wrap('pagehide', () => {
        if (!socket) return;
        pausedByPagehide = true;
        clearRetry();
        socket.disconnect();
      }),
    );
    win?.addEventListener(
      'pageshow',
      guard.wrap('pageshow', (e: Event) => {
        if (!(e as PageTransitionEvent).persisted || !pausedByPagehide) return;
        pausedByPagehide = false;
        if (socket && !socket.connected && !stoppedReason) socket.connect();
      }),
    );
  };

  // ------------------------------------------------------------------ forwarding

  const stopForwarding = () => {
    deferredStart = false;
    if (unsubForward) unsubForward();
    unsubForward = null;
    forwarder?.stop();
  };

  const startForwarding = () => {
    if (!connected || !host || !forwarder) return;
    if (!unsubForward) {
      const fwd = forwarder;
      unsubForward = host.bus.subscribe(guard.wrap('forward', (e: TandemEvent) => fwd.push(e)) as (e: TandemEvent) => void);
    }
    forwarder.start();
    // Synchronous in rrweb: Meta + FullSnapshot are on the bus (and queued) when this returns. The
    // first time, switching the recorder to live sampling (every keystroke) draws that snapshot itself.
    guard.run('snapshot', () => {
      if (!host!.setLiveSampling?.(true)) host!.takeFullSnapshot();
    });
  };

  /** Created on the first live message, not before: nothing is set up while nobody watches. */
  let macrotask: ((fn: () => void) => void) | null = null;
  const makeForwarder = () =>
    new Forwarder({
      send: (events) => {
        if (!connected || !socket) throw new Error('live:events while disconnected');
        send('live:events', { events });
      },
      schedule: deps.schedule ?? ((fn) => (macrotask ??= createMacrotask((err) => guard.report(err, 'forward flush')))(fn)),
      requestSnapshot: () => {
        const timer = setTimeout(
          guard.wrap('resnapshot', () => {
            if (forwarder?.awaitingSnapshot) host?.takeFullSnapshot();
          }),
          0,
        );
        return () => clearTimeout(timer);
      },
      onError: (err) => guard.report(err, 'live:events'),
    });

  // ------------------------------------------------------------------ agents, banner, consent

  const renderUi = () => {
    if (!doc) return;
    const wantBanner = showBanner && agents.length > 0 && !bannerSuppressed && !consentFor;
    if (!ui && !wantBanner && !consentFor) return;
    ui ??= createUi(
      doc,
      {
        onStop: () => userStop(),
        onConsent: (accepted) => answerConsent(accepted),
      },
      (where, fn) => guard.wrap(where, fn) as typeof fn,
    );
    ui.setConsent(consentFor);
    ui.setBanner(wantBanner ? agents : null);
  };

  const setAgents = (list: AgentPresence[]) => {
    const before = JSON.stringify(agents);
    agents = list;
    if (JSON.stringify(list) !== before && options.onAgentsChange) {
      guard.run('onAgentsChange', () => options.onAgentsChange!(list.slice()));
    }
    if (list.length === 0) consentFor = null;
    renderUi();
  };

  const userStop = () => {
    stopForwarding();
    bannerSuppressed = true;
    send('user:stop');
    renderUi();
  };

  const answerConsent = (accepted: boolean) => {
    if (!consentFor) return;
    consentFor = null;
    // Sent even while reconnecting: socket.io sends it once connected, and the user's no stays a no.
    send('consent:answer', { accepted });
    if (!accepted) {
      bannerSuppressed = true;
      stopForwarding();
    } else {
      // Watching may start now: the banner with its Stop button shows while agents are there.
      bannerSuppressed = false;
      if (deferredStart) {
        deferredStart = false;
        startForwarding();
      }
    }
    renderUi();
  };

  // ------------------------------------------------------------------ socket

  const clearRetry = () => {
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = null;
  };

  const scheduleRetry = (kind: ConnectFailureKind) => {
    if (retryTimer || !socket) return;
    const s = socket;
    retryTimer = setTimeout(
      guard.wrap('reconnect', () => {
        retryTimer = null;
        if (socket === s && !s.connected && !stoppedReason) s.connect();
      }),
      retryDelay(retryAttempt++, kind, random),
    );
  };

  const measure = (s: TabSocket) => {
    const run = ++clockRun;
    const ping = (t: number) =>
      new Promise<number>((resolve, reject) => {
        s.timeout(CLOCK_PING_TIMEOUT_MS).emit('clock:ping', t, (err: Error | null, serverTime: number) => (err ? reject(err) : resolve(serverTime)));
        count('clock:ping');
      });
    measureClock(ping, { cancelled: () => run !== clockRun || !connected || socket !== s })
      .then(
        guard.wrap('clock', (offset: ClockOffset | undefined) => {
          if (!offset || run !== clockRun || !connected || socket !== s) return;
          clock = offset;
          send('clock:offset', { offsetMs: offset.offsetMs, rttMs: offset.rttMs });
        }),
      )
      .catch((err) => guard.report(err, 'clock'));
  };

  const onConnect = () => {
    connected = true;
    connects++;
    retryAttempt = 0;
    clearRetry();
    if (agentsTimer) clearTimeout(agentsTimer);
    agentsTimer = null;
    if (session) resume?.mark(session.tabId);
    // The handshake carried the page: only changes from here on are sent.
    if (!unsubPage && host) unsubPage = host.bus.subscribe(guard.wrap('page bus', onBusForPage) as (e: TandemEvent) => void);
    measure(socket!);
    pageSoon(); // in case the page changed between the handshake and now
  };

  const onDisconnect = (reason: string) => {
    connected = false;
    clockRun++;
    stopForwarding();
    // Nothing stale is replayed on reconnect: the server sends live:start again and a new snapshot repairs it.
    if (socket) socket.sendBuffer = [];
    if (pageTimer) clearTimeout(pageTimer);
    pageTimer = null;
    lastPageJson = '';
    if (!agentsTimer && agents.length) {
      agentsTimer = setTimeout(
        guard.wrap('agents grace', () => {
          agentsTimer = null;
          if (!connected) setAgents([]);
        }),
        AGENTS_GRACE_MS,
      );
    }
    // The server hung up on purpose: socket.io does not come back by itself.
    if (reason === 'io server disconnect' && !stoppedReason) scheduleRetry('retry');
  };

  const onConnectError = (err: unknown) => {
    const code = connectErrorCode(err);
    const kind = classifyConnectError(code);
    if (kind === 'fatal') {
      stoppedReason = code;
      clearRetry();
      socket?.disconnect();
      guard.report(new Error(`assist socket refused: ${code}`), `connect ${code}`);
      return;
    }
    // Transport failures: socket.io's manager retries with its own backoff. A refusal by the server
    // (a namespace middleware error) is not retried by socket.io: we do, with ours.
    if (socket?.active) return;
    scheduleRetry(kind);
  };

  const teardown = () => {
    clearRetry();
    clockRun++;
    stopForwarding();
    const s = socket;
    socket = null;
    connected = false;
    if (s) {
      s.removeAllListeners();
      s.disconnect();
    }
  };

  const connect = () => {
    if (!host || !session) return;
    const target = socketTarget(options.socketUrl || host.ingestUrl, doc?.location?.href);
    guard.run('ignore network', () => host!.ignoreNetwork?.(target.ignorePrefix));
    stoppedReason = null;
    retryAttempt = 0;
    const s = ioFactory(target.url, {
      path: target.path,
      // WebSocket first; long polling when a proxy refuses it (tryAllTransports falls through).
      transports: ['websocket', 'polling'],
      tryAllTransports: true,
      // A new manager of our own: never shares a connection with the page's own socket.io.
      forceNew: true,
      multiplex: false,
      reconnection: true,
      reconnectionDelay: 1_000,
      reconnectionDelayMax: 30_000,
      randomizationFactor: 0.5,
      timeout: 20_000,
      closeOnBeforeunload: false,
      withCredentials: false,
      auth: (cb: (data: object) => void) => {
        const sess = session!;
        const page = currentPage();
        lastPageJson = JSON.stringify(page);
        lastPageAt = Date.now();
        cb(buildTabHandshake(sess.token, resume!.has(sess.tabId), page));
      },
    });
    socket = s;
    s.on('connect', guard.wrap('connect', onConnect));
    s.on('disconnect', guard.wrap('disconnect', onDisconnect));
    s.on('connect_error', guard.wrap('connect_error', onConnectError));
    s.on(
      'live:start',
      guard.wrap('live:start', () => {
        bannerSuppressed = false;
        if (consentFor && !forwarder?.forwarding) {
          deferredStart = true; // nothing starts until the user says yes
          return;
        }
        startForwarding();
      }),
    );
    s.on('live:stop', guard.wrap('live:stop', stopForwarding));
    s.on(
      'agents',
      guard.wrap('agents', (list: AgentPresence[]) => {
        bannerSuppressed = false;
        setAgents(Array.isArray(list) ? list.filter((a) => a && typeof a === 'object') : []);
      }),
    );
    s.on(
      'consent:request',
      guard.wrap('consent:request', (info: { agents: AgentPresence[] }) => {
        consentFor = Array.isArray(info?.agents) ? info.agents : [];
        renderUi();
      }),
    );
  };

  const onSession = (next: AssistSession) => {
    const prev = session;
    session = { ...next };
    if (!prev) return connect();
    if (prev.sessionId !== next.sessionId || prev.tabId !== next.tabId) {
      // Another session or tab: another room. Nothing of the old one carries over.
      teardown();
      setAgents([]);
      consentFor = null;
      renderUi();
      return connect();
    }
    if (prev.token !== next.token) {
      // A new token: the next handshake must carry it (this tab has connected: resume = true).
      if (stoppedReason === 'unsupported_version') return;
      teardown();
      connect();
    }
  };

  /** The site stopped the tracker (e.g. the user withdrew consent): leave the live list altogether. */
  const onTrackerStop = () => {
    // Gone on purpose: the server drops the tab now instead of keeping its place for a reconnect.
    if (connected && socket) send('tab:leave');
    teardown();
    session = null; // the next start's session connects afresh
    setAgents([]);
    consentFor = null;
    renderUi();
  };

  // ------------------------------------------------------------------ plugin

  return {
    name: 'assist',
    setup(h: AssistHost) {
      if (!enabled || host) return;
      host = h;
      guard = assistGuard(typeof h.reportError === 'function' ? (err, where) => h.reportError!(err, `assist ${where}`) : undefined);
      guard.run('setup', () => {
        let storage = deps.storage;
        if (!storage) {
          try {
            storage = typeof sessionStorage !== 'undefined' ? sessionStorage : undefined;
          } catch {
            storage = undefined; // sandboxed iframes throw on access
          }
        }
        resume = new ResumeFlags(storage);
        forwarder = makeForwarder();
        installPageListeners();
        h.onSession(guard.wrap('session', onSession) as (s: AssistSession) => void);
        h.onStop?.(guard.wrap('tracker stop', onTrackerStop));
      });
    },
    assistState(): AssistState {
      return {
        enabled,
        connected,
        forwarding: !!forwarder?.forwarding,
        agents: agents.slice(),
        lastForwardedSeq: forwarder?.lastForwardedSeq ?? -1,
        sentMessages: forwarder?.sentMessages ?? 0,
        sentEvents: forwarder?.sentEvents ?? 0,
        runs: forwarder?.runs ?? 0,
        gaps: forwarder?.gaps ?? 0,
        emitted: { ...emitted },
        connects,
        clock: clock && { ...clock },
        bannerVisible: !!ui?.bannerVisible,
        consentPending: !!consentFor,
        stoppedReason,
      };
    },
    stop() {
      guard.run('stop', userStop);
    },
    answerConsent(accepted: boolean) {
      guard.run('consent answer', () => answerConsent(!!accepted));
    },
  };
}
