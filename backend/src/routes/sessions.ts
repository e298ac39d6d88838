import type { TemplatedApp } from 'uWebSockets.js';
import { z } from 'zod';
import { EVENTS_MAX_LIMIT, TandemError, openTarget, type EventRangeQuery, type KeyframesResponse, type SessionOpenFrame, type SessionOpenRest, type SessionOpenWindowEnd, type TabTimeline } from '@tandem/protocol';
import type { AppContext } from '../context.js';
import type { RequestInfo } from '../http/request.js';
import { json } from '../http/reply.js';
import { route, STREAMED, type HandlerContext } from '../http/router.js';
import { ClientGone, FLUSH, streamLines } from '../http/stream.js';
import { ID_PATTERN, idSchema } from '../ingest/schemas.js';
import { parseQuery, queryNumber, queryRange } from '../http/query.js';
import { API_KEY_PREFIX, requireApiKey } from '../auth/api-keys.js';
import { requireAgent } from './auth.js';
import { watchTokenOf } from './watch.js';
import { sessionDetailSchema } from '../http/openapi-responses.js';
import { eventLineSchema, tabTimelineSchema } from '../http/openapi-responses-more.js';

/** `?tabId=`: one tab of the session (absent: every tab). */
export const tabQuerySchema = z.object({
  tabId: z.string().regex(ID_PATTERN, 'tabId is malformed (8-64 characters of [A-Za-z0-9_-])').optional(),
});

const seqBound = (name: string) => queryRange(name, 0, Number.MAX_SAFE_INTEGER, 'a seq, inclusive', { int: true }).optional();
const tsBound = (name: string) => queryNumber(name, 'epoch milliseconds, inclusive').optional();

/** The events route's query (EventRangeQuery): every bound optional and inclusive; bounds combine with AND. */
export const eventRangeQuerySchema = tabQuerySchema.extend({
  fromSeq: seqBound('fromSeq'),
  toSeq: seqBound('toSeq'),
  fromTs: tsBound('fromTs'),
  toTs: tsBound('toTs'),
  limit: queryRange('limit', 1, EVENTS_MAX_LIMIT, 'events at most', { int: true }).optional(),
});

/** `?tabId=` of the timeline route: required (a timeline is one tab's). */
export const timelineQuerySchema = z.object({
  tabId: z.string({ error: 'tabId is required' }).regex(ID_PATTERN, 'tabId is malformed (8-64 characters of [A-Za-z0-9_-])'),
});

/**
 * The open route's query: a share link's moment and tab. `t` is ms since the session's first event
 * (a share link's own `t`); absent, the tab's start. Strict: a misspelt `t` would silently open at 0.
 */
export const openQuerySchema = tabQuerySchema.extend({
  t: queryRange('t', 0, Number.MAX_SAFE_INTEGER, "ms since the session's first event").optional(),
});

export function optTabId(q: URLSearchParams): string | undefined {
  return parseQuery(q, tabQuerySchema).tabId;
}

export function parseEventRange(q: URLSearchParams): EventRangeQuery {
  return parseQuery(q, eventRangeQuerySchema);
}

/** `:id` of the session routes; a malformed id cannot name a session (404, as for an unknown one). */
export const sessionParamsSchema = z.object({ id: idSchema });

// The list and its stats live in session-search.ts; re-exported for callers that import it from here.
export { parseSessionQuery } from './session-search.js';

function sessionIdParam(req: RequestInfo): string {
  const id = req.params[0];
  if (!sessionParamsSchema.safeParse({ id }).success) throw new TandemError('not_found', 'No such session');
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

/** Aborted when the request is (the page that asked was closed): for reads worth dropping then. */
function abortSignalOf(client: HandlerContext): AbortSignal {
  const abort = new AbortController();
  client.onAborted(() => abort.abort(new ClientGone()));
  return abort.signal;
}

/** What `sessionReader` lets in and may answer, for the routes' docs. */
export const SESSION_READERS = { auth: ['agent', 'watchLink'], params: sessionParamsSchema } as const;
const READ_ERRORS = ['forbidden', 'not_found'] as const;

export function registerSessionRoutes(app: TemplatedApp, ctx: AppContext): void {
  const { log, store } = ctx;

  route(app, log, 'get', '/api/v1/sessions/:id', async (req) => {
    const { projectId, sessionId } = await sessionReader(ctx, req);
    const session = await store.getSession(projectId, sessionId);
    if (!session) throw new TandemError('not_found', 'No such session');
    return json(session);
  }, { doc: {
    tag: 'sessions', summary: 'One session: tabs, pages, counts, duration, user, device', ...SESSION_READERS,
    response: { description: 'SessionDetail', schema: sessionDetailSchema }, errors: READ_ERRORS,
  } });

  route(app, log, 'get', '/api/v1/sessions/:id/events', async (req, client) => {
    const { projectId, sessionId } = await sessionReader(ctx, req);
    const lines = store.streamEvents(projectId, sessionId, parseEventRange(req.query));
    await streamLines(client.res, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' }, lines, client);
    return STREAMED;
  }, { doc: {
    tag: 'sessions', summary: 'The stored rrweb events, ordered by (tab, seq)', ...SESSION_READERS, query: eventRangeQuerySchema,
    response: { description: 'One event per line (EventLine: the event with its seq), in (tab, seq) order', type: 'application/x-ndjson', schema: eventLineSchema },
    errors: ['bad_request', ...READ_ERRORS],
  } });

  /** An open's window of more events than this gets the session's detail before its events (below). */
  const OPEN_REST_LAST_MAX_EVENTS = 2_000;
  // A share link's first frame in one round trip, in the order the page needs it: the window's plan (tabs
  // and keyframes), the window's events, then the rest of the detail (summary, pages), which the first frame
  // does not need. Two small reads before the events instead of getSession's four: on the seek bench's
  // 6-hour session the summary and the pages are ~13 of its ~22 ms (docs/decisions.md, "lead (session 16)").
  route(app, log, 'get', '/api/v1/sessions/:id/open', async (req, client) => {
    const { projectId, sessionId } = await sessionReader(ctx, req);
    const { t, tabId } = parseQuery(req.query, openQuerySchema, { strict: true });
    const { tabs, keyframes } = await store.getTabsAndKeyframes(projectId, sessionId);
    // No tab: a session without events yet, or none at all (a 404 before anything is sent).
    let rest = tabs.length ? null : await store.getSessionSummaryAndPages(projectId, sessionId);
    if (!tabs.length && !rest) throw new TandemError('not_found', 'No such session');
    const target = openTarget({ tabs, keyframes, startedAt: 0 }, t ?? null, tabId ?? null);
    const frame: SessionOpenFrame = { tabId: target?.tab.tabId ?? null, offset: target?.offset ?? 0, window: target?.window ?? null, tabs, keyframes };
    // The detail after a small window's events (the first frame waits for neither), before a big one's (an
    // imported session with one snapshot: the page shows their progress meanwhile).
    const restFirst = !!target && (target.window.toSeq ?? target.tab.eventCount - 1) - target.window.fromSeq + 1 > OPEN_REST_LAST_MAX_EVENTS;
    async function* restLine(): AsyncIterable<string> {
      rest ??= await store.getSessionSummaryAndPages(projectId, sessionId);
      // Gone meanwhile (expired): no such line, which the page reads as a failed open.
      if (rest) yield JSON.stringify({ session: { ...rest, tabs, keyframes } } satisfies SessionOpenRest);
    }
    async function* lines(): AsyncIterable<string | typeof FLUSH> {
      yield JSON.stringify(frame);
      if (restFirst) yield* restLine();
      if (target) {
        const { window } = target;
        let windowEvents = 0;
        for await (const line of store.streamEvents(projectId, sessionId, { tabId: target.tab.tabId, fromSeq: window.fromSeq, ...(window.toSeq === null ? {} : { toSeq: window.toSeq }) })) {
          windowEvents++;
          yield line;
        }
        yield JSON.stringify({ windowEvents } satisfies SessionOpenWindowEnd);
      }
      if (restFirst) return;
      // The window goes out whole before the detail is read: the first frame waits for neither.
      yield FLUSH;
      yield* restLine();
    }
    // The frame line goes out at once: the page plans its window while the events are read.
    await streamLines(client.res, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' }, lines(), client, undefined, { writeAtOnce: 1 });
    return STREAMED;
  }, { doc: {
    tag: 'sessions', summary: "A share link's first frame in one answer: the window holding `t`, its events, then the session",
    ...SESSION_READERS, query: openQuerySchema,
    response: { description: 'NDJSON: a SessionOpenFrame line (tabId, offset, window, tabs, keyframes), the window\'s events one per line and a SessionOpenWindowEnd line ({windowEvents}), then a SessionOpenRest line ({session}: the detail; before the events for a window of over 2,000)', type: 'application/x-ndjson' },
    errors: ['bad_request', ...READ_ERRORS],
  } });

  route(app, log, 'get', '/api/v1/sessions/:id/keyframes', async (req) => {
    const { projectId, sessionId } = await sessionReader(ctx, req);
    const items = await store.getKeyframes(projectId, sessionId, optTabId(req.query));
    return json({ items } satisfies KeyframesResponse);
  }, { doc: {
    tag: 'sessions', summary: 'Where the full snapshots are, for seeking', ...SESSION_READERS, query: tabQuerySchema,
    response: { description: 'KeyframesResponse' }, errors: ['bad_request', ...READ_ERRORS],
  } });

  // The scrub bar's markers, idle stretches and the Events panel for one tab, without its events.
  // Asked after the page's first frame, read in the background (between an open's and a seek's reads), and
  // stopped when the page is gone: a closed tab's scan no longer delays the next page's open.
  route(app, log, 'get', '/api/v1/sessions/:id/timeline', async (req, client) => {
    const signal = abortSignalOf(client);
    const { projectId, sessionId } = await sessionReader(ctx, req);
    const { tabId } = parseQuery(req.query, timelineQuerySchema);
    return json((await store.getTimeline(projectId, sessionId, tabId, { signal })) satisfies TabTimeline);
  }, { doc: {
    tag: 'sessions', summary: "One tab's clicks, custom events, identify calls and input moments", ...SESSION_READERS,
    query: timelineQuerySchema, response: { description: 'TabTimeline', schema: tabTimelineSchema }, errors: ['bad_request', ...READ_ERRORS],
  } });

  const panels = {
    console: (pid: string, sid: string, signal: AbortSignal) => store.getConsole(pid, sid, { signal }),
    network: (pid: string, sid: string, signal: AbortSignal) => store.getNetwork(pid, sid, { signal }),
    errors: (pid: string, sid: string, signal: AbortSignal) => store.getErrors(pid, sid, { signal }),
  } as const;
  for (const [name, read] of Object.entries(panels)) {
    route(app, log, 'get', `/api/v1/sessions/:id/${name}`, async (req, client) => {
      const signal = abortSignalOf(client);
      const { projectId, sessionId } = await sessionReader(ctx, req);
      return json({ items: await read(projectId, sessionId, signal) });
    }, { doc: {
      tag: 'sessions', summary: `The session's ${name} panel`, ...SESSION_READERS,
      response: { description: `{items}: the ${name} rows in time order` }, errors: READ_ERRORS,
    } });
  }
}
