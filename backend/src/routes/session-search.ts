import type { TemplatedApp } from 'uWebSockets.js';
import { TandemError, type SessionQuery, type SessionStatsQuery } from '@tandem/protocol';
import type { AppContext } from '../context.js';
import { json } from '../http/reply.js';
import { route } from '../http/router.js';
import { requireAgent } from './auth.js';

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

const TEXT_PARAMS = ['userId', 'url', 'q', 'browser', 'os', 'device', 'console', 'event', 'page'] as const;
const FILTER_PARAMS = ['from', 'to', 'hasErrors', 'minDuration', 'maxDuration', ...TEXT_PARAMS];
const LIST_PARAMS = new Set([...FILTER_PARAMS, 'limit', 'cursor']);
const STATS_PARAMS = new Set([...FILTER_PARAMS, 'tz']);

function bad(message: string): TandemError {
  return new TandemError('bad_request', message);
}

function optNumber(q: URLSearchParams, name: string, min: number, max: number, what: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw bad(`${name} must be a number (${what})`);
  if (n < min || n > max) throw bad(`${name} must be between ${min} and ${max} (${what})`);
  return n;
}

function checkKnown(q: URLSearchParams, known: Set<string>): void {
  for (const name of q.keys()) {
    if (!known.has(name)) throw bad(`Unknown parameter ${name}; known: ${[...known].join(', ')}`);
    if (q.getAll(name).length > 1) throw bad(`${name} is given more than once`);
  }
}

function parseFilters(q: URLSearchParams): SessionStatsQuery {
  const hasErrors = q.get('hasErrors');
  if (hasErrors !== null && !['true', 'false', ''].includes(hasErrors)) throw bad('hasErrors must be true or false');
  const from = optNumber(q, 'from', MIN_TIME, MAX_TIME, 'epoch milliseconds');
  const to = optNumber(q, 'to', MIN_TIME, MAX_TIME, 'epoch milliseconds');
  if (from !== undefined && to !== undefined && from > to) throw bad('from must not be after to');
  const minDuration = optNumber(q, 'minDuration', 0, Number.MAX_SAFE_INTEGER, 'milliseconds');
  const maxDuration = optNumber(q, 'maxDuration', 0, Number.MAX_SAFE_INTEGER, 'milliseconds');
  if (minDuration !== undefined && maxDuration !== undefined && minDuration > maxDuration) {
    throw bad('minDuration must not be more than maxDuration');
  }
  const query: SessionStatsQuery = { from, to, minDuration, maxDuration, hasErrors: hasErrors === 'true' ? true : undefined };
  for (const name of TEXT_PARAMS) {
    const v = q.get(name)?.trim();
    if (!v) continue;
    if (v.length > MAX_TEXT) throw bad(`${name} is too long (${MAX_TEXT} characters at most)`);
    query[name] = v;
  }
  return query;
}

export function parseSessionQuery(q: URLSearchParams): SessionQuery {
  checkKnown(q, LIST_PARAMS);
  const limit = optNumber(q, 'limit', 1, 200, 'sessions per page');
  if (limit !== undefined && !Number.isInteger(limit)) throw bad('limit must be a whole number');
  const cursor = q.get('cursor') || undefined;
  if (cursor && cursor.length > 200) throw bad('cursor is malformed');
  return { ...parseFilters(q), limit, cursor };
}

export function parseStatsQuery(q: URLSearchParams): SessionStatsQuery {
  checkKnown(q, STATS_PARAMS);
  const tz = q.get('tz') || undefined;
  if (tz !== undefined && !isTimeZone(tz)) throw bad(`tz must be an IANA time zone such as Europe/Paris, got ${tz.slice(0, 64)}`);
  return { ...parseFilters(q), ...(tz ? { tz } : {}) };
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

/** Registered before `/api/v1/sessions/:id` so `stats` is never read as a session id. */
export function registerSessionSearchRoutes(app: TemplatedApp, ctx: AppContext): void {
  const { log, store } = ctx;

  route(app, log, 'get', '/api/v1/sessions', async (req) => {
    const agent = await requireAgent(ctx, req);
    return json(await store.listSessions(agent.projectId, parseSessionQuery(req.query)));
  });

  route(app, log, 'get', '/api/v1/sessions/stats', async (req) => {
    const agent = await requireAgent(ctx, req);
    return json(await store.sessionStats(agent.projectId, parseStatsQuery(req.query)));
  });
}
