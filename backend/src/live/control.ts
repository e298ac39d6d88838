import { agentPeerId } from '@tandem/protocol';
import type { AssistHub } from './assist-hub.js';
import { parseControl, parseStroke } from './assist-schemas.js';

/**
 * Remote control input and annotation strokes (R2): forwarded to the user's tab only from the agent
 * socket that holds control / was allowed to draw, and only as parsed (the plugin checks again).
 * Anyone else gets `assist:refused` and the tab gets nothing.
 */
export class ControlForwarder {
  constructor(private readonly hub: AssistHub) {}

  input(socketId: string, raw: unknown): void {
    const conn = this.hub.agentConn(socketId);
    if (!conn) return;
    const parsed = parseControl(raw);
    if (!parsed.ok) return this.hub.refuse(conn.peer, 'control:input', 'bad_request', parsed.message);
    const { sessionId, input } = parsed.value;
    const member = conn.memberships.get(sessionId);
    const peerId = agentPeerId(socketId);
    const control = member ? this.hub.state(member.session).control : null;
    if (!member || control?.agent.peerId !== peerId) {
      const why = control ? `${control.agent.name} is controlling this page` : 'The user has not given you control';
      return this.hub.refuse(conn.peer, 'control:input', 'forbidden', why, sessionId);
    }
    const tab = member.session.tabs.get(control.tabId);
    // The grant outlives a reload (R4); input sent while the page is away is dropped, not queued:
    // a click aimed at the old page must not land on the new one.
    if (!tab?.peer) return this.hub.refuse(conn.peer, 'control:input', 'unavailable', "The user's page is reloading; input dropped", sessionId);
    tab.peer.emit('control:input', { agentPeerId: peerId, input });
    this.hub.deps.metrics.controlInputs.inc({ type: input.type });
  }

  stroke(socketId: string, raw: unknown): void {
    const conn = this.hub.agentConn(socketId);
    if (!conn) return;
    const parsed = parseStroke(raw);
    if (!parsed.ok) return this.hub.refuse(conn.peer, 'annotate:stroke', 'bad_request', parsed.message);
    const { sessionId, stroke } = parsed.value;
    const member = conn.memberships.get(sessionId);
    const peerId = agentPeerId(socketId);
    if (!member || !this.hub.state(member.session).annotate.has(peerId)) {
      return this.hub.refuse(conn.peer, 'annotate:stroke', 'forbidden', 'The user has not let you draw', sessionId);
    }
    // Strokes are in the viewport of the tab the agent looks at.
    const tab = member.tab;
    if (!tab.peer) return this.hub.refuse(conn.peer, 'annotate:stroke', 'unavailable', "The user's page is reloading; stroke dropped", sessionId);
    tab.peer.emit('annotate:stroke', { agentPeerId: peerId, stroke });
    this.hub.deps.metrics.annotateStrokes.inc();
  }
}
