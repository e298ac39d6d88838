import type { Logger } from 'pino';
import type { AckResult, AgentPresence, JoinResult, LiveEventsMessage, LiveSession } from '@tandem/protocol';
import type { Metrics } from '../metrics.js';
import { AgentsAway } from './cluster-agents-away.js';
import type { NodeBus } from './cluster-bus.js';
import { HostedAgents, type RemoteJoin } from './cluster-agents-hosted.js';
import { RemoteBuffers } from './cluster-buffers.js';
import { ClusterLists } from './cluster-lists.js';
import type { ClusterRelay } from './cluster-relay.js';
import type { RecordingInterServerEvents } from './cluster-recordings.js';
import { ClusterTabs } from './cluster-tabs.js';
import type { LiveRegistry, RoomObserver } from './registry.js';
import { activeTab, presence, type AgentConn, type LiveRoom, type TabRoom } from './rooms.js';
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

/**
 * What every node hears (socket.io adapter's broadcast). Messages for one node go on that node's own
 * channel instead (cluster-bus.ts): `live:remote-join`, `live:remote-event`, `live:remote-gone`
 * (agents), `live:tab-*` (cluster-tabs.ts), `live:remote-buffered` (cluster-buffers.ts), `live:rec-grant`
 * and `live:rec-started` (cluster-recordings.ts).
 */
export interface InterServerEvents extends RecordingInterServerEvents {
  /** A node now serves a session: edges with agents or tabs of it follow. */
  'live:home': (m: { projectId: string; sessionId: string; node: string }) => void;
  'live:list-changed': (projectId: string) => void;
  'live:project-changed': (projectId: string) => void;
  /** An agent was removed: every node's handshake forgets its record (agent-records.ts). */
  'live:agent-removed': (agentId: string) => void;
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
  /** Live batches and other messages to sockets of other nodes, once per edge (cluster-relay.ts). */
  relay: ClusterRelay;
  /** Messages to one named node (cluster-bus.ts). */
  bus: NodeBus;
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
    const { nsp, registry, state, log, bus, relay } = deps;
    this.tabs = new ClusterTabs({ nsp, bus, relay, node: this.node, registry, log, dispatchTab: deps.dispatchTab });
    this.buffers = new RemoteBuffers({ bus, limitBytes: deps.backpressureBytes, proxied: () => this.away.socketsWithHomes() });
    this.away = new AgentsAway({
      state, registry, log, buffers: this.buffers,
      send: (home, socketId, event, args, ack) => this.send(home, socketId, event, args, ack),
      requestJoin: (home, socket, req) => bus.request<AckResult<JoinResult>>(home, 'live:remote-join', {
        from: this.node, socketId: socket.id, identity: socket.data as AgentIdentity, req,
      } satisfies RemoteJoin),
    });
    this.hosted = new HostedAgents({ nsp, registry, buffers: this.buffers, relay, dispatchAgent: deps.dispatchAgent });
    this.lists = new ClusterLists({ state, registry, announce: (projectId) => nsp.serverSideEmit('live:list-changed', projectId) });
    bus.on('live:remote-join', (m: RemoteJoin, reply) => void this.hosted.join(m).then(reply, (err) => {
      log.error({ err }, 'live: remote join failed');
      reply?.({ ok: false, error: { code: 'internal', message: 'Internal server error' } });
    }));
    bus.on('live:remote-event', (m: { socketId: string; event: string; args: unknown[] }, reply) => this.hosted.event(m, reply));
    bus.on('live:remote-gone', (m: { socketId: string }) => this.hosted.drop(m.socketId));
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
    for (const home of this.away.gone(socketId)) this.deps.bus.send(home, 'live:remote-gone', { socketId });
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

  /**
   * A tab of a room here left for good. When the tabs left are all hosted for other nodes, one of
   * them (the user's current tab if it is one) goes back to its own node, which then serves the
   * session (`live:home`): its tab, and the agents watching, move there from a fresh snapshot, as
   * on a drain. Otherwise this node would keep serving a session none of whose sockets it holds,
   * every event of it crossing Redis twice, until one of its tabs connected somewhere again.
   */
  tabRemoved(room: LiveRoom): void {
    const hosted: TabRoom[] = [];
    for (const tab of room.tabs.values()) {
      if (!tab.peer) continue; // in its grace period: it may come back anywhere
      if (!tab.peer.remote) return; // a tab socket here still: this node stays the home
      hosted.push(tab);
    }
    const current = activeTab(room);
    const tab = current && hosted.includes(current) ? current : hosted[0];
    if (tab?.peer) this.tabs.release(tab.peer.id);
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

  /** An agent's message for the session's home; with an ack, the home's answer (or `unavailable`). */
  private send(home: string, socketId: string, event: string, args: unknown[], ack?: (r: unknown) => void): void {
    const m = { socketId, event, args };
    if (!ack) return this.deps.bus.send(home, 'live:remote-event', m);
    void this.deps.bus.request(home, 'live:remote-event', m).then((r) =>
      ack(r ?? { ok: false, error: { code: 'unavailable', message: 'The server of this session does not answer; try again' } }));
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
    this.deps.bus.close();
  }
}
