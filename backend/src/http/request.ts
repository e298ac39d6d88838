import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { TandemError } from '@tandem/protocol';

/** What a handler may read of a request. uWS's HttpRequest dies at the first await, so we copy it. */
export interface RequestInfo {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  params: string[];
  ip: string;
  /** Set by readBody. */
  body?: Buffer;
}

export function copyRequest(res: HttpResponse, req: HttpRequest, paramCount: number): RequestInfo {
  const headers: Record<string, string> = {};
  req.forEach((k, v) => {
    headers[k] = v;
  });
  const params: string[] = [];
  for (let i = 0; i < paramCount; i++) params.push(decodeURIComponent(req.getParameter(i) ?? ''));
  const forwarded = headers['x-forwarded-for']?.split(',')[0]?.trim();
  return {
    method: req.getCaseSensitiveMethod().toUpperCase(),
    path: req.getUrl(),
    query: new URLSearchParams(req.getQuery() ?? ''),
    headers,
    params,
    ip: forwarded || Buffer.from(res.getRemoteAddressAsText()).toString(),
  };
}

/**
 * Reads the whole body, refusing more than `limit` bytes as early as possible: first by the declared
 * Content-Length, then while streaming (a client may lie or use chunked encoding).
 */
export function readBody(res: HttpResponse, info: RequestInfo, limit: number, aborted: () => boolean): Promise<Buffer> {
  const declared = Number(info.headers['content-length'] ?? NaN);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    res.onData((chunk, isLast) => {
      if (failed || aborted()) return;
      size += chunk.byteLength;
      if (size > limit) {
        failed = true;
        reject(tooLarge(limit));
        return;
      }
      // uWS reuses the chunk's memory after this callback returns: copy it.
      chunks.push(Buffer.from(chunk.slice(0)));
      if (isLast) resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    });
  });
}

function tooLarge(limit: number): TandemError {
  return new TandemError('payload_too_large', `Request body exceeds ${limit} bytes`);
}
