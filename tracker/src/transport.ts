import {
  INGEST_ROUTES,
  TandemError,
  isErrorBody,
  type BatchResponse,
  type ErrorCode,
  type StartRequest,
  type StartResponse,
} from '@tandem/protocol';
import { parseRetryAfter } from './backoff.js';

/**
 * Browsers refuse a keepalive request once the keepalive bodies in flight from the document add
 * up to more than 64 KiB (Fetch spec, "keepalive" quota). We stay a little under it.
 */
export const KEEPALIVE_MAX_BYTES = 63 * 1024;
/** A hung request would block the one-in-flight queue forever; 30 s is far above a healthy ack. */
export const REQUEST_TIMEOUT_MS = 30_000;

export type SendResult =
  | { kind: 'ok'; ackSeq: number }
  /** 400-class rejections: the same bytes will never be accepted, so the batch is dropped. */
  | { kind: 'drop'; status: number; code?: ErrorCode | string; message: string }
  | { kind: 'unauthorized' }
  | { kind: 'too_large' }
  /** 429/503/5xx/network: try again later. */
  | { kind: 'retry'; status: number; retryAfterMs?: number; message: string };

/** Maps an HTTP answer to what the sender does next. Pure, so it is unit tested. */
export function classifyResponse(status: number, body: unknown, retryAfter?: string | null): SendResult {
  if (status >= 200 && status < 300) {
    const ack = (body as BatchResponse | null)?.ackSeq;
    return { kind: 'ok', ackSeq: typeof ack === 'number' ? ack : -1 };
  }
  const code = isErrorBody(body) ? body.error.code : undefined;
  const message = isErrorBody(body) ? body.error.message : `HTTP ${status}`;
  if (status === 401 || code === 'unauthorized') return { kind: 'unauthorized' };
  if (status === 413 || code === 'payload_too_large') return { kind: 'too_large' };
  if (status === 408 || status === 429 || status >= 500 || status === 0) {
    return { kind: 'retry', status, retryAfterMs: parseRetryAfter(retryAfter), message };
  }
  // Other 4xx (400 bad_json/bad_request/session_mismatch, 403 origin, 404): retrying cannot help.
  return { kind: 'drop', status, code, message };
}

export class Transport {
  constructor(
    private readonly baseUrl: string,
    /** The page's fetch as it was before our network patch, so our own requests are never captured. */
    private readonly fetchImpl: typeof fetch,
  ) {}

  get batchUrlPrefix(): string {
    return this.baseUrl + INGEST_ROUTES.batch;
  }

  /**
   * Opens or resumes a session. JSON body with application/json: this one request may be
   * preflighted (it is not sent during unload), unlike batches.
   */
  async start(req: StartRequest): Promise<StartResponse> {
    const { res, body } = await this.request(this.baseUrl + INGEST_ROUTES.start, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(req),
    });
    if (res.ok && body && typeof (body as StartResponse).sessionId === 'string') return body as StartResponse;
    if (isErrorBody(body)) throw new TandemError(body.error.code, body.error.message, res.status);
    throw new TandemError(res.status >= 500 ? 'unavailable' : 'bad_request', `start failed: HTTP ${res.status}`, res.status);
  }

  /**
   * Sends one batch as a CORS simple request: text/plain, no custom header, token in the query.
   * No preflight means one round trip, and keepalive requests (which may not be preflighted
   * reliably during unload) work cross-origin. Gzip is recognised by the server from its magic bytes.
   */
  async sendBatch(token: string, body: string | Uint8Array, keepalive: boolean): Promise<SendResult> {
    const url = `${this.batchUrlPrefix}?token=${encodeURIComponent(token)}`;
    try {
      const { res, body: answer } = await this.request(
        url,
        {
          method: 'POST',
          headers: { 'Content-Type': 'text/plain' },
          body: body as BodyInit,
          keepalive,
        },
      );
      return classifyResponse(res.status, answer, safeHeader(res, 'Retry-After'));
    } catch (err) {
      return { kind: 'retry', status: 0, message: String((err as Error)?.message ?? err) };
    }
  }

  private async request(url: string, init: RequestInit): Promise<{ res: Response; body: unknown }> {
    const ctrl = typeof AbortController !== 'undefined' ? new AbortController() : undefined;
    const timer = ctrl ? setTimeout(() => ctrl.abort(), REQUEST_TIMEOUT_MS) : undefined;
    try {
      const res = await this.fetchImpl.call(globalThis, url, {
        ...init,
        mode: 'cors',
        // No cookies to the ingest server: it authenticates with the token, and omitting
        // credentials keeps the CORS answer simple (no Allow-Credentials).
        credentials: 'omit',
        signal: ctrl?.signal,
      });
      let body: unknown = null;
      try {
        const text = await res.text();
        body = text ? JSON.parse(text) : null;
      } catch {
        body = null;
      }
      return { res, body };
    } finally {
      if (timer) clearTimeout(timer);
    }
  }
}

function safeHeader(res: Response, name: string): string | null {
  try {
    return res.headers.get(name);
  } catch {
    return null;
  }
}
