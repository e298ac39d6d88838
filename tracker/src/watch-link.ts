import { ASSIST_ROUTES, TandemError, isErrorBody, type WatchUrlResponse } from '@tandem/protocol';
import { REQUEST_TIMEOUT_MS } from './transport.js';

/**
 * `POST <ingestUrl>/ingest/v1/watch_url?token=<session token>`: a watch link for this session,
 * minted by the server for the tracker's own session (like a batch: CORS simple request, text/plain,
 * body `{}`, token in the query, no cookies). Resolves the `watch_url`; rejects with a TandemError
 * carrying the server's `{error:{code,message}}` and the HTTP status (0 for network failures).
 */
export async function requestWatchLink(fetchImpl: typeof fetch, ingestUrl: string, token: string): Promise<string> {
  const url = `${ingestUrl}${ASSIST_ROUTES.trackerWatchUrl}?token=${encodeURIComponent(token)}`;
  const ctrl = typeof AbortController !== 'undefined' ? new AbortController() : undefined;
  const timer = ctrl ? setTimeout(() => ctrl.abort(), REQUEST_TIMEOUT_MS) : undefined;
  let res: Response;
  let body: unknown = null;
  try {
    res = await fetchImpl.call(globalThis, url, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: '{}',
      mode: 'cors',
      credentials: 'omit',
      signal: ctrl?.signal,
    });
    try {
      const text = await res.text();
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
  } catch (err) {
    throw new TandemError('unavailable', `watch link request failed: ${String((err as Error)?.message ?? err)}`, 0);
  } finally {
    if (timer) clearTimeout(timer);
  }
  const link = (body as WatchUrlResponse | null)?.watch_url;
  if (res.ok && typeof link === 'string' && link) return link;
  if (isErrorBody(body)) throw new TandemError(body.error.code, body.error.message, res.status);
  if (res.ok) throw new TandemError('internal', 'watch link: the answer has no watch_url', res.status);
  throw new TandemError(res.status >= 500 ? 'unavailable' : 'bad_request', `watch link failed: HTTP ${res.status}`, res.status);
}
