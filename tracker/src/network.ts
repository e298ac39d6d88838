import type { NetworkPayload } from '@tandem/protocol';
import { redactUrl } from './redact.js';
import type { Guard } from './safe.js';
import { truncate } from './truncate.js';

/**
 * fetch and XMLHttpRequest capture: method, redacted URL, status, timing and sizes. Never bodies,
 * never headers' values (so no cookie or authorization). The patches are transparent: the same
 * promise / return value, the same exceptions, the same `this`; our bookkeeping runs in a guard
 * beside the call, never around it.
 */

export interface NetworkCaptureOptions {
  /** URL prefixes never recorded (the tracker's own ingest and the assist socket). */
  ignorePrefixes: string[];
  emit: (p: NetworkPayload) => void;
  guard: Guard;
  win?: Window & typeof globalThis;
}

const URL_MAX = 2_000;

export function requestBodySize(body: unknown): number | undefined {
  if (body == null) return undefined;
  if (typeof body === 'string') return body.length; // UTF-16 length: a cheap, close estimate
  if (typeof Blob !== 'undefined' && body instanceof Blob) return body.size;
  if (body instanceof ArrayBuffer) return body.byteLength;
  if (ArrayBuffer.isView(body)) return body.byteLength;
  if (typeof URLSearchParams !== 'undefined' && body instanceof URLSearchParams) return body.toString().length;
  return undefined; // FormData, streams: measuring would cost more than it tells
}

function contentLength(get: () => string | null): number | undefined {
  try {
    const v = get();
    if (v == null) return undefined;
    const n = Number(v);
    return Number.isFinite(n) && n >= 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Response size from the Resource Timing entry when the Content-Length header is absent (chunked
 * or compressed responses). One lookup by name in a buffer of at most a few hundred entries; sizes
 * are 0 for cross-origin responses without Timing-Allow-Origin, and then we report none.
 */
function resourceSize(absUrl: string, t0: number): number | undefined {
  try {
    const list = performance.getEntriesByName(absUrl, 'resource') as PerformanceResourceTiming[];
    for (let i = list.length - 1; i >= 0; i--) {
      const e = list[i];
      if (e.startTime + 1 < t0) break;
      return e.encodedBodySize || e.decodedBodySize || undefined;
    }
  } catch {
    /* no Resource Timing */
  }
  return undefined;
}

export function installNetworkCapture(opts: NetworkCaptureOptions): () => void {
  const win = opts.win ?? window;
  const { guard, emit } = opts;
  const base = () => win.location.href;
  const clean = (url: string) => truncate(redactUrl(url, base()), URL_MAX);
  const ignored = (absUrl: string) => opts.ignorePrefixes.some((p) => absUrl.startsWith(p));
  const absolute = (url: string) => {
    try {
      return new URL(url, base()).href;
    } catch {
      return url;
    }
  };
  const undo: (() => void)[] = [];

  // ---- fetch ----
  const originalFetch = win.fetch;
  if (typeof originalFetch === 'function') {
    const patched = function (this: unknown, input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
      // eslint-disable-next-line prefer-rest-params
      const args = arguments as unknown as [RequestInfo | URL, RequestInit?];
      const start = guard.run('fetch capture', () => {
        const isReq = typeof Request !== 'undefined' && input instanceof Request;
        const url = absolute(isReq ? (input as Request).url : String(input));
        if (ignored(url)) return undefined;
        const method = (init?.method || (isReq ? (input as Request).method : '') || 'GET').toUpperCase();
        return { url, method, startTs: Date.now(), t0: performance.now(), requestBytes: requestBodySize(init?.body) };
      });
      const promise = originalFetch.apply(this, args);
      if (start) {
        const done = (status: number, responseBytes?: number, error?: string) =>
          guard.run('fetch capture', () => {
            const p: NetworkPayload = {
              kind: 'fetch',
              method: start.method,
              url: clean(start.url),
              status,
              startTs: start.startTs,
              durationMs: Math.round(performance.now() - start.t0),
            };
            if (start.requestBytes !== undefined) p.requestBytes = start.requestBytes;
            if (responseBytes !== undefined) p.responseBytes = responseBytes;
            if (error) p.error = error;
            emit(p);
          });
        // A side branch: the page still gets `promise` itself, and its rejection stays the page's.
        guard.run('fetch capture', () =>
          promise.then(
            (res) => done(res.status, contentLength(() => res.headers.get('content-length')) ?? resourceSize(start.url, start.t0)),
            (err) => done(0, undefined, truncate(String((err as Error)?.name ?? err), 100)),
          ),
        );
      }
      return promise;
    };
    copyProps(originalFetch, patched);
    win.fetch = patched as typeof fetch;
    undo.push(() => {
      if (win.fetch === (patched as typeof fetch)) win.fetch = originalFetch;
    });
  }

  // ---- XMLHttpRequest: patch the prototype, not the constructor, so instanceof and statics stay ----
  const XHR = win.XMLHttpRequest;
  if (typeof XHR === 'function') {
    const proto = XHR.prototype;
    const originalOpen = proto.open;
    const originalSend = proto.send;
    const info = new WeakMap<XMLHttpRequest, { method: string; url: string }>();

    const open = function (this: XMLHttpRequest, method: string, url: string | URL) {
      guard.run('xhr capture', () => {
        info.set(this, { method: String(method || 'GET').toUpperCase(), url: absolute(String(url)) });
      });
      // eslint-disable-next-line prefer-rest-params
      return (originalOpen as (...a: unknown[]) => void).apply(this, arguments as unknown as unknown[]);
    };
    const send = function (this: XMLHttpRequest, body?: Document | XMLHttpRequestBodyInit | null) {
      guard.run('xhr capture', () => {
        const req = info.get(this);
        if (!req || ignored(req.url)) return;
        const startTs = Date.now();
        const t0 = performance.now();
        const requestBytes = requestBodySize(body);
        let error: string | undefined;
        const xhr = this;
        const onFail = (ev: Event) => {
          error = ev.type;
        };
        const onEnd = guard.wrap('xhr capture', () => {
          xhr.removeEventListener('error', onFail);
          xhr.removeEventListener('abort', onFail);
          xhr.removeEventListener('timeout', onFail);
          xhr.removeEventListener('loadend', onEnd);
          const p: NetworkPayload = {
            kind: 'xhr',
            method: req.method,
            url: clean(req.url),
            status: xhr.status,
            startTs,
            durationMs: Math.round(performance.now() - t0),
          };
          if (requestBytes !== undefined) p.requestBytes = requestBytes;
          const rb = contentLength(() => (xhr.readyState >= 2 ? xhr.getResponseHeader('content-length') : null)) ?? resourceSize(req.url, t0);
          if (rb !== undefined) p.responseBytes = rb;
          if (error) p.error = error;
          emit(p);
        });
        xhr.addEventListener('error', onFail);
        xhr.addEventListener('abort', onFail);
        xhr.addEventListener('timeout', onFail);
        xhr.addEventListener('loadend', onEnd);
      });
      // eslint-disable-next-line prefer-rest-params
      return (originalSend as (...a: unknown[]) => void).apply(this, arguments as unknown as unknown[]);
    };
    proto.open = open as typeof proto.open;
    proto.send = send as typeof proto.send;
    undo.push(() => {
      if (proto.open === (open as typeof proto.open)) proto.open = originalOpen;
      if (proto.send === (send as typeof proto.send)) proto.send = originalSend;
    });
  }

  return () => {
    for (const u of undo) guard.run('network uninstall', u);
  };
}

/** Keeps `fetch.length`-style properties and any polyfill markers the page may look at. */
function copyProps(from: object, to: object): void {
  try {
    for (const key of Object.getOwnPropertyNames(from)) {
      if (key in to) continue;
      const d = Object.getOwnPropertyDescriptor(from, key);
      if (d) Object.defineProperty(to, key, d);
    }
  } catch {
    /* cosmetic only */
  }
}
