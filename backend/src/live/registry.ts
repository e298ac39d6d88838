import type { Logger } from 'pino';
import type {
  AckResult, ErrorCode, JoinResult, LiveEndReason, LiveEventsMessage, LiveSession, ResyncReason, TabPage,
} from '@tandem/protocol';
import type { LiveDirectory } from '../context.js';
import type { LiveCounts, Metrics } from '../metrics.js';
import { TabForwarding } from './forwarding.js';
import {
  AgentConn, LiveRoom, ProjectRooms, TabRoom, activeTab, presence, toLiveSession, type Member,
} from './rooms.js';
import { isId, isResyncReason } from './schemas.js';
import { describeUserAgent, type StoredSessionInfo } from './session-info.js';
import type { RoomHooks } from './room-hooks.js';
import { Throttle } from './throttle.js';
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
}

type Fail = { ok: false; error: { code: ErrorCode; message: string } };
const fail = (code: ErrorCode, message: string): Fail => ({ ok: false, error: { code, message } });

/**
 * The live rooms: who is connected, who watches what, and every state change with the messages it
 * implies. Sockets are reached through TabPeer/AgentPeer and found by their socket id, so a socket
 * that was replaced (same tab, newer socket) can no longer act on the room.
 *
 * Every lookup starts from the caller's project: nothing here can reach another project's sessions.
 */
export class LiveRegistry implements Omit<LiveDirectory, 'agentRemoved'> {
  private readonly projects = new Map<string, ProjectRooms>();
  private readonly tabsByPeer = new Map<string, TabRoom>();
  private readonly agentsByPeer = new Map<string, AgentConn>();
  private readonly fwd: TabForwarding;
  private readonly opts: Required<LiveRegistryOptions>;
  private closed = false;

  constructor(options: LiveRegistryOptions, private readonly deps: LiveRegistryDeps) {
    this.opts = { listIntervalMs: 250, sessionIntervalMs: 250, snapshotRetryMs: 2_000, drainPollMs: 100, ...options };
    this.fwd = new TabForwarding(
      { backpressureBytes: this.opts.backpressureBytes, snapshotRetryMs: this.opts.snapshotRetryMs, drainPollMs: this.opts.drainPollMs },
      { metrics: deps.metrics, hooks: deps.hooks, multicast: deps.multicast ?? ((peers, msg) => peers.forEach((p) => p.emit('live:events', msg))) },
    );
  }

  // ------------------------------------------------------------------------------------------ tabs

  /** A tab socket passed the handshake. A newer socket for the same tab replaces the older one. */
  tabConnected(identity: TabIdentity, peer: TabPeer): void {
    const now = Date.now();
    const project = this.project(identity.projectId);
    const room = project.sessions.get(identity.sessionId) ?? this.openRoom(project, identity, now);
    let tab = room.tabs.get(identity.tabId);
    if (tab) {
      if (tab.graceTimer) clearTimeout(tab.graceTimer);
      tab.graceTimer = undefined;
      const old = tab.peer;
      if (old && old.id !== peer.id) {
        this.tabsByPeer.delete(old.id);
        old.disconnect();
      }
      tab.page = identity.page;
      tab.updatedAt = now;
    } else {
      tab = new TabRoom(room, identity.tabId, identity.page, now);
      room.tabs.set(identity.tabId, tab);
    }
    tab.peer = peer;
    this.tabsByPeer.set(peer.id, tab);
    // A new socket is a new plugin instance (reload) or a reconnect: it forwards nothing yet, and
    // whoever watched must start over from a snapshot.
    tab.forwarding = false;
    tab.lastSeq = -1;
    tab.snapshotAskedAt = 0;
    for (const m of tab.watchers.keys()) {
      this.fwd.forget(m);
      tab.watchers.set(m, 'awaiting');
    }
    if (identity.page.userId) room.userId = identity.page.userId;
    room.lastConnectAt = now;
    if (room.members.size) {
      const agents = presence(room);
      peer.emit('agents', agents);
      if (room.consent === 'pending') peer.emit('consent:request', { agents });
    }
    this.fwd.reconcile(tab, 'join');
    this.deps.hooks?.tabAttached(tab);
    this.changed(room, true);
  }

  /** The tab keeps its place (and its watchers) for the grace period, then leaves. */
  tabDisconnected(peerId: string): void {
    const tab = this.detachTabPeer(peerId);
    if (!tab) return;
    tab.graceTimer = setTimeout(() => this.removeTab(tab), this.opts.graceMs);
    tab.graceTimer.unref();
    this.changed(tab.session, false);
  }

  /** The tab left on purpose (`tab:leave`: the site stopped the tracker): gone now, no grace period. */
  tabLeft(peerId: string): void {
    const tab = this.detachTabPeer(peerId);
    if (tab) this.removeTab(tab);
  }

  /** The tab's socket is gone: it forwards nothing now. Returns the tab unless unknown or shutting down. */
  private detachTabPeer(peerId: string): TabRoom | undefined {
    const tab = this.tabsByPeer.get(peerId);
    if (!tab) return undefined;
    this.tabsByPeer.delete(peerId);
    tab.peer = undefined;
    tab.forwarding = false;
    return this.closed ? undefined : tab;
  }

  tabPage(peerId: string, page: TabPage): void {
    const tab = this.tabsByPeer.get(peerId);
    if (!tab) return;
    tab.page = page;
    tab.updatedAt = Date.now();
    if (page.userId) tab.session.userId = page.userId;
    this.changed(tab.session, true);
  }

  tabClockOffset(peerId: string, offsetMs: number): void {
    const tab = this.tabsByPeer.get(peerId);
    if (!tab || tab.clockOffsetMs === offsetMs) return;
    tab.clockOffsetMs = offsetMs;
    this.changed(tab.session, false);
  }

  /** `live:events` from a tab; `packetBytes` is the size of the message as received (for metrics). */
  tabEvents(peerId: string, raw: unknown, packetBytes = 0): void {
    const tab = this.tabsByPeer.get(peerId);
    if (!tab) return;
    tab.lastPacketBytes = packetBytes;
    this.fwd.relay(tab, raw);
  }

  consentAnswer(peerId: string, accepted: boolean): void {
    const room = this.tabsByPeer.get(peerId)?.session;
    if (!room || room.consent !== 'pending') return;
    if (accepted) {
      room.consent = 'accepted';
      for (const tab of room.tabs.values()) this.fwd.reconcile(tab, 'join');
      this.changed(room, true);
    } else {
      room.consent = 'none';
      this.dismissAgents(room, 'consent_declined');
    }
  }

  /** The user pressed stop on the banner: every agent leaves; a consent project will ask again. */
  userStop(peerId: string): void {
    const room = this.tabsByPeer.get(peerId)?.session;
    if (!room) return;
    room.consent = 'none';
    this.dismissAgents(room, 'user_stopped');
  }

  // ---------------------------------------------------------------------------------------- agents

  agentConnected(identity: AgentIdentity, peer: AgentPeer): void {
    this.agentsByPeer.set(peer.id, new AgentConn(peer, identity));
  }

  agentDisconnected(peerId: string): void {
    const conn = this.agentsByPeer.get(peerId);
    if (!conn) return;
    this.agentsByPeer.delete(peerId);
    for (const m of [...conn.memberships.values()]) this.removeMember(m);
    if (conn.listSubscribed) this.unsubscribeList(peerId, conn);
  }

  subscribeList(peerId: string): AckResult<{ sessions: LiveSession[] }> {
    const conn = this.agentsByPeer.get(peerId);
    if (!conn) return fail('unauthorized', 'Not connected');
    if (conn.identity.via !== 'login') return fail('forbidden', 'A watch link cannot list live sessions');
    const project = this.project(conn.identity.projectId);
    project.listeners.add(conn);
    conn.listSubscribed = true;
    return { ok: true, sessions: this.listOf(project) };
  }

  unsubscribeList(peerId: string, conn = this.agentsByPeer.get(peerId)): void {
    if (!conn) return;
    conn.listSubscribed = false;
    const project = this.projects.get(conn.identity.projectId);
    project?.listeners.delete(conn);
    if (project) this.dropIfEmpty(conn.identity.projectId, project);
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
    if (!this.room(identity.projectId, sessionId)) return notLive();
    let requireConsent: boolean;
    try {
      requireConsent = await this.deps.consent.requireConsent(identity.projectId);
    } catch (err) {
      this.deps.log.error({ err }, 'live: cannot read the project consent setting');
      return fail('unavailable', 'Cannot read the project settings; try again');
    }
    // The world may have moved during the await.
    if (this.agentsByPeer.get(peerId) !== conn) return fail('unauthorized', 'Not connected');
    const room = this.room(identity.projectId, sessionId);
    if (!room) return notLive();
    return this.joinRoom(conn, room, typeof tabId === 'string' ? tabId : undefined, requireConsent);
  }

  watchTab(peerId: string, req: { sessionId?: unknown; tabId?: unknown } | undefined): AckResult<{ tabId: string }> {
    const conn = this.agentsByPeer.get(peerId);
    if (!conn) return fail('unauthorized', 'Not connected');
    const member = typeof req?.sessionId === 'string' ? conn.memberships.get(req.sessionId) : undefined;
    if (!member) return fail('not_found', 'Join the session first');
    const tab = typeof req?.tabId === 'string' ? member.session.tabs.get(req.tabId) : undefined;
    if (!tab) return fail('not_found', 'No such tab in this session');
    if (tab !== member.tab) this.moveWatcher(member, tab, 'tab_switch');
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
    if (member) this.removeMember(member);
  }

  /** A watch link expired: the agent is told, per joined session (or for the link's session), and leaves. */
  expireWatchLink(peerId: string): void {
    const conn = this.agentsByPeer.get(peerId);
    if (!conn) return;
    const sessions = conn.memberships.size ? [...conn.memberships.keys()] : conn.identity.sessionId ? [conn.identity.sessionId] : [];
    for (const sessionId of sessions) conn.peer.emit('live:ended', { sessionId, reason: 'link_expired' });
    for (const m of [...conn.memberships.values()]) this.removeMember(m);
  }

  // ----------------------------------------------------------------------- lookups (assist features)

  /** The agent socket's connection, if connected. */
  agentConn(peerId: string): AgentConn | undefined {
    return this.agentsByPeer.get(peerId);
  }

  /** The tab whose current socket this is. */
  tabOfPeer(peerId: string): TabRoom | undefined {
    return this.tabsByPeer.get(peerId);
  }

  /** A live session of this project (never another project's). */
  roomOf(projectId: string, sessionId: string): LiveRoom | undefined {
    return this.room(projectId, sessionId);
  }

  // ------------------------------------------------------------------------------ directory (HTTP)

  list(projectId: string): LiveSession[] {
    const project = this.projects.get(projectId);
    return project ? this.listOf(project) : [];
  }

  sessionOfVisitor(projectId: string, visitorId: string): string | undefined {
    let best: LiveRoom | undefined;
    for (const room of this.projects.get(projectId)?.sessions.values() ?? []) {
      if (room.visitorId === visitorId && (!best || room.lastConnectAt > best.lastConnectAt)) best = room;
    }
    return best?.sessionId;
  }

  isLive(projectId: string, sessionId: string): boolean {
    return !!this.room(projectId, sessionId);
  }

  /**
   * Settings changed. Only turning consent off changes live rooms: sessions waiting for an answer
   * start at once. Turning it on applies from the next session an agent joins (agents already
   * watching are not thrown out).
   */
  projectChanged(projectId: string): void {
    this.deps.consent.projectChanged(projectId);
    const project = this.projects.get(projectId);
    if (!project) return;
    this.deps.consent.requireConsent(projectId).then((required) => {
      if (required || this.closed) return;
      for (const room of project.sessions.values()) {
        if (room.consent !== 'pending') continue;
        room.consent = 'none';
        for (const tab of room.tabs.values()) this.fwd.reconcile(tab, 'join');
        this.changed(room, true);
      }
    }, (err) => this.deps.log.warn({ err, projectId }, 'live: cannot re-read project settings'));
  }

  counts(): LiveCounts {
    let forwardingTabs = 0;
    for (const tab of this.tabsByPeer.values()) if (tab.forwarding) forwardingTabs++;
    let sessions = 0;
    for (const p of this.projects.values()) sessions += p.sessions.size;
    return { tabs: this.tabsByPeer.size, agents: this.agentsByPeer.size, forwardingTabs, sessions };
  }

  /** Stops every timer; the sockets are closed by socket.io. */
  close(): void {
    this.closed = true;
    this.fwd.stop();
    for (const project of this.projects.values()) {
      project.listChanged.cancel();
      for (const room of project.sessions.values()) {
        room.changed.cancel();
        for (const tab of room.tabs.values()) if (tab.graceTimer) clearTimeout(tab.graceTimer);
      }
    }
    this.projects.clear();
    this.tabsByPeer.clear();
    this.agentsByPeer.clear();
  }

  // ------------------------------------------------------------------------------------- internals

  private project(projectId: string): ProjectRooms {
    let project = this.projects.get(projectId);
    if (!project) {
      const p = new ProjectRooms();
      p.listChanged = new Throttle(this.opts.listIntervalMs, () => this.publishList(p));
      this.projects.set(projectId, p);
      project = p;
    }
    return project;
  }

  private room(projectId: string, sessionId: string): LiveRoom | undefined {
    return this.projects.get(projectId)?.sessions.get(sessionId);
  }

  private openRoom(project: ProjectRooms, identity: TabIdentity, now: number): LiveRoom {
    const room = new LiveRoom(identity.projectId, identity.sessionId, identity.visitorId, now);
    Object.assign(room, describeUserAgent(identity.userAgent));
    // Page changes and tab switches go out at once, but no more than every 50 ms.
    room.changed = new Throttle(this.opts.sessionIntervalMs, () => this.publishSession(room), Math.min(50, this.opts.sessionIntervalMs));
    project.sessions.set(identity.sessionId, room);
    return room;
  }

  /**
   * Fills in the session's stored start (and browser/os/user when still unknown) in the background.
   * Only for sessions an agent sees (listed or joined): idle tabs nobody looks at cost no query.
   */
  private lookupStored(room: LiveRoom): void {
    if (room.storedLookup || !this.deps.lookup) return;
    room.storedLookup = true;
    this.deps.lookup.lookup(room.projectId, room.sessionId, (info) => {
      if (!info || this.room(room.projectId, room.sessionId) !== room) return;
      if (info.startedAt > 0) room.startedAt = info.startedAt;
      if (!room.userId && info.userId) room.userId = info.userId;
      if (!room.browser && info.browser) room.browser = info.browser;
      if (!room.os && info.os) room.os = info.os;
      this.changed(room, false);
    });
  }

  private joinRoom(conn: AgentConn, room: LiveRoom, tabId: string | undefined, requireConsent: boolean): AckResult<JoinResult> {
    const wanted = tabId ? room.tabs.get(tabId) : undefined;
    const existing = conn.memberships.get(room.sessionId);
    if (existing) {
      // Joining again (e.g. the view was reopened): switch if asked, and start over from a snapshot.
      if (wanted && wanted !== existing.tab) this.moveWatcher(existing, wanted, 'tab_switch');
      else if (existing.tab.watchers.get(existing) !== 'behind') {
        existing.tab.watchers.set(existing, 'awaiting');
        this.fwd.startWatching(existing.tab, 'join');
      }
      this.deps.hooks?.memberJoined(existing);
      return this.joinResult(existing);
    }
    if (conn.memberships.size >= this.opts.maxSessionsPerAgent) {
      return fail('forbidden', `At most ${this.opts.maxSessionsPerAgent} live sessions at once per connection`);
    }
    const tab = wanted ?? activeTab(room);
    if (!tab) return fail('not_found', 'This session is not live');
    this.lookupStored(room);
    const member: Member = { conn, session: room, tab };
    room.members.set(conn.peer.id, member);
    conn.memberships.set(room.sessionId, member);
    tab.watchers.set(member, 'awaiting');
    if (room.consent === 'none' && requireConsent) room.consent = 'pending';
    const agents = presence(room);
    for (const t of room.tabs.values()) {
      if (!t.peer) continue;
      t.peer.emit('agents', agents);
      if (room.consent === 'pending') t.peer.emit('consent:request', { agents });
    }
    this.fwd.startWatching(tab, 'join');
    this.deps.hooks?.memberJoined(member);
    this.changed(room, true);
    return this.joinResult(member);
  }

  private joinResult(member: Member): AckResult<JoinResult> {
    return {
      ok: true,
      session: toLiveSession(member.session),
      tabId: member.tab.tabId,
      capabilities: [...member.conn.identity.capabilities],
      serverTime: Date.now(),
    };
  }

  private moveWatcher(member: Member, target: TabRoom, reason: 'tab_switch'): void {
    const old = member.tab;
    old.watchers.delete(member);
    this.fwd.forget(member);
    this.fwd.reconcile(old, reason);
    member.tab = target;
    target.watchers.set(member, 'awaiting');
    this.fwd.startWatching(target, reason);
    this.changed(member.session, true);
  }

  /** Removes one agent from one session (leave, disconnect, link expiry). */
  private removeMember(member: Member): void {
    const room = member.session;
    const tab = member.tab;
    this.detach(member);
    this.fwd.reconcile(tab, 'join');
    if (!room.members.size && room.consent === 'pending') room.consent = 'none';
    const agents = presence(room);
    for (const t of room.tabs.values()) t.peer?.emit('agents', agents);
    this.changed(room, true);
  }

  private detach(member: Member): void {
    member.tab.watchers.delete(member);
    this.fwd.forget(member);
    member.session.members.delete(member.conn.peer.id);
    member.conn.memberships.delete(member.session.sessionId);
    this.deps.hooks?.memberLeft(member);
  }

  /** Every agent leaves the session (user stop, consent declined); the tabs stop and drop the banner. */
  private dismissAgents(room: LiveRoom, reason: LiveEndReason): void {
    for (const member of [...room.members.values()]) {
      member.conn.peer.emit('live:ended', { sessionId: room.sessionId, reason });
      this.detach(member);
    }
    for (const tab of room.tabs.values()) {
      tab.forwarding = false;
      tab.snapshotAskedAt = 0;
      tab.peer?.emit('live:stop');
      tab.peer?.emit('agents', []);
    }
    this.changed(room, true);
  }

  /** Grace period over: the tab is gone. Its watchers follow the user to the tab they are on now. */
  private removeTab(tab: TabRoom): void {
    tab.graceTimer = undefined;
    const room = tab.session;
    if (room.tabs.get(tab.tabId) !== tab || tab.peer) return;
    room.tabs.delete(tab.tabId);
    this.deps.hooks?.tabRemoved(tab);
    if (!room.tabs.size) {
      this.endRoom(room, 'session_gone');
      return;
    }
    const next = activeTab(room)!;
    const moved = [...tab.watchers.keys()];
    tab.watchers.clear();
    for (const m of moved) {
      this.fwd.forget(m);
      m.tab = next;
      next.watchers.set(m, 'awaiting');
    }
    if (moved.length) this.fwd.startWatching(next, 'tab_switch');
    this.changed(room, true);
  }

  private endRoom(room: LiveRoom, reason: LiveEndReason): void {
    this.deps.hooks?.roomEnded(room);
    for (const member of [...room.members.values()]) {
      member.conn.peer.emit('live:ended', { sessionId: room.sessionId, reason });
      this.detach(member);
    }
    room.changed.cancel();
    const project = this.projects.get(room.projectId);
    if (!project || project.sessions.get(room.sessionId) !== room) return;
    project.sessions.delete(room.sessionId);
    project.listChanged.schedule();
    this.dropIfEmpty(room.projectId, project);
  }

  private dropIfEmpty(projectId: string, project: ProjectRooms): void {
    if (project.sessions.size || project.listeners.size) return;
    project.listChanged.cancel();
    this.projects.delete(projectId);
  }

  private changed(room: LiveRoom, urgent: boolean): void {
    if (this.closed) return;
    room.changed.schedule(urgent);
    this.projects.get(room.projectId)?.listChanged.schedule();
  }

  private publishSession(room: LiveRoom): void {
    if (this.closed || !room.members.size) return;
    const session = toLiveSession(room);
    for (const { conn } of room.members.values()) conn.peer.emit('live:session', session);
  }

  private publishList(project: ProjectRooms): void {
    if (this.closed || !project.listeners.size) return;
    const sessions = this.listOf(project);
    for (const conn of project.listeners) conn.peer.emit('live:list', sessions);
  }

  private listOf(project: ProjectRooms): LiveSession[] {
    for (const room of project.sessions.values()) this.lookupStored(room);
    return [...project.sessions.values()].sort((a, b) => b.startedAt - a.startedAt).map(toLiveSession);
  }
}
