import type { TemplatedApp } from 'uWebSockets.js';
import { EVENTS_MAX_LIMIT, TandemError, type EventRangeQuery, type KeyframesResponse } from '@tandem/protocol';
import type { AppContext } from '../context.js';
import type { RequestInfo } from '../http/request.js';
import { json } from '../http/reply.js';
import { route, STREAMED } from '../http/router.js';
import { streamLines } from '../http/stream.js';
import { idSchema } from '../ingest/schemas.js';
import { API_KEY_PREFIX, requireApiKey } from '../auth/api-keys.js';
import { requireAgent } from './auth.js';
import { watchTokenOf } from './watch.js';

function optNumber(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new TandemError('bad_request', `${name} must be a number`);
  return n;
}

export function optTabId(q: URLSearchParams): string | undefined {
  const tabId = q.get('tabId') || undefined;
  if (tabId && !idSchema.safeParse(tabId).success) throw new TandemError('bad_request', 'tabId is malformed');
  return tabId;
}

function optSeq(q: URLSearchParams, name: string): number | undefined {
  const n = optNumber(q, name);
  if (n !== undefined && !(Number.isInteger(n) && n >= 0)) throw new TandemError('bad_request', `${name} must be an integer >= 0`);
  return n;
}

/** The events route's query (EventRangeQuery): every bound optional and inclusive. */
export function parseEventRange(q: URLSearchParams): EventRangeQuery {
  const limit = optNumber(q, 'limit');
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= EVENTS_MAX_LIMIT)) {
    throw new TandemError('bad_request', `limit must be an integer between 1 and ${EVENTS_MAX_LIMIT}`);
  }
  return {
    tabId: optTabId(q),
    fromSeq: optSeq(q, 'fromSeq'),
    toSeq: optSeq(q, 'toSeq'),
    fromTs: optNumber(q, 'fromTs'),
    toTs: optNumber(q, 'toTs'),
    limit,
  };
}

// The list and its stats live in session-search.ts; re-exported for callers that import it from here.
export { parseSessionQuery } from './session-search.js';

function sessionIdParam(req: RequestInfo): string {
  const id = req.params[0];
  if (!idSchema.safeParse(id).success) throw new TandemError('not_found', 'No such session');
  return id;
}

/**
 * Who may read one session's stored data: a signed-in agent (their project), or a watch-link holder
 * (`Authorization: Bearer <watch token>`) for the link's own session only, so the watch view can go
 * back in time; with `apiKey`, also an API key (its project): the export route only, for the CLI.
 * Returns the project to read from. The session list stays agents-only.
 */
export async function sessionReader(ctx: AppContext, req: RequestInfo, opts: { apiKey?: boolean } = {}): Promise<{ projectId: string; sessionId: string }> {
  if (opts.apiKey && req.headers.authorization?.startsWith(`Bearer ${API_KEY_PREFIX}`)) {
    const { projectId } = await requireApiKey(ctx, req);
    return { projectId, sessionId: sessionIdParam(req) };
  }
  const link = await watchTokenOf(ctx, req);
  if (link) {
    if (link.sid !== req.params[0]) throw new TandemError('forbidden', 'This watch link is for another session');
    return { projectId: link.pid, sessionId: sessionIdParam(req) };
  }
  const agent = await requireAgent(ctx, req);
  return { projectId: agent.projectId, sessionId: sessionIdParam(req) };
}

export function registerSessionRoutes(app: TemplatedApp, ctx: AppContext): void {
  const { log, store } = ctx;

  route(app, log, 'get', '/api/v1/sessions/:id', async (req) => {
    const { projectId, sessionId } = await sessionReader(ctx, req);
    const session = await store.getSession(projectId, sessionId);
    if (!session) throw new TandemError('not_found', 'No such session');
    return json(session);
  });

  route(app, log, 'get', '/api/v1/sessions/:id/events', async (req, client) => {
    const { projectId, sessionId } = await sessionReader(ctx, req);
    const lines = store.streamEvents(projectId, sessionId, parseEventRange(req.query));
    await streamLines(client.res, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' }, lines, client);
    return STREAMED;
  });

  route(app, log, 'get', '/api/v1/sessions/:id/keyframes', async (req) => {
    const { projectId, sessionId } = await sessionReader(ctx, req);
    const items = await store.getKeyframes(projectId, sessionId, optTabId(req.query));
    return json({ items } satisfies KeyframesResponse);
  });

  const panels = {
    console: (pid: string, sid: string) => store.getConsole(pid, sid),
    network: (pid: string, sid: string) => store.getNetwork(pid, sid),
    errors: (pid: string, sid: string) => store.getErrors(pid, sid),
  } as const;
  for (const [name, read] of Object.entries(panels)) {
    route(app, log, 'get', `/api/v1/sessions/:id/${name}`, async (req) => {
      const { projectId, sessionId } = await sessionReader(ctx, req);
      return json({ items: await read(projectId, sessionId) });
    });
  }
}
