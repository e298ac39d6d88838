import { ASSIST_NAMESPACE, PROTOCOL_VERSION, type AgentHandshake, type AgentToServerEvents, type ServerToAgentEvents } from '@tandem/protocol';
import { XHR } from 'engine.io-client';
import { io, type Socket } from 'socket.io-client';
import { EarlyWebSocketTransport } from './early-socket';

export type AgentSocket = Socket<ServerToAgentEvents, AgentToServerEvents>;

/**
 * The agent's socket.io connection to `/assist` itself (login cookie, or a watch-link token), without
 * the dashboard's reactive state: `LiveSocket` (socket.svelte.ts) wraps one. Kept apart so the early
 * join (pages/live/early-join.ts) can open it before the app's code and the Svelte runtime are loaded
 * (its chunk is socket.io and this file), and hand it to the live page's `LiveSocket` later.
 */
export class AgentConnection {
  readonly socket: AgentSocket;
  readonly watchToken: string | undefined;
  /** The handshake of the connection being made carried `join` (only the first attempt's does). */
  joinInHandshake = false;
  /** The last refusal or network failure of a connection attempt, cleared on connect. */
  lastConnectError: (Error & { data?: { code?: string; message?: string } }) | null = null;

  constructor(options: { watchToken?: string; join?: AgentHandshake['join'] } = {}) {
    this.watchToken = options.watchToken;
    const auth: AgentHandshake = { role: 'agent', v: PROTOCOL_VERSION, ...(options.watchToken ? { watchToken: options.watchToken } : {}) };
    let join = options.join;
    this.socket = io(ASSIST_NAMESPACE, {
      // Read at every connection attempt: a join rides on the first one only (a reconnect's views
      // join by `live:join`).
      auth: (cb: (data: object) => void) => {
        this.joinInHandshake = !!join;
        cb(join ? { ...auth, join } : auth);
        join = undefined;
      },
      withCredentials: true,
      // WebSocket first (one hop less for every frame); long-polling only where it cannot open. The
      // WebSocket transport takes over the one index.html opened early on a live view (early-socket.ts).
      transports: [EarlyWebSocketTransport, XHR],
      tryAllTransports: true,
    });
    this.socket.on('connect', () => (this.lastConnectError = null));
    this.socket.on('connect_error', (err) => (this.lastConnectError = err));
  }

  /** Runs fn on every (re)connect, and at once if connected; returns the unsubscribe. */
  onConnect(fn: () => void): () => void {
    this.socket.on('connect', fn);
    if (this.socket.connected) fn();
    return () => void this.socket.off('connect', fn);
  }

  close(): void {
    this.socket.removeAllListeners();
    this.socket.disconnect();
  }
}
