import type { AgentPresence, Guard, ResyncReason, TabToServerEvents, TandemEvent } from '@tandem/protocol';
import { io as realIo } from 'socket.io-client';
import { measureClock, type ClockOffset } from './clock.js';
import { assistGuard } from './guard.js';
import { ResumeFlags, buildTabHandshake, paceReconnect, socketOptions, socketTarget } from './handshake.js';
import type { AssistHost, AssistSession } from './host.js';
import { PageInfo } from './page-info.js';
import { classifyConnectError, connectErrorCode, retryDelay, type ConnectFailureKind } from './retry.js';
import { RTC_EVENTS, createRtcBridge } from './rtc-bridge.js';
import { LiveStream } from './live-stream.js';
import type { AssistDeps, AssistOptions, AssistPlugin, AssistState, IoFactory, TabSocket } from './types.js';
import { createUi, type AssistUi } from './ui.js';
import { Viewing } from './viewing.js';

export type { AssistDeps, AssistOptions, AssistPlugin, AssistState } from './types.js';
export { PAGE_THROTTLE_MS } from './page-info.js';

/** Set by tracker/build.mjs to the chunk's content hash, so a cached /tracker-rtc.js never mismatches this file. */
declare const __TANDEM_RTC_VERSION__: string | undefined;

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
  let ui: AssistUi | null = null;
  let unsubPage: (() => void) | null = null;

  let connected = false;
  let connects = 0;
  let clock: ClockOffset | null = null;
  let clockRun = 0;
  let stoppedReason: string | null = null;
  let retryAttempt = 0;
  /** The socket was closed at pagehide (back/forward cache): reopened at pageshow. */
  let pausedByPagehide = false;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;
  let agentsTimer: ReturnType<typeof setTimeout> | null = null;
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

  const page = new PageInfo({
    host: () => host,
    doc,
    guard: () => guard,
    connected: () => connected,
    send: (p) => send('tab:page', p),
  });
  const pageSoon = page.soon;

  const installPageListeners = () => {
    if (!doc) return;
    const win = doc.defaultView;
    page.listen(doc);
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

  // ------------------------------------------------------------------ forwarding (live-stream.ts)

  const stream = new LiveStream({
    host: () => host,
    guard: () => guard,
    connected: () => connected,
    sendEvents: (events) => {
      if (!connected || !socket) throw new Error('live:events while disconnected');
      send('live:events', { events });
    },
    schedule: deps.schedule,
  });
  const forwarder = stream.forwarder;

  const stopForwarding = (keepRun = false) => {
    viewing.deferredStart = false;
    stream.stop(keepRun);
  };

  // ------------------------------------------------------------------ agents, banner, consent (viewing.ts)

  const getUi = (d: Document): AssistUi =>
    (ui ??= createUi(
      d,
      {
        onStop: () => viewing.userStop(),
        onConsent: (accepted) => viewing.answer(accepted),
      },
      (where, fn) => guard.wrap(where, fn) as typeof fn,
    ));

  const viewing = new Viewing({
    doc,
    showBanner,
    ui: (d) => getUi(d),
    hasUi: () => !!ui,
    guard: () => guard,
    onAgentsChange: options.onAgentsChange,
    sendStop: () => send('user:stop'),
    sendConsent: (accepted) => send('consent:answer', { accepted }),
    startForwarding: () => stream.start(),
    stopForwarding: () => stopForwarding(),
    forwarding: () => forwarder.forwarding,
  });

  // ------------------------------------------------------------------ WebRTC chunk (calls, control, canvas, drawing)

  const rtc = createRtcBridge({
    doc,
    session: () => session,
    host: () => host,
    ui: (d) => getUi(d),
    uiHost: () => ui?.host ?? null,
    guard: () => guard,
    send,
    rtcUrl: options.rtcUrl,
    version: typeof __TANDEM_RTC_VERSION__ === 'string' ? __TANDEM_RTC_VERSION__ : '',
    load: deps.loadRtc,
  });

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
    if (socket?.io) paceReconnect(socket.io, false);
    // The handshake carried the page: only changes from here on are sent.
    if (!unsubPage && host) unsubPage = host.bus.subscribe(guard.wrap('page bus', page.onBus) as (e: TandemEvent) => void);
    measure(socket!);
    pageSoon(); // in case the page changed between the handshake and now
  };

  const onDisconnect = (reason: string) => {
    connected = false;
    clockRun++;
    // Forwarding now means someone watches: that tab reconnects ahead of the others (handshake.ts).
    if (socket?.io) paceReconnect(socket.io, stream.subscribed);
    stopForwarding(true);
    // Nothing stale is replayed on reconnect: the server sends live:start again and a new snapshot repairs it.
    if (socket) socket.sendBuffer = [];
    page.reset();
    if (!agentsTimer && viewing.agents.length) {
      agentsTimer = setTimeout(
        guard.wrap('agents grace', () => {
          agentsTimer = null;
          if (!connected) viewing.setAgents([]);
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
    const s = ioFactory(
      target.url,
      socketOptions(target.path, (cb) => {
        const sess = session!;
        cb(buildTabHandshake(sess.token, resume!.has(sess.tabId), page.forHandshake()));
      }),
    );
    socket = s;
    s.on('connect', guard.wrap('connect', onConnect));
    s.on('disconnect', guard.wrap('disconnect', onDisconnect));
    s.on('connect_error', guard.wrap('connect_error', onConnectError));
    s.on(
      'live:start',
      guard.wrap('live:start', (info?: { reason?: 'join' | ResyncReason }) => {
        if (viewing.onLiveStart()) stream.start(info?.reason ?? 'join');
      }),
    );
    s.on(
      'live:stop',
      guard.wrap('live:stop', () => {
        stopForwarding(true);
        rtc.liveStopped();
      }),
    );
    for (const name of RTC_EVENTS) s.on(name, guard.wrap(name, (msg: unknown) => rtc.receive(name, msg)) as never);
    s.on(
      'agents',
      guard.wrap('agents', (list: AgentPresence[]) => viewing.onAgents(list)),
    );
    s.on(
      'consent:request',
      guard.wrap('consent:request', (info: { agents: AgentPresence[] }) => {
        // The user is asked about watching from now on: nothing kept from before goes to the agents.
        stream.dropKeptRun();
        viewing.onConsentRequest(info);
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
      rtc.dispose();
      viewing.clear();
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
    rtc.dispose();
    session = null; // the next start's session connects afresh
    viewing.clear();
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
        installPageListeners();
        h.onSession(guard.wrap('session', onSession) as (s: AssistSession) => void);
        h.onStop?.(guard.wrap('tracker stop', onTrackerStop));
      });
    },
    assistState(): AssistState {
      return {
        enabled,
        connected,
        forwarding: forwarder.forwarding,
        agents: viewing.agents.slice(),
        lastForwardedSeq: forwarder.lastForwardedSeq,
        sentMessages: forwarder.sentMessages,
        sentEvents: forwarder.sentEvents,
        runs: forwarder.runs,
        gaps: forwarder.gaps,
        reusedRuns: stream.reusedRuns,
        emitted: { ...emitted },
        connects,
        clock: clock && { ...clock },
        bannerVisible: !!ui?.bannerVisible,
        consentPending: !!viewing.consentFor,
        stoppedReason,
        rtc: rtc.summary(),
      };
    },
    rtcConnections() {
      return rtc.connections();
    },
    stop() {
      guard.run('stop', () => viewing.userStop());
    },
    answerConsent(accepted: boolean) {
      guard.run('consent answer', () => viewing.answer(!!accepted));
    },
  };
}
