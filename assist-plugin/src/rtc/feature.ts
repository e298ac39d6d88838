import type { AssistFeature, AssistState, PendingRequest, ServerToTabRtcEvents } from '@tandem/protocol';
import type { RtcContext, RtcSummary } from '../rtc-api.js';
import type { Peers } from './peers.js';

/**
 * The user side of one assist capability (call, canvas, control, annotate, record): a new capability
 * is a new module with this shape, added to FEATURES in registry.ts. Features draw from the server's
 * `assist:state` (R3) and never guess; each may handle its own server messages.
 */
export interface UserFeature {
  readonly name: AssistFeature | 'canvas';
  /** Every `assist:state` of the session (the full state, R3). */
  onState(state: AssistState): void;
  /** The prompt's text for a request of this feature (it names the agent). */
  promptText?(req: PendingRequest, state: AssistState | null): string;
  /** The server messages this feature takes. */
  on?: FeatureHandlers;
  /** `live:stop`: nobody watches this tab any more. */
  onLiveStop?(): void;
  /** Adds this feature's counts to `assistState().rtc`. */
  summarize?(into: RtcSummary): void;
  /** Stops media, removes UI, forgets everything. */
  dispose(): void;
}

export type FeatureHandlers = {
  [E in keyof ServerToTabRtcEvents]?: (...args: Parameters<ServerToTabRtcEvents[E]>) => void;
};

/** What every feature gets: the core's context, the shared peers and the last state. */
export interface FeatureContext extends RtcContext {
  /** The call's peers (one per agent in the call). */
  peers: Peers;
  /** The canvases' peers (channel `canvas`), apart so a call's end never interrupts canvas video. */
  canvasPeers: Peers;
  state(): AssistState | null;
  /** Reports an error and keeps going (features never throw into the page). */
  safely(where: string, fn: () => void): void;
}

export type FeatureFactory = (ctx: FeatureContext) => UserFeature;
