import type { Logger } from 'pino';
import type { AckResult, JoinResult, LiveEventsMessage, LiveSession, TabPage } from '@tandem/protocol';
import type { LiveCounts, Metrics } from '../metrics.js';
import { TabForwarding } from './forwarding.js';
import { Memberships, fail } from './memberships.js';
import { RoomDirectory } from './room-directory.js';
import { AgentConn, toLiveSession, type ConsentState, type LiveRoom, type ProjectRooms, type TabRoom } from './rooms.js';
import { isId, isResyncReason } from './schemas.js';
import type { StoredSessionInfo } from './session-info.js';
import type { RoomHooks } from './room-hooks.js';
import { TabSockets, type MovedTab } from './tab-sockets.js';
import type { AgentIdentity, AgentPeer, TabIdentity, TabPeer } from './types.js';

export interface LiveRegistryOptions {
  /** How long a disconnected tab keeps its place (config.liveGraceMs). */
  graceMs: number;
  /** Queue size above which an agent is behind (config.liveBackpressureBytes). */
  backpressureBytes: number;
  maxSessionsPerAgent: number;
  /** live:list at most this often per project (250 ms: ≤ 4/s). */
  listIntervalMs?: number;
  /** live:session at most this often per session for small changes (clock offsets); page and tab changes go at once. */
  sessionIntervalMs?: number;
  /** A snapshot asked for and not seen after this long may be asked for again. */
  snapshotRetryMs?: number;
  /** How often agents that fell behind are checked for having drained. */
  drainPollMs?: number;
}

/** What the cluster side (cluster-link.ts) is told; absent in a single process. */
export interface RoomObserver {
  /** A tab socket attached here: this node serves its session now. */
  tabAttached(room: LiveRoom, openedNow: boolean): void;
  /** A tab of the room left for good (grace over, or `tab:leave`) and the room still has tabs. */
  tabRemoved(room: LiveRoom): void;
  /** The room changed (throttled like `live:session`). */
  roomChanged(room: LiveRoom): void;
  /** The room is gone from this node (its last tab here left). */
  roomEnded(room: LiveRoom): void;
  /** The project's sessions on this node changed (throttled like `live:list`); the observer tells the listeners. */
  listChanged(projectId: string, sessions: LiveSession[], listeners: AgentConn[]): void;
}

/** What a room that moved to another node had here (registry.movedAway). */
export interface MovedRoom {
  agents: { peerId: string; tabId: string; remote: boolean }[];
  /** Its tabs still connected (here, or hosted for another node when `remote`). */
  tabs: MovedTab[];
}

export interface LiveRegistryDeps {
  log: Logger;
  metrics: Metrics;
  consent: { requireConsent(projectId: string): Promise<boolean>; projectChanged(projectId: string): void };
  /** Fills in a session's stored start (and browser/os/user when still unknown), later. */
  lookup?: { lookup(projectId: string, sessionId: string, done: (info: StoredSessionInfo | null) => void): void };
  /** One message to several agents, encoded once (socket.io broadcast); defaults to one emit each. */
  multicast?: (peers: AgentPeer[], msg: LiveEventsMessage) => void;
  /** Told of room changes (the assist features: calls, control, canvas video). */
  hooks?: RoomHooks;
  observer?: RoomObserver;
}

/**
 * The live rooms: who is connected, who watches what, and every state change with the messages it
 * implies. Sockets are reached through TabPeer/AgentPeer and found by their socket id, so a socket
 * that was replaced (same tab, newer socket) can no longer act on the room. An agent on another node
 * is an AgentPeer like any other (cluster-link.ts).
 *
 * Split by concern: room-directory.ts (where rooms are, lists, throttles), tab-sockets.ts (tabs and
 * their sockets), memberships.ts (agents in sessions), forwarding.ts (what flows). Every lookup starts from the caller's project.
 */
export class LiveRegistry {
  private readonly tabs: TabSockets;
  private readonly agentsByPeer = new Map<string, AgentConn>();
  private readonly fwd: TabForwarding;
  private readonly rooms: RoomDirectory;
  private readonly members: Memberships;
  private readonly opts: Required<LiveRegistryOptions>;
  private closed = false;
  private observer: RoomObserver | undefined;

  constructor(options: LiveRegistryOptions, private readonly deps: LiveRegistryDeps) {
    this.observer = deps.observer;
    this.opts = { listIntervalMs: 250, sessionIntervalMs: 250, snapshotRetryMs: 2_000, drainPollMs: 100, ...options };
    this.fwd = new TabForwarding(
      { backpressureBytes: this.opts.backpressureBytes, snapshotRetryMs: this.opts.snapshotRetryMs, drainPollMs: this.opts.drainPollMs },
      { metrics: deps.metrics, hooks: deps.hooks, multicast: deps.multicast ?? ((peers, msg) => peers.forEach((p) => p.emit('live:events', msg))) },
    );
    this.rooms = new RoomDirectory(
      { listIntervalMs: this.opts.listIntervalMs, sessionIntervalMs: this.opts.sessionIntervalMs },
      {
        lookup: deps.lookup,
        publishList: (projectId, project) => this.publishList(projectId, project),
        publishSession: (room) => this.publishSession(room),
      },
    );
    this.members = new Memberships({ maxSessionsPerAgent: this.opts.maxSessionsPerAgent }, this.rooms, this.fwd, deps.hooks);
    this.tabs = new TabSockets({
      rooms: this.rooms, fwd: this.fwd, members: this.members, hooks: deps.hooks, graceMs: this.opts.graceMs,
      closed: () => this.closed,
      attached: (room, openedNow) => this.observer?.tabAttached(room, openedNow),
      removed: (room) => this.observer?.tabRemoved(room),
      endRoom: (room) => this.endRoom(room),
    });
  }

  /** The cluster side, set once it exists (it needs the registry first). */
  observe(observer: RoomObserver | undefined): void {
    this.observer = observer;
  }

  // ------------------------------------------------------------------------------------------ tabs

  /** A tab socket passed the handshake. A newer socket for the same tab replaces the older one. */
  tabConnected(identity: TabIdentity, peer: TabPeer): void {
    this.tabs.connected(identity, peer);
  }

  /** The tab keeps its place (and its watchers) for the grace period, then leaves. */
  tabDisconnected(peerId: string): void {
    this.tabs.disconnected(peerId);
  }

  /** The tab left on purpose (`tab:leave`: the site stopped the tracker): gone now, no grace period. */
  tabLeft(peerId: string): void {
    this.tabs.left(peerId);
  }

  tabPage(peerId: string, page: TabPage): void {
    this.tabs.page(peerId, page);
  }

  tabClockOffset(peerId: string, offsetMs: number): void {
    this.tabs.clockOffset(peerId, offsetMs);
  }

  /** `live:events` from a tab; `packetBytes` is the size of the message as received (for metrics). */
  tabEvents(peerId: string, raw: unknown, packetBytes = 0): void {
    this.tabs.events(peerId, raw, packetBytes);
  }

  consentAnswer(peerId: string, accepted: boolean): void {
    this.tabs.consentAnswer(peerId, accepted);
  }

  /**
   * The session came to this node from another (failover, drain): the consent its user gave there
   * still holds. Only an acceptance is carried over (a pending question is asked again by the next join).
   */
  restoreConsent(projectId: string, sessionId: string, consent: ConsentState): void {
    const room = this.rooms.room(projectId, sessionId);
    if (!room || consent !== 'accepted' || room.consent === 'accepted') return;
    room.consent = 'accepted';
    for (const tab of room.tabs.values()) this.fwd.reconcile(tab, 'join');
    this.rooms.changed(room, true);
  }

  /** The user pressed stop on the banner: every agent leaves; a consent project will ask again. */
  userStop(peerId: string): void {
    this.tabs.userStop(peerId);
  }

  // ---------------------------------------------------------------------------------------- agents

  agentConnected(identity: AgentIdentity, peer: AgentPeer): void {
    this.agentsByPeer.set(peer.id, new AgentConn(peer, identity));
  }

  agentDisconnected(peerId: string): void {
    const conn = this.agentsByPeer.get(peerId);
    if (!conn) return;
    this.agentsByPeer.delete(peerId);
    for (const m of [...conn.memberships.values()]) this.members.remove(m);
    if (conn.listSubscribed) this.unsubscribeList(peerId, conn);
  }

  subscribeList(peerId: string): AckResult<{ sessions: LiveSession[] }> {
    const conn = this.agentsByPeer.get(peerId);
    if (!conn) return fail('unauthorized', 'Not connected');
    if (conn.identity.via !== 'login') return fail('forbidden', 'A watch link cannot list live sessions');
    const project = this.rooms.project(conn.identity.projectId);
    project.listeners.add(conn);
    conn.listSubscribed = true;
    return { ok: true, sessions: this.rooms.listOf(project) };
  }

  unsubscribeList(peerId: string, conn = this.agentsByPeer.get(peerId)): void {
    if (!conn) return;
    conn.listSubscribed = false;
    const project = this.rooms.projects.get(conn.identity.projectId);
    project?.listeners.delete(conn);
    if (project) this.rooms.dropIfEmpty(conn.identity.projectId, project);
  }

  async join(peerId: string, req: { sessionId?: unknown; tabId?: unknown } | undefined): Promise<AckResult<JoinResult>> {
    const conn = this.agentsByPeer.get(peerId);
    if (!conn) return fail('unauthorized', 'Not connected');
    const sessionId = req?.sessionId;
    const tabId = req?.tabId;
    if (!isId(sessionId)) return fail('bad_request', 'sessionId must be 8-64 characters of [A-Za-z0-9_-]');
    if (tabId !== undefined && tabId !== null && !isId(tabId)) return fail('bad_request', 'tabId is malformed');
    const { identity } = conn;
    if (identity.sessionId !== undefined && identity.sessionId !== sessionId) return fail('forbidden', 'This watch link is for another session');
    const notLive = () => fail('not_found', 'This session is not live');
    if (!this.rooms.room(identity.projectId, sessionId)) return notLive();
    let requireConsent: boolean;
    try {
      requireConsent = await this.deps.consent.requireConsent(identity.projectId);
    } catch (err) {
      this.deps.log.error({ err }, 'live: cannot read the project consent setting');
      return fail('unavailable', 'Cannot read the project settings; try again');
    }
    // The world may have moved during the await.
    if (this.agentsByPeer.get(peerId) !== conn) return fail('unauthorized', 'Not connected');
    const room = this.rooms.room(identity.projectId, sessionId);
    if (!room) return notLive();
    return this.members.join(conn, room, typeof tabId === 'string' ? tabId : undefined, requireConsent);
  }

  watchTab(peerId: string, req: { sessionId?: unknown; tabId?: unknown } | undefined): AckResult<{ tabId: string }> {
    const conn = this.agentsByPeer.get(peerId);
    if (!conn) return fail('unauthorized', 'Not connected');
    const member = typeof req?.sessionId === 'string' ? conn.memberships.get(req.sessionId) : undefined;
    if (!member) return fail('not_found', 'Join the session first');
    const tab = typeof req?.tabId === 'string' ? member.session.tabs.get(req.tabId) : undefined;
    if (!tab) return fail('not_found', 'No such tab in this session');
    if (tab !== member.tab) this.members.move(member, tab, 'tab_switch');
    return { ok: true, tabId: tab.tabId };
  }

  /** An agent saw a gap (or wants a fresh picture): it restarts from the next snapshot. */
  resync(peerId: string, req: { sessionId?: unknown; tabId?: unknown; reason?: unknown } | undefined): void {
    const conn = this.agentsByPeer.get(peerId);
    const member = conn && typeof req?.sessionId === 'string' ? conn.memberships.get(req.sessionId) : undefined;
    if (!member || member.tab.tabId !== req?.tabId) return;
    const state = member.tab.watchers.get(member);
    if (state === 'behind') return; // the drain watcher restarts it once its queue is gone
    member.tab.watchers.set(member, 'awaiting');
    this.fwd.requestSnapshot(member.tab, isResyncReason(req.reason) ? req.reason : 'manual');
  }

  leave(peerId: string, sessionId: unknown): void {
    const member = typeof sessionId === 'string' ? this.agentsByPeer.get(peerId)?.memberships.get(sessionId) : undefined;
    if (member) this.members.remove(member);
  }

  /** A watch link expired: the agent is told, per joined session (or for the link's session), and leaves. */
  expireWatchLink(peerId: string): void {
    const conn = this.agentsByPeer.get(peerId);
    if (!conn) return;
    const sessions = conn.memberships.size ? [...conn.memberships.keys()] : conn.identity.sessionId ? [conn.identity.sessionId] : [];
    for (const sessionId of sessions) conn.peer.emit('live:ended', { sessionId, reason: 'link_expired' });
    for (const m of [...conn.memberships.values()]) this.members.remove(m);
  }

  // ----------------------------------------------------------------------- lookups (assist features)

  /** The agent socket's connection, if connected. */
  agentConn(peerId: string): AgentConn | undefined {
    return this.agentsByPeer.get(peerId);
  }

  /** The tab whose current socket this is. */
  tabOfPeer(peerId: string): TabRoom | undefined {
    return this.tabs.ofPeer(peerId);
  }

  /** A live session of this project (never another project's). */
  roomOf(projectId: string, sessionId: string): LiveRoom | undefined {
    return this.rooms.room(projectId, sessionId);
  }

  /** Every tab socket and agent socket connected here (drain tells them to move). */
  peers(): { tabs: TabPeer[]; agents: AgentPeer[] } {
    return { tabs: this.tabs.peers(), agents: [...this.agentsByPeer.values()].map((c) => c.peer) };
  }

  /** Every session with a room here (drain waits for them to be served elsewhere). */
  sessions(): { projectId: string; sessionId: string }[] {
    const out: { projectId: string; sessionId: string }[] = [];
    for (const [projectId, p] of this.rooms.projects) for (const sessionId of p.sessions.keys()) out.push({ projectId, sessionId });
    return out;
  }

  /** Agent sockets here subscribed to the project's live list. */
  listeners(projectId: string): AgentConn[] {
    return [...(this.rooms.projects.get(projectId)?.listeners ?? [])];
  }

  /** Projects with a live-list listener here. */
  listedProjects(): string[] {
    return [...this.rooms.projects].filter(([, p]) => p.listeners.size).map(([id]) => id);
  }

  // ------------------------------------------------------------------------------ directory (HTTP)

  /** This node's live sessions of the project. */
  list(projectId: string): LiveSession[] {
    return this.rooms.list(projectId);
  }

  sessionOfVisitor(projectId: string, visitorId: string): string | undefined {
    return this.rooms.sessionOfVisitor(projectId, visitorId);
  }

  isLive(projectId: string, sessionId: string): boolean {
    return !!this.rooms.room(projectId, sessionId);
  }

  /**
   * Settings changed. Only turning consent off changes live rooms: sessions waiting for an answer
   * start at once. Turning it on applies from the next session joined (agents already watching are
   * not thrown out).
   */
  projectChanged(projectId: string): void {
    this.deps.consent.projectChanged(projectId);
    const project = this.rooms.projects.get(projectId);
    if (!project) return;
    this.deps.consent.requireConsent(projectId).then((required) => {
      if (required || this.closed) return;
      for (const room of project.sessions.values()) {
        if (room.consent !== 'pending') continue;
        room.consent = 'none';
        for (const tab of room.tabs.values()) this.fwd.reconcile(tab, 'join');
        this.rooms.changed(room, true);
      }
    }, (err) => this.deps.log.warn({ err, projectId }, 'live: cannot re-read project settings'));
  }

  counts(): Pick<LiveCounts, 'tabs' | 'agents' | 'forwardingTabs' | 'sessions'> {
    return { ...this.tabs.counts(), agents: this.agentsByPeer.size, sessions: this.rooms.sessionCount() };
  }

  /** Stops every timer; the sockets are closed by socket.io. */
  close(): void {
    this.closed = true;
    this.fwd.stop();
    this.rooms.close();
    this.tabs.clear();
    this.agentsByPeer.clear();
  }

  // ------------------------------------------------------------------------------------- internals

  /**
   * Another node now serves this session (a tab of it connected there: a second tab, a network blip
   * through a round robin balancer, a drain). The room here goes, without `live:ended`: its agents are
   * answered so that they can follow the session there (agents of other nodes follow by themselves on
   * `live:home`), and so are its tabs still connected, which the caller hands to the new home (a
   * session whose tabs sit on two nodes is one room, at its home; cluster-tabs.ts). A tab that was
   * streaming is told to stop: the new home starts it again for its watchers. Null when unknown here.
   */
  movedAway(projectId: string, sessionId: string): MovedRoom | null {
    const room = this.rooms.room(projectId, sessionId);
    if (!room) return null;
    const members = [...room.members.values()];
    const agents = members.map((m) => ({ peerId: m.conn.peer.id, tabId: m.tab.tabId, remote: !!m.conn.peer.remote }));
    for (const m of members) this.members.detach(m);
    const tabs = this.tabs.releaseRoom(room);
    this.deps.hooks?.roomEnded(room);
    this.rooms.removeRoom(room);
    this.observer?.roomEnded(room);
    return { agents, tabs };
  }

  private endRoom(room: LiveRoom): void {
    this.deps.hooks?.roomEnded(room);
    for (const member of [...room.members.values()]) {
      member.conn.peer.emit('live:ended', { sessionId: room.sessionId, reason: 'session_gone' });
      this.members.detach(member);
    }
    this.rooms.removeRoom(room);
    this.observer?.roomEnded(room);
  }

  private publishSession(room: LiveRoom): void {
    if (this.closed) return;
    this.observer?.roomChanged(room);
    if (!room.members.size) return;
    const session = toLiveSession(room);
    for (const { conn } of room.members.values()) conn.peer.emit('live:session', session);
  }

  private publishList(projectId: string, project: ProjectRooms): void {
    if (this.closed) return;
    const observer = this.observer;
    if (observer) {
      observer.listChanged(projectId, this.rooms.listOf(project, project.listeners.size > 0), [...project.listeners]);
      return;
    }
    if (!project.listeners.size) return;
    const sessions = this.rooms.listOf(project);
    for (const conn of project.listeners) conn.peer.emit('live:list', sessions);
  }
}
