import type { SessionDetail } from '@tandem/protocol';
import type { ApiClient } from './client';

/**
 * A shared moment (`#/sessions/<id>?t=`) opened in a new tab: the session's detail is asked for while the
 * sign-in check and the player's chunk are still loading, not after them, so the first window's request
 * starts one round trip earlier (every open in the seek bench is such a tab). A 401 here goes through the
 * client's usual sign-out path, as the check's own would.
 */
const pending = new Map<string, Promise<SessionDetail>>();

export function prefetchSession(api: ApiClient, id: string): void {
  if (pending.has(id)) return;
  const request = api.session(id);
  request.catch(() => {}); // read (or retried) by takeSession; never an unhandled rejection
  pending.set(id, request);
}

/** The prefetched detail of `id` (once), or null when none was started. */
export function takeSession(id: string): Promise<SessionDetail> | null {
  const request = pending.get(id) ?? null;
  pending.delete(id);
  return request;
}
