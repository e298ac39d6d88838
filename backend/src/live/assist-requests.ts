import { randomUUID } from 'node:crypto';
import {
  MAX_CALL_AGENTS, agentPeerId, type AckResult, type AssistFeature, type ErrorCode, type PeerId, type PendingRequest,
} from '@tandem/protocol';
import type { AssistHub } from './assist-hub.js';
import { parseAnswer, parseEnd, parseRequest } from './assist-schemas.js';
import { assistAgent, type AssistRoomState, type Ended } from './assist-state.js';
import type { LiveRoom, Member } from './rooms.js';

/**
 * Asking the user (R1) and ending what was granted: `assist:request` from an agent → a prompt on the
 * user's tab → `assist:answer` (or the server's timeout) → `assist:result` to the agent; `assist:end`
 * from either side. The server is the authority (R2): capability, membership and who holds what are
 * checked here, whatever the dashboard shows.
 */

type Fail = { ok: false; error: { code: ErrorCode; message: string } };
const fail = (code: ErrorCode, message: string): Fail => ({ ok: false, error: { code, message } });

/** Requests waiting in one session at once: a handful of agents, a few features each; more is a loop. */
const MAX_PENDING_PER_SESSION = 16;

const VERB: Record<AssistFeature, string> = {
  call: 'start a call', control: 'take control', annotate: 'draw on the page', record: 'record the call',
};

export class AssistRequests {
  constructor(private readonly hub: AssistHub) {}

  request(socketId: string, raw: unknown): AckResult<{ requestId: string }> {
    const conn = this.hub.agentConn(socketId);
    if (!conn) return fail('unauthorized', 'Not connected');
    const parsed = parseRequest(raw);
    if (!parsed.ok) return fail('bad_request', parsed.message);
    const { sessionId, feature } = parsed.value;
    const member = conn.memberships.get(sessionId);
    if (!member) return fail('not_found', 'Join the session first');
    if (!conn.identity.capabilities.includes(feature)) {
      const who = conn.identity.via === 'watch-link' ? 'This watch link' : 'This agent';
      return fail('forbidden', `${who} may not ${VERB[feature]} (no "${feature}" capability)`);
    }
    const room = member.session;
    if (room.consent === 'pending') return fail('forbidden', 'The user has not accepted being watched yet');
    const st = this.hub.state(room);
    const existing = st.pendingOf(socketId, feature);
    if (existing) return { ok: true, requestId: existing.request.requestId };
    const peerId = agentPeerId(socketId);
    const refused = this.check(st, feature, peerId);
    if (refused) return refused;
    if (feature === 'annotate' && (st.control?.agent.peerId === peerId || st.annotate.has(peerId))) return this.drawAtOnce(room, st, member);
    if (st.pending.size >= MAX_PENDING_PER_SESSION) return fail('busy', 'Too many requests are waiting for the user; try again shortly');

    // Calls (and their recordings) live on the tab the call is on; the rest on the tab the agent watches.
    const tabId = (feature === 'call' || feature === 'record') && st.call ? st.call.tabId : member.tab.tabId;
    const tab = room.tabs.get(tabId);
    if (!tab?.peer) return fail('unavailable', "The user's page is not connected right now; try again in a moment");
    const timeoutMs = this.hub.deps.requestTimeoutMs;
    const request: PendingRequest = { requestId: randomUUID(), feature, agent: assistAgent(member), expiresAt: Date.now() + timeoutMs };
    const timer = setTimeout(() => this.timedOut(room, request.requestId), timeoutMs);
    timer.unref();
    st.pending.set(request.requestId, { request, tabId, socketId, timer });
    this.hub.ensureConfig(tab);
    tab.peer.emit('assist:request', request);
    this.hub.publish(room);
    return { ok: true, requestId: request.requestId };
  }

  /** The user's answer, from the tab that showed the prompt. */
  answer(tabSocketId: string, raw: unknown): void {
    const tab = this.hub.tabOfPeer(tabSocketId);
    if (!tab?.peer) return;
    const parsed = parseAnswer(raw);
    if (!parsed.ok) return this.hub.refuse(tab.peer, 'assist:answer', 'bad_request', parsed.message);
    const room = tab.session;
    const st = this.hub.state(room);
    const entry = st.pending.get(parsed.value.requestId);
    if (!entry || entry.tabId !== tab.tabId) {
      return this.hub.refuse(tab.peer, 'assist:answer', 'not_found', 'No such request on this tab (it may have timed out or been withdrawn)');
    }
    clearTimeout(entry.timer);
    st.pending.delete(entry.request.requestId);
    const { requestId, feature } = entry.request;
    const member = room.members.get(entry.socketId);
    let outcome: 'accepted' | 'declined' | 'cancelled' = parsed.value.accepted ? 'accepted' : 'declined';
    const before = st.recording;
    if (outcome === 'accepted' && !(member && this.grant(st, feature, member, tab.tabId))) outcome = 'cancelled';
    this.hub.result(room, entry.socketId, requestId, feature, outcome);
    this.hub.commit(room, [], 'user_ended', before);
  }

  /** An agent withdraws its request or ends its own share of a feature. */
  endFromAgent(socketId: string, raw: unknown): void {
    const conn = this.hub.agentConn(socketId);
    if (!conn) return;
    const parsed = parseEnd(raw);
    const sessionId = parsed.ok ? parsed.value.sessionId : undefined;
    const member = sessionId ? conn.memberships.get(sessionId) : undefined;
    if (!parsed.ok || !member) {
      return this.hub.refuse(conn.peer, 'assist:end', parsed.ok ? 'not_found' : 'bad_request',
        parsed.ok ? (sessionId ? 'Join the session first' : 'sessionId is required') : parsed.message, sessionId);
    }
    const room = member.session;
    const st = this.hub.state(room);
    const { feature } = parsed.value;
    const peerId = agentPeerId(socketId);
    const before = st.recording;
    const pending = st.pendingOf(socketId, feature);
    if (pending) {
      clearTimeout(pending.timer);
      st.pending.delete(pending.request.requestId);
      this.hub.result(room, socketId, pending.request.requestId, feature, 'cancelled');
    }
    const ended: Ended[] = [];
    if (feature === 'call') ended.push(...st.leaveCall(peerId));
    else if (feature === 'control' && st.control?.agent.peerId === peerId) st.endControl();
    else if (feature === 'annotate') st.annotate.delete(peerId);
    else if (feature === 'record' && st.recording?.agent.peerId === peerId) st.recording = null;
    this.hub.commit(room, ended.filter((e) => e.peerId !== peerId), 'agent_ended', before);
  }

  /** The user ends a feature: for one agent (`agentPeerId`) or everyone. */
  endFromTab(tabSocketId: string, raw: unknown): void {
    const tab = this.hub.tabOfPeer(tabSocketId);
    if (!tab?.peer) return;
    const parsed = parseEnd(raw);
    if (!parsed.ok) return this.hub.refuse(tab.peer, 'assist:end', 'bad_request', parsed.message);
    const { feature, agentPeerId: target } = parsed.value;
    const room = tab.session;
    const st = this.hub.state(room);
    const before = st.recording;
    const ended: Ended[] = [];
    if (feature === 'call') {
      if (!target) ended.push(...st.endCall());
      else if (st.inCall(target)) ended.push({ peerId: target, feature: 'call' }, ...st.leaveCall(target));
    } else if (feature === 'control') {
      if (st.control && (!target || st.control.agent.peerId === target)) ended.push(...st.endControl());
    } else if (feature === 'annotate') {
      for (const peerId of [...st.annotate.keys()]) {
        if (target && peerId !== target) continue;
        st.annotate.delete(peerId);
        ended.push({ peerId, feature: 'annotate' });
      }
    } else if (st.recording && (!target || st.recording.agent.peerId === target)) {
      ended.push({ peerId: st.recording.agent.peerId, feature: 'record' });
      st.recording = null;
    }
    this.hub.commit(room, ended, 'user_ended', before);
  }

  // ------------------------------------------------------------------------------------- internals

  /** Why this request cannot be asked now, or null. */
  private check(st: AssistRoomState, feature: AssistFeature, peerId: PeerId): Fail | null {
    switch (feature) {
      case 'call':
        if (st.inCall(peerId)) return fail('bad_request', 'You are in the call already');
        if (st.call && st.call.agents.size >= MAX_CALL_AGENTS) return fail('busy', `The call is full (${MAX_CALL_AGENTS} agents)`);
        return null;
      case 'control': {
        const holder = st.control?.agent;
        if (holder?.peerId === peerId) return fail('bad_request', 'You hold control already');
        if (holder) return fail('busy', `${holder.name} is controlling this page`);
        for (const p of st.pending.values()) {
          if (p.request.feature === 'control') return fail('busy', `${p.request.agent.name} is asking for control`);
        }
        return null;
      }
      case 'annotate':
        return null;
      case 'record': {
        if (!st.inCall(peerId)) return fail('forbidden', 'Only an agent in the call can record it: start a call first');
        const recorder = st.recording?.agent;
        if (recorder?.peerId === peerId) return fail('bad_request', 'You are recording already');
        if (recorder) return fail('busy', `${recorder.name} is recording this call`);
        return null;
      }
    }
  }

  /** Applies an accepted request; false when the situation changed while the user was deciding. */
  private grant(st: AssistRoomState, feature: AssistFeature, member: Member, tabId: string): boolean {
    const agent = assistAgent(member);
    const { peerId } = agent;
    switch (feature) {
      case 'call':
        if (st.inCall(peerId)) return true;
        if (st.call && st.call.agents.size >= MAX_CALL_AGENTS) return false;
        st.call ??= { tabId, agents: new Map() };
        st.call.agents.set(peerId, agent);
        return true;
      case 'control':
        if (st.control && st.control.agent.peerId !== peerId) return false;
        st.control = { agent, tabId, since: Date.now() };
        // Control covers drawing (the prompt says so).
        if (!st.annotate.has(peerId)) st.annotate.set(peerId, { agent, viaControl: true });
        return true;
      case 'annotate':
        st.annotate.set(peerId, { agent, viaControl: false });
        return true;
      case 'record':
        if (!st.inCall(peerId) || (st.recording && st.recording.agent.peerId !== peerId)) return false;
        st.recording ??= { recordingId: '', agent, startedAt: Date.now() };
        return true;
    }
  }

  /**
   * The holder of control asks to draw: no second prompt, control's consent covers it (the control
   * prompt says so). Asking again while allowed is answered the same way.
   */
  private drawAtOnce(room: LiveRoom, st: AssistRoomState, member: Member): AckResult<{ requestId: string }> {
    const agent = assistAgent(member);
    if (!st.annotate.has(agent.peerId)) st.annotate.set(agent.peerId, { agent, viaControl: true });
    const requestId = randomUUID();
    // After the ack, so the agent knows the request id before its result.
    setImmediate(() => this.hub.result(room, member.conn.peer.id, requestId, 'annotate', 'accepted'));
    this.hub.publish(room);
    return { ok: true, requestId };
  }

  private timedOut(room: LiveRoom, requestId: string): void {
    const st = this.hub.state(room);
    const entry = st.pending.get(requestId);
    if (!entry) return;
    st.pending.delete(requestId);
    this.hub.result(room, entry.socketId, requestId, entry.request.feature, 'timeout');
    this.hub.publish(room);
  }
}
