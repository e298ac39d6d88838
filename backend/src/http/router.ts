import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Logger } from 'pino';
import { copyRequest, readBody, type RequestInfo } from './request.js';
import { send, toErrorReply, type Reply } from './reply.js';
import { ClientGone, type ClientState } from './stream.js';
import type { RouteDoc } from './route-doc.js';

export interface HandlerContext extends ClientState {
  res: HttpResponse;
}

/** A handler returns a Reply; one that wrote the response itself returns STREAMED. */
export type Handler = (req: RequestInfo, ctx: HandlerContext) => Promise<Reply> | Reply;
export const STREAMED: Reply = Object.freeze({ status: 200, streamed: true });

export interface RouteOptions {
  /** Read the body, refusing more than this many bytes. */
  bodyLimit?: number;
  /** Headers added to every reply of this route (CORS). May depend on the request. */
  headers?: (req: RequestInfo) => Record<string, string>;
  /**
   * Checked while the body is still arriving (uWS drops body bytes nobody listens for, so reading
   * cannot wait): a failure (e.g. no credentials) answers at once instead of after a big upload.
   */
  precheck?: (req: RequestInfo) => Promise<unknown>;
  /** Called with the final status, for metrics. */
  onDone?: (req: RequestInfo, status: number, startedAt: number) => void;
  /** The route's entry in the OpenAPI document (GET /api/v1/openapi.json). */
  doc?: RouteDoc;
  /** Why a route has no `doc` (fallbacks, preflight, the demo site): kept in the table, left out of the document. */
  undocumented?: string;
}

export type Method = 'get' | 'post' | 'put' | 'patch' | 'options' | 'del' | 'any';

/** One registration, as the router's table keeps it (the OpenAPI document is built from this table). */
export interface RouteEntry {
  method: Method;
  pattern: string;
  doc?: RouteDoc;
  undocumented?: string;
  bodyLimit?: number;
}

const tables = new WeakMap<TemplatedApp, RouteEntry[]>();

/** Every route registered on `app` through `route()`, in registration order. */
export function routeTable(app: TemplatedApp): readonly RouteEntry[] {
  return tables.get(app) ?? [];
}

/**
 * Registers an async handler with uWS's discipline: onAborted before any await, copy the request
 * synchronously, reply inside cork. Every thrown error becomes a JSON error reply; nothing escapes.
 */
export function route(app: TemplatedApp, log: Logger, method: Method, pattern: string, handler: Handler, opts: RouteOptions = {}): void {
  const paramCount = (pattern.match(/\/:/g) ?? []).length;
  let table = tables.get(app);
  if (!table) tables.set(app, (table = []));
  table.push({ method, pattern, doc: opts.doc, undocumented: opts.undocumented, bodyLimit: opts.bodyLimit });
  app[method](pattern, (res: HttpResponse, req: HttpRequest) => {
    const startedAt = performance.now();
    let isAborted = false;
    const abortListeners: (() => void)[] = [];
    res.onAborted(() => {
      isAborted = true;
      for (const cb of abortListeners.splice(0)) cb();
    });
    const aborted = () => isAborted;
    const onAborted = (cb: () => void) => (isAborted ? cb() : void abortListeners.push(cb));
    const info = copyRequest(res, req, paramCount);
    const extra = opts.headers?.(info) ?? {};
    const finish = (reply: Reply) => {
      send(res, reply, extra, aborted);
      opts.onDone?.(info, reply.status, startedAt);
    };
    let bodyRead = false;
    void (async () => {
      try {
        if (opts.bodyLimit !== undefined) {
          const body = readBody(res, info, opts.bodyLimit, aborted);
          body.catch(() => {}); // a failed precheck answers first; this rejection is then moot
          if (opts.precheck) await opts.precheck(info);
          info.body = await body;
          bodyRead = true;
        }
        const reply = await handler(info, { res, aborted, onAborted });
        if (reply.streamed) opts.onDone?.(info, 200, startedAt);
        else finish(reply);
      } catch (err) {
        if (err instanceof ClientGone || isAborted) return;
        const reply = toErrorReply(err);
        if (reply.status >= 500) log.error({ err, path: info.path }, 'request failed');
        // A body we stopped reading must not be left half-read on a kept-alive connection.
        if (opts.bodyLimit !== undefined && !bodyRead) reply.headers = { ...reply.headers, connection: 'close' };
        finish(reply);
      }
    })();
  });
}
