import type { Logger } from 'pino';
import type { AckResult, JoinResult } from '@tandem/protocol';
import type { RemoteBuffers } from './cluster-buffers.js';
import type { LiveRegistry } from './registry.js';
import type { LiveState } from './state/live-state.js';
import type { AgentIdentity, AssistSocket } from './types.js';

/**
 * The edge side of cross-node watching (cluster-link.ts): agent sockets on this node in sessions
 * that another node (the session's *home*) serves. Their `live:join` becomes a request to the home,
 * and every message they send for such a session is forwarded there; the home answers and emits to
 * the socket itself. Kept here: which sessions each socket watches elsewhere, and where.
 */

/** Agent events that name a session and belong to that session's home. */
const SESSION_EVENTS = new Set([
  'live:watch-tab', 'live:resync', 'live:leave', 'assist:request', 'assist:end', 'rtc:signal',
  'control:input', 'annotate:stroke', 'canvas:want',
]);

/** An agent's membership of a session served by another node. */
interface Away {
  home: string;
  tabId?: string;
  /** When the home was first seen dead (undefined: alive). */
  orphanSince?: number;
}

export interface AgentsAwayDeps {
  state: LiveState;
  registry: LiveRegistry;
  log: Logger;
  buffers: RemoteBuffers;
  /** An agent's message to the session's home (with an ack: answered by the home, or `unavailable`). */
  send(home: string, socketId: string, event: string, args: unknown[], ack?: (r: unknown) => void): void;
  /** Asks the home to join the agent to its room (null: no answer). */
  requestJoin(home: string, socket: AssistSocket, req: { sessionId: string; tabId?: string }): Promise<AckResult<JoinResult> | null>;
}

export class AgentsAway {
  /** Socket id → session id → where it is served. */
  private readonly away = new Map<string, Map<string, Away>>();
  private readonly sockets = new Map<string, AssistSocket>();

  constructor(private readonly deps: AgentsAwayDeps) {}

  /** socket.use middleware of an agent socket: messages for a session served elsewhere go there. */
  route(socket: AssistSocket, packet: unknown[], next: (err?: Error) => void): void {
    const [event, msg] = packet as [string, { sessionId?: unknown } | undefined];
    const ack = typeof packet[packet.length - 1] === 'function' ? (packet[packet.length - 1] as (r: unknown) => void) : undefined;
    const sessionId = typeof msg?.sessionId === 'string' ? msg.sessionId : undefined;
    if (event === 'live:join' && sessionId && ack) {
      void this.join(socket, sessionId, typeof (msg as { tabId?: unknown }).tabId === 'string' ? (msg as { tabId: string }).tabId : undefined)
        .then((r) => (r ? ack(r) : next()), (err) => {
          this.deps.log.error({ err }, 'live: cross-node join failed');
          ack({ ok: false, error: { code: 'internal', message: 'Internal server error' } });
        });
      return;
    }
    const entry = sessionId && SESSION_EVENTS.has(event) ? this.away.get(socket.id)?.get(sessionId) : undefined;
    if (!entry) return next();
    if (entry.orphanSince !== undefined) {
      ack?.({ ok: false, error: { code: 'unavailable', message: 'This session is moving to another server; try again in a moment' } });
      return;
    }
    if (event === 'live:watch-tab') entry.tabId = (msg as { tabId?: string }).tabId;
    if (event === 'live:leave') this.forget(socket.id, sessionId!);
    const args = ack ? packet.slice(1, -1) : packet.slice(1);
    this.deps.send(entry.home, socket.id, event, args, ack);
  }

  /** A `live:join` of a socket here: null when this node serves the session (the local handler answers). */
  private async join(socket: AssistSocket, sessionId: string, tabId: string | undefined): Promise<AckResult<JoinResult> | null> {
    const identity = socket.data as AgentIdentity;
    if (this.deps.registry.isLive(identity.projectId, sessionId)) {
      this.forget(socket.id, sessionId, true);
      return null;
    }
    if (identity.sessionId !== undefined && identity.sessionId !== sessionId) return null; // refused locally
    const home = await this.deps.state.homeOf(identity.projectId, sessionId);
    if (!home || home === this.deps.state.nodeId) return null;
    return this.joinAt(socket, home, sessionId, tabId);
  }

  /** Joins the agent socket to the session at `home`; remembered here when it worked. */
  async joinAt(socket: AssistSocket, home: string, sessionId: string, tabId?: string): Promise<AckResult<JoinResult>> {
    const result = await this.deps.requestJoin(home, socket, { sessionId, ...(tabId ? { tabId } : {}) });
    if (!result) return { ok: false, error: { code: 'unavailable', message: 'The server of this session does not answer; try again' } };
    if (result.ok && socket.connected) {
      let map = this.away.get(socket.id);
      if (!map) {
        this.away.set(socket.id, (map = new Map()));
        this.sockets.set(socket.id, socket);
      }
      map.set(sessionId, { home, tabId: result.tabId });
    }
    return result;
  }

  /** The agent socket disconnected: answers the homes of its sessions (which drop it). */
  gone(socketId: string): string[] {
    const map = this.away.get(socketId);
    if (!map) return [];
    this.away.delete(socketId);
    this.sockets.delete(socketId);
    this.deps.buffers.forgetLocal(socketId);
    return [...new Set([...map.values()].map((p) => p.home))];
  }

  /** Agent sockets here in sessions served elsewhere, with those sessions' live homes (backpressure reports). */
  *socketsWithHomes(): Iterable<[AssistSocket, Iterable<string>]> {
    for (const [socketId, map] of this.away) {
      const socket = this.sockets.get(socketId);
      if (socket) yield [socket, [...map.values()].filter((p) => p.orphanSince === undefined).map((p) => p.home)];
    }
  }

  /** The homes of an agent socket's sessions (empty when it watches nothing elsewhere). */
  homesOf(socketId: string): string[] {
    return [...(this.away.get(socketId)?.values() ?? [])].map((p) => p.home);
  }

  /** Sessions of agent sockets here that other nodes serve (for counts). */
  count(): number {
    let n = 0;
    for (const m of this.away.values()) n += m.size;
    return n;
  }

  private forget(socketId: string, sessionId: string, tellHome = false): void {
    const map = this.away.get(socketId);
    const entry = map?.get(sessionId);
    if (!map || !entry) return;
    map.delete(sessionId);
    if (!map.size) {
      this.away.delete(socketId);
      this.sockets.delete(socketId);
      this.deps.buffers.forgetLocal(socketId);
    }
    if (tellHome && entry.orphanSince === undefined) this.deps.send(entry.home, socketId, 'live:leave', [{ sessionId }]);
  }

  /** A node now serves a session: agents here that watched it elsewhere follow it there (or here). */
  followHome(m: { projectId: string; sessionId: string; node: string }): void {
    for (const [socketId, map] of [...this.away]) {
      const entry = map.get(m.sessionId);
      const socket = this.sockets.get(socketId);
      if (!entry || !socket || entry.home === m.node || (socket.data as AgentIdentity).projectId !== m.projectId) continue;
      const tabId = entry.tabId;
      this.forget(socketId, m.sessionId, true);
      const joined = m.node === this.deps.state.nodeId
        ? this.deps.registry.join(socketId, { sessionId: m.sessionId, tabId })
        : this.joinAt(socket, m.node, m.sessionId, tabId);
      void joined.then((r) => {
        if (!r.ok) socket.emit('live:ended', { sessionId: m.sessionId, reason: 'session_gone' });
      });
    }
  }

  /**
   * Sessions whose home died wait for it to come back (its tabs reconnect to some node, which claims
   * the session) for the grace period, refusing messages meanwhile; then their agents are told it ended.
   */
  checkLiveness(alive: Set<string>, graceMs: number): void {
    const now = Date.now();
    for (const [socketId, map] of [...this.away]) {
      const socket = this.sockets.get(socketId);
      for (const [sessionId, entry] of [...map]) {
        if (alive.has(entry.home)) {
          entry.orphanSince = undefined;
          continue;
        }
        entry.orphanSince ??= now;
        if (now - entry.orphanSince < graceMs) continue;
        this.forget(socketId, sessionId);
        socket?.emit('live:ended', { sessionId, reason: 'session_gone' });
      }
    }
  }
}
