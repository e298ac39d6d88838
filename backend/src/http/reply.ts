import type { HttpResponse } from 'uWebSockets.js';
import { ERROR_STATUS, TandemError, type ErrorCode } from '@tandem/protocol';

export const STATUS_TEXT: Record<number, string> = {
  200: '200 OK', 204: '204 No Content', 206: '206 Partial Content', 304: '304 Not Modified', 400: '400 Bad Request', 401: '401 Unauthorized',
  403: '403 Forbidden', 404: '404 Not Found', 405: '405 Method Not Allowed', 413: '413 Payload Too Large',
  409: '409 Conflict', 416: '416 Range Not Satisfiable', 429: '429 Too Many Requests', 500: '500 Internal Server Error', 502: '502 Bad Gateway',
  503: '503 Service Unavailable', 504: '504 Gateway Timeout',
};

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** The handler already wrote and ended the response. */
  streamed?: boolean;
}

export function json(value: unknown, status = 200, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify(value) };
}

export function errorReply(code: ErrorCode, message: string, headers: Record<string, string> = {}): Reply {
  return json({ error: { code, message } }, ERROR_STATUS[code], headers);
}

export function toErrorReply(err: unknown): Reply {
  if (err instanceof TandemError) return json(err.toBody(), err.status);
  return errorReply('internal', 'Internal server error');
}

/** Writes a complete reply inside one cork (one syscall), unless the client went away. */
export function send(res: HttpResponse, reply: Reply, extraHeaders: Record<string, string>, aborted: () => boolean): void {
  if (aborted()) return;
  res.cork(() => {
    res.writeStatus(STATUS_TEXT[reply.status] ?? String(reply.status));
    for (const [k, v] of Object.entries({ ...extraHeaders, ...reply.headers })) res.writeHeader(k, v);
    // A 304 has no body and must not claim one (`end('')` would send Content-Length: 0).
    if (reply.status === 304) res.endWithoutBody();
    else res.end(reply.body ?? '');
  });
}
