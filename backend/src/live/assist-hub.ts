import type { Logger } from 'pino';
import {
  agentPeerId, type AssistEndReason, type AssistRefusal, type ErrorCode, type PeerId, type RecordingState, type RtcConfig,
} from '@tandem/protocol';
import type { Metrics } from '../metrics.js';
import { AssistRoomState, type Ended } from './assist-state.js';
import type { RoomHooks } from './room-hooks.js';
import type { AgentConn, LiveRoom, Member, TabRoom } from './rooms.js';
import type { AgentPeer, TabPeer } from './types.js';

/** What the hub needs of the registry: lookups only (the registry tells the hub of changes by RoomHooks). */
export interface RoomLookup {
  agentConn(socketId: string): AgentConn | undefined;
  tabOfPeer(socketId: string): TabRoom | undefined;
  roomOf(projectId: string, sessionId: string): LiveRoom | undefined;
}

export interface AssistHubDeps {
  log: Logger;
  metrics: Metrics;
  /** How long a request waits for the user (config.assistRequestTimeoutMs; ASSIST_REQUEST_TIMEOUT_MS). */
  requestTimeoutMs: number;
  /** ICE servers (and TURN credentials) for a session. */
  rtcConfig(sessionId: string): RtcConfig;
  /** Fresh credentials go out this often (ice.ts rtcRefreshMs); null: never (no TURN). */
  rtcRefreshMs?: number | null;
}

/** What the hub keeps per tab socket: sent once per socket, so a reloaded tab gets them again. */
interface TabSocketState {
  socketId: string;
  configSent: boolean;
  /** Watchers this socket was sent `canvas:want` for (and not `canvas:stop` since). */
  wanted: Set<Member>;
  /** Next `rtc:config` with fresh TURN credentials. */
  refresh?: NodeJS.Timeout;
}

/**
 * The assist features' shared core: the state of each live session (assist-state.ts), the messages a
 * change implies (`assist:state` to every tab and agent of the session, `assist:ended` to agents who lost
 * something), ICE config and canvas wants per tab socket. The registry drives it through RoomHooks;
 * the message handlers (assist-requests.ts, rtc-relay.ts, control.ts) act through it.
 */
export class AssistHub implements RoomHooks {
  private readonly states = new WeakMap<LiveRoom, AssistRoomState>();
  private readonly tabSockets = new WeakMap<TabRoom, TabSocketState>();
  private readonly recordingListeners: ((recording: RecordingState, room: LiveRoom) => void)[] = [];
  /** Next `rtc:config` with fresh TURN credentials, per agent membership. */
  private readonly agentRefresh = new Map<Member, { refresh?: NodeJS.Timeout }>();
  private rooms!: RoomLookup;

  constructor(readonly deps: AssistHubDeps) {}

  /** Set once the registry exists (it takes the hub as its hooks, so it is built second). */
  attach(rooms: RoomLookup): void {
    this.rooms = rooms;
  }

  // ---------------------------------------------------------------------------------------- lookups

  state(room: LiveRoom): AssistRoomState {
    let st = this.states.get(room);
    if (!st) {
      st = new AssistRoomState(room.sessionId);
      this.states.set(room, st);
    }
    return st;
  }

  room(projectId: string, sessionId: string): LiveRoom | undefined {
    return this.rooms.roomOf(projectId, sessionId);
  }

  agentConn(socketId: string): AgentConn | undefined {
    return this.rooms.agentConn(socketId);
  }

  tabOfPeer(socketId: string): TabRoom | undefined {
    return this.rooms.tabOfPeer(socketId);
  }

  /** The agent socket behind a peer id, if it is a member of this session. */
  memberByPeerId(room: LiveRoom, peerId: PeerId): Member | undefined {
    return peerId.startsWith('agent:') ? room.members.get(peerId.slice('agent:'.length)) : undefined;
  }

  /** The tab behind a peer id in this session. */
  tabByPeerId(room: LiveRoom, peerId: PeerId): TabRoom | undefined {
    return peerId.startsWith('tab:') ? room.tabs.get(peerId.slice('tab:'.length)) : undefined;
  }

  // ------------------------------------------------------------------------- recordings (HTTP side)

  recordingGrant(projectId: string, sessionId: string, agent: { id: string; via: string }): RecordingState | null {
    const room = this.room(projectId, sessionId);
    const rec = room ? this.states.get(room)?.recording : null;
    return rec && rec.agent.id === agent.id && rec.agent.via === agent.via ? rec : null;
  }

  recordingStarted(projectId: string, sessionId: string, recordingId: string): void {
    const room = this.room(projectId, sessionId);
    const st = room && this.states.get(room);
    if (!room || !st?.recording || st.recording.recordingId) return;
    st.recording = { ...st.recording, recordingId };
    this.publish(room);
  }

  /** Called with a recording that ended (its grant is gone); the HTTP side stops taking its chunks soon after. */
  onRecordingEnded(listener: (recording: RecordingState, room: LiveRoom) => void): void {
    this.recordingListeners.push(listener);
  }

  // ------------------------------------------------------------------------------------- messages

  refuse(peer: AgentPeer | TabPeer, event: string, code: ErrorCode, message: string, sessionId?: string): void {
    const refusal: AssistRefusal = { ...(sessionId ? { sessionId } : {}), event, code, message };
    this.deps.metrics.assistRefused.inc({ event, code });
    (peer as AgentPeer).emit('assist:refused', refusal); // the same event and shape on both maps
  }

  /** ICE servers go to a tab socket once, before the first thing that may make it start a peer. */
  ensureConfig(tab: TabRoom): void {
    const ts = this.tabSocket(tab);
    if (!ts || ts.configSent || !tab.peer) return;
    ts.configSent = true;
    tab.peer.emit('rtc:config', this.deps.rtcConfig(tab.session.sessionId));
    this.refreshLater(ts, () => {
      if (this.tabSockets.get(tab) !== ts || tab.peer?.id !== ts.socketId) return false;
      tab.peer.emit('rtc:config', this.deps.rtcConfig(tab.session.sessionId));
      return true;
    });
  }

  /** Sends `rtc:config` again every rtcRefreshMs while `send` still finds its socket (returns true). */
  private refreshLater(holder: { refresh?: NodeJS.Timeout }, send: () => boolean): void {
    const ms = this.deps.rtcRefreshMs;
    if (!ms) return;
    clearTimeout(holder.refresh);
    holder.refresh = setTimeout(() => {
      holder.refresh = undefined;
      if (send()) this.refreshLater(holder, send);
    }, ms);
    holder.refresh.unref();
  }

  /**
   * After a change: tells agents what they lost (`assist:ended`), the HTTP side of recordings that
   * ended, and everyone in the session the new state (R3).
   */
  commit(room: LiveRoom, ended: Ended[] = [], reason: AssistEndReason = 'user_ended', before?: RecordingState | null): void {
    const st = this.state(room);
    for (const e of ended) this.tellEnded(room, e, reason);
    if (before && before.recordingId && st.recording?.recordingId !== before.recordingId) this.recordingEnded(before, room);
    this.publish(room);
  }

  tellEnded(room: LiveRoom, e: Ended, reason: AssistEndReason): void {
    const conn = this.agentConn(e.peerId.slice('agent:'.length));
    conn?.peer.emit('assist:ended', { sessionId: room.sessionId, feature: e.feature, reason });
  }

  publish(room: LiveRoom): void {
    const st = this.state(room);
    const state = st.snapshot();
    for (const tab of room.tabs.values()) {
      if (!tab.peer) continue;
      this.ensureConfig(tab);
      tab.peer.emit('assist:state', state);
    }
    for (const m of room.members.values()) m.conn.peer.emit('assist:state', state);
  }

  private recordingEnded(recording: RecordingState, room: LiveRoom): void {
    for (const l of this.recordingListeners) {
      try {
        l(recording, room);
      } catch (err) {
        this.deps.log.error({ err }, 'assist: recording-ended listener failed');
      }
    }
  }

  // ----------------------------------------------------------------------------------- room hooks

  tabAttached(tab: TabRoom): void {
    const st = this.states.get(tab.session);
    if (!st || st.isIdle() || !tab.peer) return;
    // A reload keeps its grants (R4): the new socket learns them and gets its open prompts again.
    this.ensureConfig(tab);
    tab.peer.emit('assist:state', st.snapshot());
    for (const p of st.pending.values()) if (p.tabId === tab.tabId) tab.peer.emit('assist:request', p.request);
  }

  tabRemoved(tab: TabRoom): void {
    clearTimeout(this.tabSockets.get(tab)?.refresh);
    const room = tab.session;
    const st = this.states.get(room);
    if (!st) return;
    const before = st.recording;
    const ended = st.dropTab(tab.tabId);
    // Prompts on a tab that is gone can no longer be answered.
    for (const [id, p] of st.pending) {
      if (p.tabId !== tab.tabId) continue;
      clearTimeout(p.timer);
      st.pending.delete(id);
      this.result(room, p.socketId, p.request.requestId, p.request.feature, 'cancelled');
    }
    this.commit(room, ended, 'session_gone', before);
  }

  memberJoined(member: Member): void {
    // After the join's ack, so the view knows the session before its state arrives.
    setImmediate(() => {
      if (member.session.members.get(member.conn.peer.id) !== member) return;
      const { sessionId } = member.session;
      member.conn.peer.emit('rtc:config', { sessionId, ...this.deps.rtcConfig(sessionId) });
      clearTimeout(this.agentRefresh.get(member)?.refresh);
      const holder: { refresh?: NodeJS.Timeout } = {};
      this.agentRefresh.set(member, holder);
      this.refreshLater(holder, () => {
        if (member.session.members.get(member.conn.peer.id) !== member) return false;
        member.conn.peer.emit('rtc:config', { sessionId, ...this.deps.rtcConfig(sessionId) });
        return true;
      });
      member.conn.peer.emit('assist:state', this.state(member.session).snapshot());
      const streams = this.states.get(member.session)?.canvasStreams.get(member.tab.tabId);
      if (streams?.length) member.conn.peer.emit('canvas:streams', { sessionId, tabId: member.tab.tabId, streams });
    });
  }

  memberLeft(member: Member): void {
    clearTimeout(this.agentRefresh.get(member)?.refresh);
    this.agentRefresh.delete(member);
    const room = member.session;
    const st = this.states.get(room);
    if (!st) return;
    const peerId = agentPeerId(member.conn.peer.id);
    let changed = false;
    for (const [id, p] of st.pending) {
      if (p.socketId !== member.conn.peer.id) continue;
      clearTimeout(p.timer);
      st.pending.delete(id);
      changed = true;
    }
    const before = st.recording;
    const had = st.inCall(peerId) || st.control?.agent.peerId === peerId || st.annotate.has(peerId) || st.recording?.agent.peerId === peerId;
    const ended = st.dropAgent(peerId);
    if (changed || had) this.commit(room, ended, 'agent_left', before);
  }

  watchersChanged(tab: TabRoom): void {
    const ts = this.tabSocket(tab);
    if (!ts || !tab.peer) return;
    // Nobody watches: `live:stop` stopped everything on the tab, and a new start wants afresh.
    if (!tab.forwarding) return ts.wanted.clear();
    // Agents who stopped watching this tab (switched to another tab, left) stop getting its canvases.
    for (const m of [...ts.wanted]) {
      if (tab.watchers.has(m)) continue;
      ts.wanted.delete(m);
      tab.peer.emit('canvas:stop', { agentPeerId: agentPeerId(m.conn.peer.id) });
    }
    for (const m of tab.watchers.keys()) {
      if (ts.wanted.has(m)) continue;
      ts.wanted.add(m);
      this.wantCanvases(tab, m);
    }
  }

  beforeStart(tab: TabRoom): void {
    this.ensureConfig(tab);
  }

  roomEnded(room: LiveRoom): void {
    for (const m of room.members.values()) {
      clearTimeout(this.agentRefresh.get(m)?.refresh);
      this.agentRefresh.delete(m);
    }
    for (const tab of room.tabs.values()) clearTimeout(this.tabSockets.get(tab)?.refresh);
    const st = this.states.get(room);
    if (!st) return;
    const before = st.recording;
    const ended = st.dropAll();
    for (const e of ended) this.tellEnded(room, e, 'session_gone');
    if (before?.recordingId) this.recordingEnded(before, room);
    this.states.delete(room);
  }

  // ------------------------------------------------------------------------------------- helpers

  /** Sends `canvas:want` for one watcher (and the tab's current streams to that watcher). */
  wantCanvases(tab: TabRoom, member: Member): void {
    if (!tab.peer || !tab.forwarding) return;
    this.ensureConfig(tab);
    tab.peer.emit('canvas:want', { agentPeerId: agentPeerId(member.conn.peer.id) });
  }

  /** What became of a request, to the agent socket that asked (if still connected). */
  result(room: LiveRoom, socketId: string, requestId: string, feature: Ended['feature'], outcome: 'accepted' | 'declined' | 'timeout' | 'cancelled'): void {
    this.deps.metrics.assistRequests.inc({ feature, outcome });
    this.agentConn(socketId)?.peer.emit('assist:result', { sessionId: room.sessionId, requestId, feature, outcome });
  }

  private tabSocket(tab: TabRoom): TabSocketState | undefined {
    if (!tab.peer) return undefined;
    let ts = this.tabSockets.get(tab);
    if (!ts || ts.socketId !== tab.peer.id) {
      clearTimeout(ts?.refresh);
      ts = { socketId: tab.peer.id, configSent: false, wanted: new Set() };
      this.tabSockets.set(tab, ts);
    }
    return ts;
  }
}
