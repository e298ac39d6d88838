import type { Logger } from 'pino';
import type { AckResult, AgentPresence, JoinResult, LiveEventsMessage, LiveSession } from '@tandem/protocol';
import type { Metrics } from '../metrics.js';
import { RemoteBuffers } from './cluster-buffers.js';
import type { ClusterRelay } from './cluster-relay.js';
import type { RecordingInterServerEvents } from './cluster-recordings.js';
import { ClusterTabs, type TabInterServerEvents } from './cluster-tabs.js';
import type { LiveRegistry, RoomObserver } from './registry.js';
import { presence, type AgentConn, type LiveRoom } from './rooms.js';
import { mergeSessions, type LiveState, type RoomRecord } from './state/live-state.js';
import { Throttle } from './throttle.js';
import type { AgentIdentity, AgentPeer, AssistNamespace, AssistSocket } from './types.js';

/**
 * Live rooms across backend nodes (TANDEM_REDIS_URL; DESIGN.md §7, issue 9).
 *
 * A session is served by its *home*: the node its newest tab socket connected to (LiveState). An
 * agent whose socket is on another node (its *edge*) joins there by a request through socket.io's
 * Redis adapter (`serverSideEmit`); the home treats it as one more AgentPeer whose messages go out
 * through the adapter to its socket (`to(socketId).emit`), and the edge forwards everything that agent
 * sends for that session to the home. So one node decides everything about a room (control, consent,
 * order of events) and nothing about a room is decided twice.
 *
 * When a home dies its tabs reconnect elsewhere (haproxy), the node they land on claims the session
 * and says so (`live:home`); edges re-join their agents there, which restarts them from a fresh
 * snapshot. A home learns that an edge died (and an edge that a home died) from the node heartbeats.
 */

/** How long a request to another node may take before the agent is told it failed. */
export const REMOTE_TIMEOUT_MS = 3_000;
/** Node liveness is checked this often (heartbeats expire after 3 s, see redis-state.ts). */
const LIVENESS_MS = 1_000;
/** Merged live lists at most this often per project (as the single-node list throttle). */
const LIST_INTERVAL_MS = 250;

export interface InterServerEvents extends TabInterServerEvents, RecordingInterServerEvents {
  'live:remote-join': (m: { to: string; from: string; socketId: string; identity: AgentIdentity; req: { sessionId: string; tabId?: string } },
    ack: (r: AckResult<JoinResult> | null) => void) => void;
  'live:remote-event': (m: { to: string; socketId: string; event: string; args: unknown[] }, ack?: (r: unknown) => void) => void;
  'live:remote-gone': (m: { to: string; socketId: string }) => void;
  'live:home': (m: { projectId: string; sessionId: string; node: string }) => void;
  'live:list-changed': (projectId: string) => void;
  'live:project-changed': (projectId: string) => void;
  /** An edge's agent socket crossed a backpressure threshold (cluster-buffers.ts). */
  'live:remote-buffered': (m: { to: string; socketId: string; bytes: number }) => void;
}

/** An agent's membership of a session served by another node, kept by the agent's edge. */
interface Proxied {
  home: string;
  tabId?: string;
  /** When the home was first seen dead (undefined: alive). */
  orphanSince?: number;
}

export interface ClusterLinkDeps {
  nsp: AssistNamespace;
  state: LiveState;
  registry: LiveRegistry;
  log: Logger;
  metrics: Metrics;
  /** The tab grace period: how long an agent whose session's home died waits for it to come back. */
  graceMs: number;
  /** Queue size above which an agent is behind (config.liveBackpressureBytes), for agents on this node watching elsewhere. */
  backpressureBytes: number;
  /** Runs an assist message of a tab of another node whose session this node serves. */
  dispatchTab(socketId: string, event: string, msg: unknown, refuse: (event: string, refusal: unknown) => void): void;
  /** Runs an assist message of an agent of another node (same handlers and limits as a local socket). */
  dispatchAgent(socketId: string, event: string, args: unknown[], refuse: (event: string, refusal: unknown) => void): void;
  /** The project's consent policy (settings changed on another node). */
  projectChanged(projectId: string): void;
  /** Assist state to copy into the room record (control holder). */
  control(room: LiveRoom): RoomRecord['control'];
  /** Live batches to agents of other nodes, once per edge (cluster-relay.ts); without it, the adapter. */
  relay?: ClusterRelay;
}

/** Agent events that name a session and belong to that session's home. */
const SESSION_EVENTS = new Set([
  'live:watch-tab', 'live:resync', 'live:leave', 'assist:request', 'assist:end', 'rtc:signal',
  'control:input', 'annotate:stroke', 'canvas:want',
]);

export class ClusterLink implements RoomObserver {
  readonly node: string;
  /** Edge side: socket id → session id → where it is served. */
  private readonly proxied = new Map<string, Map<string, Proxied>>();
  private readonly edgeSockets = new Map<string, AssistSocket>();
  /** Home side: agent socket id (on another node) → its edge node. */
  private readonly remote = new Map<string, string>();
  private readonly listThrottles = new Map<string, Throttle>();
  private readonly timer: NodeJS.Timeout;
  private lastAlive = new Set<string>();
  private closed = false;
  /** Tabs of a session on another node than its home (cluster-tabs.ts). */
  readonly tabs: ClusterTabs;
  /** Queues of agents on other nodes (cluster-buffers.ts). */
  readonly buffers: RemoteBuffers;

  constructor(private readonly deps: ClusterLinkDeps) {
    this.node = deps.state.nodeId;
    const nsp = deps.nsp;
    this.tabs = new ClusterTabs({ nsp, node: this.node, registry: deps.registry, log: deps.log, dispatchTab: deps.dispatchTab });
    this.buffers = new RemoteBuffers({ nsp, node: this.node, limitBytes: deps.backpressureBytes, proxied: () => this.proxiedSockets() });
    nsp.on('live:remote-join', (m, ack) => void this.onRemoteJoin(m).then(ack, (err) => {
      deps.log.error({ err }, 'live: remote join failed');
      ack({ ok: false, error: { code: 'internal', message: 'Internal server error' } });
    }));
    nsp.on('live:remote-event', (m, ack) => this.onRemoteEvent(m, ack));
    nsp.on('live:remote-gone', (m) => {
      if (m.to === this.node) this.dropRemote(m.socketId);
    });
    nsp.on('live:home', (m) => this.onHome(m));
    nsp.on('live:list-changed', (projectId) => this.listThrottle(projectId).schedule());
    nsp.on('live:project-changed', (projectId) => deps.projectChanged(projectId));
    this.timer = setInterval(() => void this.checkLiveness(), LIVENESS_MS);
    this.timer.unref();
  }

  // ------------------------------------------------------------------------------- edge (agents here)

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
    const entry = sessionId && SESSION_EVENTS.has(event) ? this.proxied.get(socket.id)?.get(sessionId) : undefined;
    if (!entry) return next();
    if (entry.orphanSince !== undefined) {
      ack?.({ ok: false, error: { code: 'unavailable', message: 'This session is moving to another server; try again in a moment' } });
      return;
    }
    if (event === 'live:watch-tab') entry.tabId = (msg as { tabId?: string }).tabId;
    if (event === 'live:leave') this.forget(socket.id, sessionId!);
    const args = ack ? packet.slice(1, -1) : packet.slice(1);
    this.send(entry.home, socket.id, event, args, ack);
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
    if (!home || home === this.node) return null;
    return this.joinAt(socket, home, sessionId, tabId);
  }

  private async joinAt(socket: AssistSocket, home: string, sessionId: string, tabId?: string): Promise<AckResult<JoinResult>> {
    const identity = socket.data as AgentIdentity;
    const result = await this.request<AckResult<JoinResult>>('live:remote-join', {
      to: home, from: this.node, socketId: socket.id, identity, req: { sessionId, ...(tabId ? { tabId } : {}) },
    });
    if (!result) return { ok: false, error: { code: 'unavailable', message: 'The server of this session does not answer; try again' } };
    if (result.ok && socket.connected) {
      let map = this.proxied.get(socket.id);
      if (!map) {
        this.proxied.set(socket.id, (map = new Map()));
        this.edgeSockets.set(socket.id, socket);
      }
      map.set(sessionId, { home, tabId: result.tabId });
    }
    return result;
  }

  /** An agent socket here disconnected: the homes of its sessions drop it. */
  agentGone(socketId: string): void {
    const map = this.proxied.get(socketId);
    if (!map) return;
    this.proxied.delete(socketId);
    this.edgeSockets.delete(socketId);
    this.buffers.forgetLocal(socketId);
    for (const home of new Set([...map.values()].map((p) => p.home))) this.deps.nsp.serverSideEmit('live:remote-gone', { to: home, socketId });
  }

  /** Agent sockets here in sessions served elsewhere, with those sessions' homes (backpressure reports). */
  private *proxiedSockets(): Iterable<[AssistSocket, Iterable<string>]> {
    for (const [socketId, map] of this.proxied) {
      const socket = this.edgeSockets.get(socketId);
      if (socket) yield [socket, [...map.values()].filter((p) => p.orphanSince === undefined).map((p) => p.home)];
    }
  }

  /** The relay found an agent socket here over its limit: its homes hear it now, not at the next poll. */
  agentFull(socket: AssistSocket): void {
    const map = this.proxied.get(socket.id);
    if (map) this.buffers.full(socket, [...map.values()].map((p) => p.home));
  }

  /** Sessions of an agent socket here that other nodes serve (for counts). */
  proxiedCount(): number {
    let n = 0;
    for (const m of this.proxied.values()) n += m.size;
    return n;
  }

  private forget(socketId: string, sessionId: string, tellHome = false): void {
    const map = this.proxied.get(socketId);
    const entry = map?.get(sessionId);
    if (!map || !entry) return;
    map.delete(sessionId);
    if (!map.size) {
      this.proxied.delete(socketId);
      this.edgeSockets.delete(socketId);
      this.buffers.forgetLocal(socketId);
    }
    if (tellHome && entry.orphanSince === undefined) this.send(entry.home, socketId, 'live:leave', [{ sessionId }]);
  }

  /** A node now serves a session: agents here that watched it elsewhere, or here, follow it there. */
  private onHome(m: { projectId: string; sessionId: string; node: string }): void {
    if (m.node !== this.node) this.handOver(m);
    this.tabs.onHome(m);
    for (const [socketId, map] of [...this.proxied]) {
      const entry = map.get(m.sessionId);
      const socket = this.edgeSockets.get(socketId);
      if (!entry || !socket || entry.home === m.node || (socket.data as AgentIdentity).projectId !== m.projectId) continue;
      const tabId = entry.tabId;
      this.forget(socketId, m.sessionId, true);
      if (m.node === this.node) {
        void this.deps.registry.join(socketId, { sessionId: m.sessionId, tabId }).then((r) => {
          if (!r.ok) socket.emit('live:ended', { sessionId: m.sessionId, reason: 'session_gone' });
        });
      } else {
        void this.joinAt(socket, m.node, m.sessionId, tabId).then((r) => {
          if (!r.ok) socket.emit('live:ended', { sessionId: m.sessionId, reason: 'session_gone' });
        });
      }
    }
  }

  /**
   * The session's tab left this node for another one: the room here (a grace-period shell) goes and
   * the agents of this node that watched it join it there, restarting from a fresh snapshot. Without
   * this they would wait here for a tab that is not coming back, and any agent joining here within the
   * grace period would join the shell.
   */
  private handOver(m: { projectId: string; sessionId: string; node: string }): void {
    const moved = this.deps.registry.movedAway(m.projectId, m.sessionId);
    if (!moved) return;
    // Tabs first: the agents' joins below must find them at the new home (same Redis connection, in order).
    for (const tab of moved.tabs) {
      if (tab.remote) this.tabs.dropHosted(tab.peerId, false); // its own node moves it on `live:home`
      else this.tabs.sendAway(tab.peerId, tab.page, tab.clockOffsetMs, m.node);
    }
    for (const { peerId, tabId, remote } of moved.agents) {
      if (remote) {
        // Its edge moves it on `live:home`; this node no longer holds anything of it for this session.
        if (!this.deps.registry.agentConn(peerId)?.memberships.size) this.dropRemote(peerId);
        continue;
      }
      const socket = this.deps.nsp.sockets.get(peerId);
      if (!socket?.connected) continue;
      void this.joinAt(socket, m.node, m.sessionId, tabId).then((r) => {
        if (!r.ok) socket.emit('live:ended', { sessionId: m.sessionId, reason: 'session_gone' });
      });
    }
  }

  // ------------------------------------------------------------------------------- home (rooms here)

  private async onRemoteJoin(m: Parameters<InterServerEvents['live:remote-join']>[0]): Promise<AckResult<JoinResult> | null> {
    if (m.to !== this.node) return null;
    const { registry } = this.deps;
    if (!this.remote.has(m.socketId)) {
      this.remote.set(m.socketId, m.from);
      registry.agentConnected(m.identity, this.remotePeer(m.socketId));
    }
    const result = await registry.join(m.socketId, m.req);
    if (!result.ok && !registry.agentConn(m.socketId)?.memberships.size) this.dropRemote(m.socketId);
    return result;
  }

  private onRemoteEvent(m: Parameters<InterServerEvents['live:remote-event']>[0], ack?: (r: unknown) => void): void {
    if (m.to !== this.node) return ack?.(null);
    if (!this.remote.has(m.socketId)) {
      return ack?.({ ok: false, error: { code: 'not_found', message: 'Join the session first' } });
    }
    const { registry } = this.deps;
    const [msg] = m.args as [{ sessionId?: unknown; tabId?: unknown; reason?: unknown } | undefined];
    switch (m.event) {
      case 'live:watch-tab':
        return ack?.(registry.watchTab(m.socketId, msg));
      case 'live:resync':
        return registry.resync(m.socketId, msg);
      case 'live:leave':
        registry.leave(m.socketId, msg?.sessionId);
        if (!registry.agentConn(m.socketId)?.memberships.size) this.dropRemote(m.socketId);
        return;
      default:
        this.deps.dispatchAgent(m.socketId, m.event, ack ? [...m.args, ack] : m.args, (event, refusal) =>
          this.deps.nsp.to(m.socketId).emit('assist:refused', refusal as never));
    }
  }

  /**
   * Sends a live batch to the agents of `peers` that are on other nodes, one message per edge node;
   * answers the peers left to send to (this node's, and any whose edge is not known).
   */
  relayEvents(peers: AgentPeer[], msg: LiveEventsMessage): AgentPeer[] {
    const relay = this.deps.relay;
    if (!relay) return peers;
    const rest: AgentPeer[] = [];
    const byEdge = new Map<string, AgentPeer[]>();
    for (const p of peers) {
      const edge = p.remote ? this.remote.get(p.id) : undefined;
      if (!edge) {
        rest.push(p);
        continue;
      }
      const list = byEdge.get(edge);
      if (list) list.push(p);
      else byEdge.set(edge, [p]);
    }
    for (const [edge, list] of byEdge) if (!relay.send(edge, list.map((p) => p.id), msg)) rest.push(...list);
    return rest;
  }

  /** An agent socket of another node, as the registry sees it: everything it is sent goes through the adapter. */
  private remotePeer(socketId: string): AgentPeer {
    const nsp = this.deps.nsp;
    return {
      id: socketId,
      remote: true,
      emit: (event, ...args) => (nsp.to(socketId).emit as (ev: string, ...a: unknown[]) => boolean)(event as string, ...args),
      // Its queue is on its own node, which reports it when it crosses a threshold (cluster-buffers.ts).
      bufferedBytes: () => this.buffers.bytesOf(socketId),
    };
  }

  private dropRemote(socketId: string): void {
    if (!this.remote.delete(socketId)) return;
    this.buffers.forgetRemote(socketId);
    this.deps.registry.agentDisconnected(socketId);
  }

  /** Remote agents here (for counts). */
  remoteCount(): number {
    return this.remote.size;
  }

  // ----------------------------------------------------------------------------- RoomObserver

  tabAttached(room: LiveRoom, openedNow: boolean): void {
    void this.claim(room, openedNow).catch((err) => this.deps.log.warn({ err }, 'live: cannot claim a session'));
  }

  private async claim(room: LiveRoom, openedNow: boolean): Promise<void> {
    const { state, registry } = this.deps;
    // Both at once (one round trip, not two: after a failover this is on the path to the agent's new
    // snapshot). The consent is restored before anyone re-joins: that happens after `live:home` below.
    const [record, previous] = await Promise.all([
      openedNow ? state.loadRoom(room.projectId, room.sessionId) : null,
      state.claimHome(room.projectId, room.sessionId),
    ]);
    // Came from another node (failover, drain, a second tab): the user's consent holds here too.
    if (record && record.node !== this.node) registry.restoreConsent(room.projectId, room.sessionId, record.consent);
    if (previous === this.node) return;
    const m = { projectId: room.projectId, sessionId: room.sessionId, node: this.node };
    this.deps.nsp.serverSideEmit('live:home', m);
    this.onHome(m);
  }

  roomChanged(room: LiveRoom): void {
    const watching: Record<string, string> = {};
    for (const [socketId, member] of room.members) watching[socketId] = member.tab.tabId;
    const agents: AgentPresence[] = presence(room);
    this.deps.state.saveRoom(room.projectId, room.sessionId, {
      node: this.node, consent: room.consent, agents, watching, control: this.deps.control(room), updatedAt: Date.now(),
    });
  }

  roomEnded(room: LiveRoom): void {
    this.deps.state.releaseHome(room.projectId, room.sessionId);
  }

  listChanged(projectId: string, sessions: LiveSession[], _listeners: AgentConn[]): void {
    void this.deps.state.publishSessions(projectId, sessions).then(() => {
      this.deps.nsp.serverSideEmit('live:list-changed', projectId);
      this.listThrottle(projectId).schedule();
    });
  }

  /** Every node's sessions of a project, this node's as they are now. */
  async sessions(projectId: string): Promise<LiveSession[]> {
    const shared = await this.deps.state.sessions(projectId);
    return mergeSessions([shared.filter((s) => !this.deps.registry.isLive(projectId, s.sessionId)), this.deps.registry.list(projectId)]);
  }

  private listThrottle(projectId: string): Throttle {
    let t = this.listThrottles.get(projectId);
    if (!t) {
      t = new Throttle(LIST_INTERVAL_MS, () => void this.pushList(projectId));
      this.listThrottles.set(projectId, t);
    }
    return t;
  }

  /** The merged list to this node's listeners of the project. */
  private async pushList(projectId: string): Promise<void> {
    const listeners = this.deps.registry.listeners(projectId);
    if (!listeners.length || this.closed) {
      if (!listeners.length) {
        this.listThrottles.get(projectId)?.cancel();
        this.listThrottles.delete(projectId);
      }
      return;
    }
    const sessions = await this.sessions(projectId);
    for (const conn of this.deps.registry.listeners(projectId)) conn.peer.emit('live:list', sessions);
  }

  // ------------------------------------------------------------------------------------ liveness

  private async checkLiveness(): Promise<void> {
    if (this.closed) return;
    const alive = await this.deps.state.aliveNodes();
    const now = Date.now();
    for (const [socketId, edge] of [...this.remote]) if (!alive.has(edge)) this.dropRemote(socketId);
    this.tabs.checkLiveness(alive);
    for (const [socketId, map] of [...this.proxied]) {
      const socket = this.edgeSockets.get(socketId);
      for (const [sessionId, entry] of [...map]) {
        if (alive.has(entry.home)) {
          entry.orphanSince = undefined;
          continue;
        }
        entry.orphanSince ??= now;
        if (now - entry.orphanSince < this.deps.graceMs) continue;
        this.forget(socketId, sessionId);
        socket?.emit('live:ended', { sessionId, reason: 'session_gone' });
      }
    }
    // A node left: the lists lose its sessions.
    const gone = [...this.lastAlive].some((n) => !alive.has(n));
    this.lastAlive = alive;
    if (gone) for (const projectId of this.deps.registry.listedProjects()) this.listThrottle(projectId).schedule();
  }

  // ------------------------------------------------------------------------------------- plumbing

  private send(home: string, socketId: string, event: string, args: unknown[], ack?: (r: unknown) => void): void {
    const m = { to: home, socketId, event, args };
    if (!ack) {
      this.deps.nsp.serverSideEmit('live:remote-event', m);
      return;
    }
    void this.request('live:remote-event', m).then((r) =>
      ack(r ?? { ok: false, error: { code: 'unavailable', message: 'The server of this session does not answer; try again' } }));
  }

  /** A request to every other node; the addressed one answers, the others answer null. */
  private async request<T>(event: 'live:remote-join' | 'live:remote-event', m: unknown): Promise<T | null> {
    try {
      // Bounded by the adapter's requestsTimeout (REMOTE_TIMEOUT_MS, set in attach.ts).
      const replies = await (this.deps.nsp as unknown as {
        serverSideEmitWithAck(ev: string, m: unknown): Promise<unknown[]>;
      }).serverSideEmitWithAck(event, m);
      return (replies.find((r) => r !== null && r !== undefined) as T | undefined) ?? null;
    } catch (err) {
      this.deps.log.warn({ err, event }, 'live: no answer from the other nodes');
      return null;
    }
  }

  /** This node drains: the tabs it hosts for other nodes go back to them (they serve those sessions now). */
  drain(): void {
    this.tabs.releaseAll();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.buffers.close();
    for (const t of this.listThrottles.values()) t.cancel();
  }
}
