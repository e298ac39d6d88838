import type { AgentHandshake, LiveEndReason, LiveEventsMessage, LiveSession } from '@tandem/protocol';
import { AgentConnection, type AgentSocket } from './agent-connection';
import { bestOffset, type ClockSample } from './clock';

export type { AgentSocket } from './agent-connection';

/** What one joined session wants to hear from the shared socket. */
export interface SessionListener {
  session?: (session: LiveSession) => void;
  events?: (message: LiveEventsMessage) => void;
  ended?: (info: { sessionId: string; reason: LiveEndReason }) => void;
}

export interface SocketError {
  code: string;
  message: string;
  /** The server refused us (no automatic reconnect): show it instead of "reconnecting". */
  fatal: boolean;
}

/** Pings per clock measurement; the fastest round trip wins. */
const CLOCK_PINGS = 5;
/** Clocks drift and NTP steps them: measure again now and then. */
const CLOCK_REFRESH_MS = 60_000;

/**
 * The page's one connection to `/assist` as an agent (login cookie, or a watch-link token), shared by
 * every live view on the page (the grid joins up to 4 sessions over it). It dispatches session
 * messages to the views that joined them, tells them when the connection (re)opens so they join
 * again, and keeps this browser's clock offset to the server (`agentOffsetMs` = server − agent).
 */
export class LiveSocket {
  connected = $state(false);
  error = $state<SocketError | null>(null);
  /** server − agent, ms (0 until measured) */
  agentOffsetMs = $state(0);
  clockRttMs = $state<number | null>(null);

  readonly socket: AgentSocket;
  readonly watchToken: string | undefined;
  #listeners = new Map<string, Set<SessionListener>>();
  #connectListeners = new Set<() => void>();
  #clockTimer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  readonly #connection: AgentConnection;

  /** The handshake of the connection being made carried `join` (only the first attempt's does). */
  get joinInHandshake(): boolean {
    return this.#connection.joinInHandshake;
  }

  /**
   * A new connection, or `connection`: one opened earlier (the early join's, pages/live/early-join.ts),
   * which may have connected (or failed) already.
   */
  constructor(options: { watchToken?: string; join?: AgentHandshake['join']; connection?: AgentConnection } = {}) {
    const connection = options.connection ?? new AgentConnection(options);
    this.#connection = connection;
    this.watchToken = connection.watchToken;
    this.socket = connection.socket;

    this.socket.on('connect', () => {
      this.connected = true;
      this.error = null;
      // Joins first: an emit right behind another one waits in engine.io's buffer for a microtask, i.e.
      // behind the Svelte updates this connect set off; the clock pings are in no hurry (the first
      // events are placed on the agent's clock, clamped, whatever the offset says).
      for (const fn of [...this.#connectListeners]) fn();
      void this.measureClock();
    });
    this.socket.on('disconnect', () => {
      this.connected = false;
    });
    this.socket.on('connect_error', (err: Error & { data?: { code?: string; message?: string } }) => this.#failed(err));
    // An earlier connection's state so far (what its events already said).
    if (this.socket.connected) {
      this.connected = true;
      void this.measureClock();
    } else if (connection.lastConnectError) this.#failed(connection.lastConnectError);

    this.socket.on('live:session', (session) => this.#dispatch(session.sessionId, (l) => l.session?.(session)));
    this.socket.on('live:events', (message) => this.#dispatch(message.sessionId, (l) => l.events?.(message)));
    this.socket.on('live:ended', (info) => this.#dispatch(info.sessionId, (l) => l.ended?.(info)));

    this.#clockTimer = setInterval(() => {
      if (this.connected) void this.measureClock();
    }, CLOCK_REFRESH_MS);
  }

  #failed(err: Error & { data?: { code?: string; message?: string } }): void {
    this.connected = false;
    this.error = {
      code: err.data?.code ?? err.message ?? 'network',
      message: err.data?.message ?? (err.message === 'xhr poll error' || err.message === 'websocket error' ? 'Cannot reach the Tandem server.' : err.message),
      fatal: !this.socket.active,
    };
  }

  /** Messages of one session; returns the unsubscribe. */
  listen(sessionId: string, listener: SessionListener): () => void {
    let set = this.#listeners.get(sessionId);
    if (!set) this.#listeners.set(sessionId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#listeners.delete(sessionId);
    };
  }

  /** Called on every (re)connect — joins do not survive a reconnect. Runs at once if connected. */
  onConnect(fn: () => void): () => void {
    this.#connectListeners.add(fn);
    if (this.socket.connected) fn();
    return () => this.#connectListeners.delete(fn);
  }

  #dispatch(sessionId: string, call: (listener: SessionListener) => void): void {
    const set = this.#listeners.get(sessionId);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        call(listener);
      } catch (err) {
        console.error('[tandem] live view handler failed', err);
      }
    }
  }

  /** A few `clock:ping` round trips; keeps the offset of the fastest. */
  async measureClock(): Promise<void> {
    const samples: ClockSample[] = [];
    for (let i = 0; i < CLOCK_PINGS && this.socket.connected; i++) {
      const sentAt = Date.now();
      try {
        const serverTime = await this.socket.timeout(3_000).emitWithAck('clock:ping', sentAt);
        samples.push({ sentAt, serverTime, receivedAt: Date.now() });
      } catch {
        break; // no answer within 3 s: keep what we have
      }
    }
    const best = bestOffset(samples);
    if (best && (this.clockRttMs === null || best.rttMs <= this.clockRttMs * 2 || samples.length === CLOCK_PINGS)) {
      this.agentOffsetMs = Math.round(best.offsetMs);
      this.clockRttMs = best.rttMs;
    }
  }

  /** Server-clock now, by this browser's clock and the measured offset. */
  serverNow(): number {
    return Date.now() + this.agentOffsetMs;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#clockTimer);
    this.#listeners.clear();
    this.#connectListeners.clear();
    this.socket.removeAllListeners();
    this.socket.disconnect();
  }
}
