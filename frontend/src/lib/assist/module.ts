import type { AssistFeature, AssistState, PeerId } from '@tandem/protocol';
import type { AgentSocket } from '../live/socket.svelte';
import type { PeerMesh } from './peers';

/**
 * The small interface every agent-side capability (call, canvas, control, annotate, record) plugs
 * into, like the user side's modules in assist-plugin/: a new capability is a new file registered in
 * assist.svelte.ts. A module gets the session's context once and then every `assist:state` (R3: the
 * state is the truth; modules start and stop what they run from it).
 */
export interface AssistContext {
  readonly sessionId: string;
  readonly socket: AgentSocket;
  readonly mesh: PeerMesh;
  /** This socket's peer id (`agent:<socket id>`, R5), null while disconnected. */
  self(): PeerId | null;
  state(): AssistState | null;
}

export interface AssistModule {
  readonly name: AssistFeature | 'canvas';
  /** Every `assist:state`, and null when the session ends or the socket drops. */
  update(state: AssistState | null, self: PeerId | null): void;
  destroy(): void;
}
