import type { SessionSummary } from '@tandem/protocol';

/** `fresh` (a newest-first first page) over `current`: same ids replaced, new ids added, newest first. */
export function mergeNewest(current: readonly SessionSummary[], fresh: readonly SessionSummary[]): SessionSummary[] {
  const byId = new Map(fresh.map((s) => [s.sessionId, s]));
  const merged = current.map((s) => byId.get(s.sessionId) ?? s);
  const known = new Set(current.map((s) => s.sessionId));
  for (const s of fresh) if (!known.has(s.sessionId)) merged.push(s);
  return merged.sort((a, b) => b.startedAt - a.startedAt);
}
