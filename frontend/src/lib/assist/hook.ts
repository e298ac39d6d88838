import type { AssistState, PeerId } from '@tandem/protocol';

/**
 * `window.__tandemAssist`: a small dev/test hook over the live views on the page (the grid has up to
 * four), so browser tests can measure what actually flows (`getStats()` bytes and frames) instead of
 * trusting an element's presence. Read-only views of state the page already holds.
 *
 *   peers(sessionId?)  → Map<peerId, RTCPeerConnection> (all sessions merged when no id)
 *   state(sessionId?)  → the last `assist:state` (the first session's when no id)
 *   local(sessionId?)  → this agent's own call MediaStream, or null
 *   sessions()         → the session ids with a live view
 */
export interface AssistHookTarget {
  readonly sessionId: string;
  readonly state: AssistState | null;
  readonly mesh: { connections(): Map<PeerId, RTCPeerConnection> };
  readonly call: { local: MediaStream | null };
}

export interface TandemAssistHook {
  peers(sessionId?: string): Map<PeerId, RTCPeerConnection>;
  state(sessionId?: string): AssistState | null;
  local(sessionId?: string): MediaStream | null;
  sessions(): string[];
}

declare global {
  interface Window {
    __tandemAssist?: TandemAssistHook;
  }
}

const targets = new Set<AssistHookTarget>();

function pick(sessionId?: string): AssistHookTarget | undefined {
  for (const t of targets) if (!sessionId || t.sessionId === sessionId) return t;
  return undefined;
}

const hook: TandemAssistHook = {
  peers(sessionId) {
    const out = new Map<PeerId, RTCPeerConnection>();
    for (const t of targets) if (!sessionId || t.sessionId === sessionId) for (const [id, pc] of t.mesh.connections()) out.set(id, pc);
    return out;
  },
  state: (sessionId) => pick(sessionId)?.state ?? null,
  local: (sessionId) => pick(sessionId)?.call.local ?? null,
  sessions: () => [...targets].map((t) => t.sessionId),
};

/** Lists a live view's assist in the hook; returns its removal. */
export function registerAssist(target: AssistHookTarget): () => void {
  targets.add(target);
  if (typeof window !== 'undefined') window.__tandemAssist = hook;
  return () => targets.delete(target);
}
