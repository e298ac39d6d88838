import { agentPeerId, tabPeerId, type SignalIn } from '@tandem/protocol';
import type { AssistHub } from './assist-hub.js';
import { parseCanvasStreams, parseSessionOnly, parseSignal } from './assist-schemas.js';

/**
 * WebRTC signalling and canvas stream bookkeeping (R5): the server names the sender (`from`), checks
 * that the recipient is a peer of the same session (a tab of it, or an agent socket joined to it;
 * agent↔agent only while both are in the call) and forwards only the parsed signal. Media never
 * passes here: it flows between the peers.
 */
export class RtcRelay {
  constructor(private readonly hub: AssistHub) {}

  /** A tab signals an agent socket of its session. */
  fromTab(tabSocketId: string, raw: unknown): void {
    const tab = this.hub.tabOfPeer(tabSocketId);
    if (!tab?.peer) return;
    const parsed = parseSignal(raw);
    if (!parsed.ok) return this.hub.refuse(tab.peer, 'rtc:signal', 'bad_request', parsed.message);
    const room = tab.session;
    const { sessionId, to, signal, channel } = parsed.value;
    if (sessionId !== undefined && sessionId !== room.sessionId) {
      return this.hub.refuse(tab.peer, 'rtc:signal', 'forbidden', 'A tab signals within its own session only');
    }
    const member = this.hub.memberByPeerId(room, to);
    if (!member) return this.hub.refuse(tab.peer, 'rtc:signal', 'not_found', `${to} is not in this session`);
    const msg: SignalIn = { sessionId: room.sessionId, from: tabPeerId(tab.tabId), signal, ...(channel ? { channel } : {}) };
    member.conn.peer.emit('rtc:signal', msg);
    this.hub.deps.metrics.rtcSignals.inc({ from: 'tab' });
  }

  /** An agent signals a tab of a session it joined, or another agent in the same call. */
  fromAgent(socketId: string, raw: unknown): void {
    const conn = this.hub.agentConn(socketId);
    if (!conn) return;
    const parsed = parseSignal(raw);
    if (!parsed.ok) return this.hub.refuse(conn.peer, 'rtc:signal', 'bad_request', parsed.message);
    const { sessionId, to, signal, channel } = parsed.value;
    if (!sessionId) return this.hub.refuse(conn.peer, 'rtc:signal', 'bad_request', 'sessionId is required');
    const member = conn.memberships.get(sessionId);
    if (!member) return this.hub.refuse(conn.peer, 'rtc:signal', 'not_found', 'Join the session first', sessionId);
    const room = member.session;
    const from = agentPeerId(socketId);
    if (to.startsWith('tab:')) {
      const msg: SignalIn = { sessionId, from, signal, ...(channel ? { channel } : {}) };
      const tab = this.hub.tabByPeerId(room, to);
      if (!tab?.peer) return this.hub.refuse(conn.peer, 'rtc:signal', 'not_found', `${to} is not connected in this session`, sessionId);
      this.hub.ensureConfig(tab);
      tab.peer.emit('rtc:signal', msg);
      this.hub.deps.metrics.rtcSignals.inc({ from: 'agent' });
      return;
    }
    // Agent↔agent peers are the group call's only: no canvas channel between agents.
    if (channel) return this.hub.refuse(conn.peer, 'rtc:signal', 'bad_request', 'channel is only for tab↔agent peers', sessionId);
    const msg: SignalIn = { sessionId, from, signal };
    const other = this.hub.memberByPeerId(room, to);
    if (!other || to === from) return this.hub.refuse(conn.peer, 'rtc:signal', 'not_found', `${to} is not in this session`, sessionId);
    const st = this.hub.state(room);
    if (!st.inCall(from) || !st.inCall(to)) {
      return this.hub.refuse(conn.peer, 'rtc:signal', 'forbidden', 'Agents connect to each other only while both are in the call', sessionId);
    }
    other.conn.peer.emit('rtc:signal', msg);
    this.hub.deps.metrics.rtcSignals.inc({ from: 'agent' });
  }

  /** The tab's streamed canvases (replacing its previous list), relayed to the agents watching it. */
  canvasStreams(tabSocketId: string, raw: unknown): void {
    const tab = this.hub.tabOfPeer(tabSocketId);
    if (!tab?.peer) return;
    const parsed = parseCanvasStreams(raw);
    if (!parsed.ok) return this.hub.refuse(tab.peer, 'canvas:streams', 'bad_request', parsed.message);
    const { streams } = parsed.value;
    const room = tab.session;
    this.hub.state(room).canvasStreams.set(tab.tabId, streams);
    const msg = { sessionId: room.sessionId, tabId: tab.tabId, streams };
    for (const m of tab.watchers.keys()) m.conn.peer.emit('canvas:streams', msg);
  }

  /** An agent asks its watched tab for the canvases again (it lost its peer or reloaded its view). */
  canvasWant(socketId: string, raw: unknown): void {
    const conn = this.hub.agentConn(socketId);
    if (!conn) return;
    const parsed = parseSessionOnly(raw);
    const member = parsed.ok ? conn.memberships.get(parsed.value.sessionId) : undefined;
    if (!member) {
      return this.hub.refuse(conn.peer, 'canvas:want', parsed.ok ? 'not_found' : 'bad_request', parsed.ok ? 'Join the session first' : parsed.message);
    }
    this.hub.wantCanvases(member.tab, member);
  }
}
