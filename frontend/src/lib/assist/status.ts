import {
  ASSIST_FEATURES,
  type AssistEndReason,
  type AssistFeature,
  type AssistState,
  type PeerId,
  type RequestOutcome,
} from '@tandem/protocol';

/**
 * What the agent's toolbar says about each feature. `active` and `requesting` come from the server's
 * `assist:state` alone (R3: the UI draws from the state, never from its own guess), except for the
 * short moment between pressing a button and the server listing the request (`requesting` locally).
 * The others are the last outcome, kept until the next request so the agent sees why nothing started.
 */
export type FeatureStatus = 'idle' | 'requesting' | 'active' | 'declined' | 'timeout' | 'cancelled' | 'refused' | 'busy' | 'ended';

export interface AssistStatus {
  features: Record<AssistFeature, FeatureStatus>;
  /** The feature that changed last: `assist-status` shows it. */
  last: AssistFeature | null;
  /** A line for the agent: why a request was refused, who ended what. */
  message: string | null;
}

export type StatusEvent =
  /** The agent pressed a button (before the server answered). */
  | { kind: 'requested'; feature: AssistFeature }
  /** The request's ack or an `assist:refused` said no. */
  | { kind: 'refused'; feature: AssistFeature; code: string; message: string }
  | { kind: 'state'; state: AssistState; self: PeerId | null }
  | { kind: 'result'; feature: AssistFeature; outcome: RequestOutcome }
  | { kind: 'ended'; feature: AssistFeature; reason: AssistEndReason };

export function initialStatus(): AssistStatus {
  const features = {} as Record<AssistFeature, FeatureStatus>;
  for (const f of ASSIST_FEATURES) features[f] = 'idle';
  return { features, last: null, message: null };
}

/** Whether `self` has `feature` in this state (the call: is in it; control/record: holds it). */
export function holds(state: AssistState | null, feature: AssistFeature, self: PeerId | null): boolean {
  if (!state || !self) return false;
  switch (feature) {
    case 'call':
      return !!state.call?.agents.some((a) => a.peerId === self);
    case 'control':
      return state.control?.agent.peerId === self;
    case 'annotate':
      return state.annotate.some((a) => a.peerId === self);
    case 'record':
      return state.recording?.agent.peerId === self;
  }
}

export function pendingFor(state: AssistState | null, feature: AssistFeature, self: PeerId | null): boolean {
  return !!state && !!self && state.pending.some((p) => p.feature === feature && p.agent.peerId === self);
}

const END_TEXT: Record<AssistEndReason, string> = {
  user_ended: 'the user ended it',
  agent_ended: 'ended',
  agent_left: 'the agent left',
  session_gone: "the user's page is gone",
};

const OUTCOME_TEXT: Record<Exclude<RequestOutcome, 'accepted'>, string> = {
  declined: 'The user declined',
  timeout: 'No answer from the user (30 s)',
  cancelled: 'The request was withdrawn',
};

export const FEATURE_LABEL: Record<AssistFeature, string> = {
  call: 'call',
  control: 'remote control',
  annotate: 'drawing',
  record: 'recording',
};

export function reduceStatus(prev: AssistStatus, event: StatusEvent): AssistStatus {
  const features = { ...prev.features };
  switch (event.kind) {
    case 'requested':
      features[event.feature] = 'requesting';
      return { features, last: event.feature, message: null };
    case 'refused':
      features[event.feature] = event.code === 'busy' ? 'busy' : 'refused';
      return { features, last: event.feature, message: event.message };
    case 'result': {
      if (event.outcome === 'accepted') {
        // `assist:state` says `active`; a result arriving first must not undo it.
        if (features[event.feature] !== 'active') features[event.feature] = 'requesting';
        return { features, last: event.feature, message: null };
      }
      features[event.feature] = event.outcome;
      return { features, last: event.feature, message: `${OUTCOME_TEXT[event.outcome]} (${FEATURE_LABEL[event.feature]}).` };
    }
    case 'ended':
      features[event.feature] = 'ended';
      return { features, last: event.feature, message: `The ${FEATURE_LABEL[event.feature]} ended: ${END_TEXT[event.reason]}.` };
    case 'state': {
      let last = prev.last;
      let asked: AssistFeature | null = null;
      for (const f of ASSIST_FEATURES) {
        const before = features[f];
        if (holds(event.state, f, event.self)) features[f] = 'active';
        else if (pendingFor(event.state, f, event.self)) features[f] = 'requesting';
        else if (before === 'active') features[f] = 'ended';
        // 'requesting' with nothing pending stays until its `assist:result` (or the request's ack) says how it went.
        if (features[f] !== before) {
          last = f;
          if (before === 'requesting') asked ??= f;
        }
      }
      // What the agent asked for is the news (control granted also grants drawing: say "control").
      return { features, last: asked ?? last, message: prev.message };
    }
  }
}

/** Which feature a refused socket message was about (`control:input` → control, …). */
export function featureOfEvent(event: string): AssistFeature | null {
  if (event.startsWith('control')) return 'control';
  if (event.startsWith('annotate')) return 'annotate';
  if (event.startsWith('assist:')) return null;
  if (event === 'rtc:signal') return 'call';
  return null;
}
