/**
 * Requests started by index.html's inline script before any of the dashboard's modules load: on a
 * session link opened in a new tab (a shared moment), the sign-in check and the session's open
 * (`/open`: detail + first window, see lib/player/open-stream.ts) go out while the browser still
 * fetches and evaluates the JS, instead of after it (measured: the app mounts 0.4–0.6 s after
 * navigation start under load, and every request used to wait for that).
 * `apiRequest` takes an answer here when it asks for exactly the same path, once. The inline script
 * and `openPath` must write that path alike; when they do not, the client simply fetches it again.
 */

declare global {
  interface Window {
    /** path → the response index.html's inline script asked for */
    __tandemEarly?: Record<string, Promise<Response>>;
  }
}

/** Answers older than this are not used: they belong to the page's first moments only (a later ask wants fresh data). */
const EARLY_FOR_MS = 20_000;

export function takeEarly(path: string): Promise<Response> | null {
  const early = typeof window === 'undefined' ? undefined : window.__tandemEarly;
  const response = early?.[path];
  if (!response) return null;
  delete early[path];
  return performance.now() <= EARLY_FOR_MS ? response : null;
}

/** Hands an early answer back (taken by the early frame, lib/player/early-frame.ts, which could not use it). */
export function putEarly(path: string, response: Response): void {
  if (typeof window !== 'undefined') (window.__tandemEarly ??= {})[path] = Promise.resolve(response);
}

/** Forgets every early answer (a 401: they were asked for without a valid sign-in). */
export function dropEarly(): void {
  if (typeof window !== 'undefined') window.__tandemEarly = {};
}

/** `/api/v1/sessions/<id>/open` for a share link's `t` and tab, written as index.html's inline script writes it. */
export function openPath(id: string, t: number | null, tabId: string | null): string {
  const params = new URLSearchParams();
  if (t !== null) params.set('t', String(t));
  if (tabId) params.set('tabId', tabId);
  const query = params.toString();
  return `/api/v1/sessions/${encodeURIComponent(id)}/open${query ? `?${query}` : ''}`;
}
