import {
  agentPeerId, type AssistAgent, type AssistFeature, type AssistState, type CanvasStreamInfo, type PeerId,
  type PendingRequest, type RecordingState,
} from '@tandem/protocol';
import type { Member } from './rooms.js';

/**
 * The assist state of one live session (R3): who is in the call, who holds control, who may draw,
 * who records, and the requests waiting for the user. Plain data and the changes to it; what is sent
 * because of a change is decided by the caller (assist-hub.ts).
 */

export interface PendingEntry {
  request: PendingRequest;
  /** The tab that shows the prompt and must answer it. */
  tabId: string;
  /** The requesting agent socket (socket id, not the peer id). */
  socketId: string;
  timer: NodeJS.Timeout;
}

export interface ControlGrant {
  agent: AssistAgent;
  tabId: string;
  since: number;
}

/** What ended for which agent socket, so the caller can tell them (`assist:ended`). */
export interface Ended {
  peerId: PeerId;
  feature: AssistFeature;
}

export class AssistRoomState {
  call: { tabId: string; agents: Map<PeerId, AssistAgent> } | null = null;
  control: ControlGrant | null = null;
  /** Agents allowed to draw; `viaControl`: granted by holding control (ends with it). */
  readonly annotate = new Map<PeerId, { agent: AssistAgent; viaControl: boolean }>();
  recording: RecordingState | null = null;
  readonly pending = new Map<string, PendingEntry>();
  /** Each tab's canvas streams (stream id → node id), as the tab last reported them. */
  readonly canvasStreams = new Map<string, CanvasStreamInfo[]>();

  constructor(readonly sessionId: string) {}

  /** Nothing granted or asked: a tab that reconnects needs no `assist:state`. */
  isIdle(): boolean {
    return !this.call && !this.control && !this.annotate.size && !this.recording && !this.pending.size;
  }

  snapshot(): AssistState {
    return {
      sessionId: this.sessionId,
      call: this.call ? { tabId: this.call.tabId, agents: [...this.call.agents.values()] } : null,
      control: this.control ? { ...this.control } : null,
      annotate: [...this.annotate.values()].map((a) => a.agent),
      recording: this.recording ? { ...this.recording } : null,
      pending: [...this.pending.values()].map((p) => p.request),
    };
  }

  inCall(peerId: PeerId): boolean {
    return !!this.call?.agents.has(peerId);
  }

  pendingOf(socketId: string, feature: AssistFeature): PendingEntry | undefined {
    for (const p of this.pending.values()) if (p.socketId === socketId && p.request.feature === feature) return p;
    return undefined;
  }

  /** Removes one agent from the call; the call ends with its last agent, a recording with its recorder. */
  leaveCall(peerId: PeerId): Ended[] {
    if (!this.call?.agents.delete(peerId)) return [];
    const ended: Ended[] = [];
    if (!this.call.agents.size) this.call = null;
    // A recording is of a call the recorder is in (signal.ts: record needs an active call).
    if (this.recording && (this.recording.agent.peerId === peerId || !this.call)) {
      if (this.recording.agent.peerId !== peerId) ended.push({ peerId: this.recording.agent.peerId, feature: 'record' });
      this.recording = null;
    }
    return ended;
  }

  /** Ends the call for everyone in it (and the recording of it). */
  endCall(): Ended[] {
    if (!this.call) return [];
    const ended: Ended[] = [...this.call.agents.keys()].map((peerId) => ({ peerId, feature: 'call' as const }));
    if (this.recording) ended.push({ peerId: this.recording.agent.peerId, feature: 'record' });
    this.call = null;
    this.recording = null;
    return ended;
  }

  /** Control ends; drawing that came with it ends too. */
  endControl(): Ended[] {
    if (!this.control) return [];
    const peerId = this.control.agent.peerId;
    this.control = null;
    const drawing = this.annotate.get(peerId);
    if (drawing?.viaControl) this.annotate.delete(peerId);
    return [{ peerId, feature: 'control' }];
  }

  /** Everything one agent socket had, for when it leaves the session. Pending requests are the caller's. */
  dropAgent(peerId: PeerId): Ended[] {
    const ended: Ended[] = [];
    if (this.control?.agent.peerId === peerId) this.endControl();
    this.annotate.delete(peerId);
    ended.push(...this.leaveCall(peerId));
    if (this.recording?.agent.peerId === peerId) this.recording = null;
    return ended.filter((e) => e.peerId !== peerId);
  }

  /** Everything that involved one tab (its grace period ended): the call on it, control of it, its prompts. */
  dropTab(tabId: string): Ended[] {
    const ended: Ended[] = [];
    if (this.call?.tabId === tabId) ended.push(...this.endCall());
    if (this.control?.tabId === tabId) ended.push(...this.endControl());
    this.canvasStreams.delete(tabId);
    return ended;
  }

  /** The session is gone: everything each agent had. */
  dropAll(): Ended[] {
    const ended: Ended[] = [...this.endCall(), ...this.endControl()];
    for (const peerId of this.annotate.keys()) ended.push({ peerId, feature: 'annotate' });
    this.annotate.clear();
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    this.canvasStreams.clear();
    return ended;
  }
}

/** An agent socket as the assist state names it. */
export function assistAgent(member: Member): AssistAgent {
  const { agentId, name, via } = member.conn.identity;
  return { id: agentId, name, via, peerId: agentPeerId(member.conn.peer.id) };
}
