import type { Logger } from 'pino';
import type { AckResult, AgentPresence, JoinResult, LiveEventsMessage, LiveSession } from '@tandem/protocol';
import type { Metrics } from '../metrics.js';
import { AgentsAway } from './cluster-agents-away.js';
import { HostedAgents, type RemoteJoin } from './cluster-agents-hosted.js';
import { RemoteBuffers } from './cluster-buffers.js';
import { ClusterLists } from './cluster-lists.js';
import type { ClusterRelay } from './cluster-relay.js';
import type { RecordingInterServerEvents } from './cluster-recordings.js';
import { ClusterTabs, type TabInterServerEvents } from './cluster-tabs.js';
import type { LiveRegistry, RoomObserver } from './registry.js';
import { presence, type AgentConn, type LiveRoom } from './rooms.js';
import type { LiveState, RoomRecord } from './state/live-state.js';
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
 *
 * Split by concern: cluster-agents-away.ts (agents here in sessions served elsewhere),
 * cluster-agents-hosted.ts (agents of other nodes in rooms here), cluster-tabs.ts (the same for tabs),
 * cluster-lists.ts (the live list across nodes), cluster-buffers.ts and cluster-relay.ts (what flows).
 * This file wires them and follows where each session is served.
 */

/** How long a request to another node may take before the agent is told it failed. */
export const REMOTE_TIMEOUT_MS = 3_000;
/** Node liveness is checked this often (heartbeats expire after 3 s, see redis-state.ts). */
const LIVENESS_MS = 1_000;

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

export class ClusterLink implements RoomObserver {
  readonly node: string;
  private readonly timer: NodeJS.Timeout;
  private lastAlive = new Set<string>();
  private closed = false;
  /** Agent sockets here in sessions served elsewhere. */
  private readonly away: AgentsAway;
  /** Agent sockets of other nodes in rooms here. */
  private readonly hosted: HostedAgents;
  private readonly lists: ClusterLists;
  /** Tabs of a session on another node than its home (cluster-tabs.ts). */
  readonly tabs: ClusterTabs;
  /** Queues of agents on other nodes (cluster-buffers.ts). */
  readonly buffers: RemoteBuffers;

  constructor(private readonly deps: ClusterLinkDeps) {
    this.node = deps.state.nodeId;
    const { nsp, registry, state, log } = deps;
    this.tabs = new ClusterTabs({ nsp, node: this.node, registry, log, dispatchTab: deps.dispatchTab });
    this.buffers = new RemoteBuffers({ nsp, node: this.node, limitBytes: deps.backpressureBytes, proxied: () => this.away.socketsWithHomes() });
    this.away = new AgentsAway({
      state, registry, log, buffers: this.buffers,
      send: (home, socketId, event, args, ack) => this.send(home, socketId, event, args, ack),
      requestJoin: (home, socket, req) => this.request<AckResult<JoinResult>>('live:remote-join', {
        to: home, from: this.node, socketId: socket.id, identity: socket.data as AgentIdentity, req,
      }),
    });
    this.hosted = new HostedAgents({ nsp, registry, buffers: this.buffers, relay: deps.relay, dispatchAgent: deps.dispatchAgent });
    this.lists = new ClusterLists({ state, registry, announce: (projectId) => nsp.serverSideEmit('live:list-changed', projectId) });
    nsp.on('live:remote-join', (m, ack) => {
      if (m.to !== this.node) return ack(null);
      void this.hosted.join(m as RemoteJoin).then(ack, (err) => {
        log.error({ err }, 'live: remote join failed');
        ack({ ok: false, error: { code: 'internal', message: 'Internal server error' } });
      });
    });
    nsp.on('live:remote-event', (m, ack) => {
      if (m.to !== this.node) return ack?.(null);
      this.hosted.event(m, ack);
    });
    nsp.on('live:remote-gone', (m) => {
      if (m.to === this.node) this.hosted.drop(m.socketId);
    });
    nsp.on('live:home', (m) => this.onHome(m));
    nsp.on('live:list-changed', (projectId) => this.lists.schedule(projectId));
    nsp.on('live:project-changed', (projectId) => deps.projectChanged(projectId));
    this.timer = setInterval(() => void this.checkLiveness(), LIVENESS_MS);
    this.timer.unref();
  }

  // ------------------------------------------------------------------------------- agents here

  /** socket.use middleware of an agent socket: messages for a session served elsewhere go there. */
  route(socket: AssistSocket, packet: unknown[], next: (err?: Error) => void): void {
    this.away.route(socket, packet, next);
  }

  /** An agent socket here disconnected: the homes of its sessions drop it. */
  agentGone(socketId: string): void {
    for (const home of this.away.gone(socketId)) this.deps.nsp.serverSideEmit('live:remote-gone', { to: home, socketId });
  }

  /** The relay found an agent socket here over its limit: its homes hear it now, not at the next poll. */
  agentFull(socket: AssistSocket): void {
    const homes = this.away.homesOf(socket.id);
    if (homes.length) this.buffers.full(socket, homes);
  }

  /** Sessions of an agent socket here that other nodes serve (for counts). */
  proxiedCount(): number {
    return this.away.count();
  }

  /** Agents of other nodes in rooms here (for counts). */
  remoteCount(): number {
    return this.hosted.count();
  }

  /**
   * Sends a live batch to the agents of `peers` that are on other nodes, one message per edge node;
   * answers the peers left to send to (this node's, and any whose edge is not known).
   */
  relayEvents(peers: AgentPeer[], msg: LiveEventsMessage): AgentPeer[] {
    return this.hosted.relayEvents(peers, msg);
  }

  // ----------------------------------------------------------------------- where sessions are served

  /** A node now serves a session: agents and tabs here that were with it elsewhere, or here, follow it there. */
  private onHome(m: { projectId: string; sessionId: string; node: string }): void {
    if (m.node !== this.node) this.handOver(m);
    this.tabs.onHome(m);
    this.away.followHome(m);
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
        if (!this.deps.registry.agentConn(peerId)?.memberships.size) this.hosted.drop(peerId);
        continue;
      }
      const socket = this.deps.nsp.sockets.get(peerId);
      if (!socket?.connected) continue;
      void this.away.joinAt(socket, m.node, m.sessionId, tabId).then((r) => {
        if (!r.ok) socket.emit('live:ended', { sessionId: m.sessionId, reason: 'session_gone' });
      });
    }
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
    this.lists.publish(projectId, sessions);
  }

  /** Every node's sessions of a project, this node's as they are now. */
  sessions(projectId: string): Promise<LiveSession[]> {
    return this.lists.sessions(projectId);
  }

  // ------------------------------------------------------------------------------------ liveness

  private async checkLiveness(): Promise<void> {
    if (this.closed) return;
    const alive = await this.deps.state.aliveNodes();
    this.hosted.checkLiveness(alive);
    this.tabs.checkLiveness(alive);
    this.away.checkLiveness(alive, this.deps.graceMs);
    // A node left: the lists lose its sessions.
    const gone = [...this.lastAlive].some((n) => !alive.has(n));
    this.lastAlive = alive;
    if (gone) this.lists.scheduleAll();
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
    this.lists.close();
  }
}
