import type { TemplatedApp } from 'uWebSockets.js';
import { z } from 'zod';
import type { SessionQuery, SessionStatsQuery } from '@tandem/protocol';
import type { AppContext } from '../context.js';
import { parseQuery, queryRange } from '../http/query.js';
import { json } from '../http/reply.js';
import { route } from '../http/router.js';
import { requireAgent } from './auth.js';
import { sessionListResponseSchema } from '../http/openapi-responses.js';
import { sessionStatsResponseSchema } from '../http/openapi-responses-more.js';

/**
 * The sessions list search and its per-day chart: `GET /api/v1/sessions` and `GET /api/v1/sessions/stats`.
 * Both take the same filters; a parameter that is misspelled, malformed or out of range is refused with
 * a 400 that names it (a typo silently widening the search would look like "no filter works").
 */

/** Longer search text is refused: it is almost certainly pasted by mistake and would cost every row. */
const MAX_TEXT = 512;
/** Time bounds outside years 2000..2200 are a unit mistake (seconds, µs), not a real search. */
const MIN_TIME = Date.UTC(2000, 0, 1);
const MAX_TIME = Date.UTC(2200, 0, 1);

/** A free-text filter: trimmed, blank is no filter. */
const text = (name: string) =>
  z.string().trim().max(MAX_TEXT, `${name} is too long (${MAX_TEXT} characters at most)`).transform((v) => v || undefined).optional();

const filterShape = {
  from: queryRange('from', MIN_TIME, MAX_TIME, 'epoch milliseconds').optional(),
  to: queryRange('to', MIN_TIME, MAX_TIME, 'epoch milliseconds').optional(),
  hasErrors: z.enum(['true', 'false'], { error: 'hasErrors must be true or false' })
    .transform((v) => (v === 'true' ? true : undefined)).optional(),
  minDuration: queryRange('minDuration', 0, Number.MAX_SAFE_INTEGER, 'milliseconds').optional(),
  maxDuration: queryRange('maxDuration', 0, Number.MAX_SAFE_INTEGER, 'milliseconds').optional(),
  userId: text('userId'),
  url: text('url'),
  q: text('q'),
  browser: text('browser'),
  os: text('os'),
  device: text('device'),
  console: text('console'),
  event: text('event'),
  page: text('page'),
};

function checkBounds(f: { from?: number; to?: number; minDuration?: number; maxDuration?: number }, ctx: z.RefinementCtx): void {
  if (f.from !== undefined && f.to !== undefined && f.from > f.to) ctx.addIssue({ code: 'custom', message: 'from must not be after to' });
  if (f.minDuration !== undefined && f.maxDuration !== undefined && f.minDuration > f.maxDuration) {
    ctx.addIssue({ code: 'custom', message: 'minDuration must not be more than maxDuration' });
  }
}

/** `GET /api/v1/sessions`: filters, page size and the cursor of the previous page. */
export const sessionListQuerySchema = z.strictObject({
  ...filterShape,
  limit: queryRange('limit', 1, 200, 'sessions per page', { int: true }).optional(),
  // The store decodes it (and refuses a forged one); this only bounds what it has to look at.
  cursor: z.string().max(200, 'cursor is malformed').optional(),
}).superRefine(checkBounds);

/** `GET /api/v1/sessions/stats`: the same filters, counted per day of the viewer's time zone. */
export const sessionStatsQuerySchema = z.strictObject({
  ...filterShape,
  tz: z.string().refine(isTimeZone, {
    error: (issue) => `tz must be an IANA time zone such as Europe/Paris, got ${String(issue.input).slice(0, 64)}`,
  }).optional(),
}).superRefine(checkBounds);

export function parseSessionQuery(q: URLSearchParams): SessionQuery {
  return parseQuery(q, sessionListQuerySchema, { strict: true });
}

export function parseStatsQuery(q: URLSearchParams): SessionStatsQuery {
  return parseQuery(q, sessionStatsQuerySchema, { strict: true });
}

function isTimeZone(tz: string): boolean {
  if (!/^[A-Za-z0-9_+\-/]{1,64}$/.test(tz)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const searchErrors = ['bad_request'] as const;

/** Registered before `/api/v1/sessions/:id` so `stats` is never read as a session id. */
export function registerSessionSearchRoutes(app: TemplatedApp, ctx: AppContext): void {
  const { log, store } = ctx;

  route(app, log, 'get', '/api/v1/sessions', async (req) => {
    const agent = await requireAgent(ctx, req);
    return json(await store.listSessions(agent.projectId, parseSessionQuery(req.query)));
  }, { doc: {
    tag: 'sessions', summary: 'Search recorded sessions, newest first', auth: ['agent'], query: sessionListQuerySchema,
    response: { description: 'A page of sessions and the cursor of the next page (SessionListResponse)', schema: sessionListResponseSchema }, errors: searchErrors,
  } });

  route(app, log, 'get', '/api/v1/sessions/stats', async (req) => {
    const agent = await requireAgent(ctx, req);
    return json(await store.sessionStats(agent.projectId, parseStatsQuery(req.query)));
  }, { doc: {
    tag: 'sessions', summary: 'Sessions and sessions with errors per day, for the chart', auth: ['agent'], query: sessionStatsQuerySchema,
    response: { description: 'Counts per calendar day of `tz` (SessionStatsResponse)', schema: sessionStatsResponseSchema }, errors: searchErrors,
  } });
}
