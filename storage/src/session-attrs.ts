import { BY_SESSION, alter, sql, table, view, type Step } from './ddl.js';
import { chTime } from './encode.js';
import type { Row, SessionState } from './derive.js';

/**
 * Migration 10 (issue 10, search in 100 ms): what the list searches, laid out so a rare needle reads a
 * few granules instead of every delta row.
 *
 * `session_attrs`: ONE row per session for what does not change once known (start, visitor, landing URL,
 * user agent, browser/OS/device, screen, country) and the user id, ordered like the list (project_id,
 * started_at, session_id). `session_search` holds a delta row per flush (migration 6), 3+ per session,
 * and only a merge (or FINAL / GROUP BY at read time) tells a session's values; here a filter is a plain
 * WHERE over one row per session, with bloom filters on the ids. The writer writes a row when it first
 * flushes a session and again only when one of these values changes (a late startSession, identify):
 * a new version, ReplacingMergeTree(version). Readers take it as a *superset* (any version matching makes a
 * candidate) and re-check candidates on the merged `session_search` rows, so an old version never shows.
 *
 * `page_texts` / `page_sessions`: the URLs and titles of visited pages, distinct per project (a few
 * thousand on a real site, against millions of visits), and which sessions visited each, ordered by
 * (project_id, text, received_at). A substring needle ("/blog/1234") is matched against the distinct texts
 * only, then the sessions are read by primary key. Kept by materialized views on `page_visits`.
 * The exit URL (`last_url`) needs no place here: the writer sets it only when it records a page visit.
 */

const T = "DateTime64(3, 'UTC')";
const LC = 'LowCardinality(String)';

/** The columns of `session_attrs`, in the writer's row order. */
export const ATTR_COLUMNS = ['project_id', 'session_id', 'version', 'updated_at', 'started_at', 'visitor_id', 'user_id',
  'first_url', 'user_agent', 'browser', 'browser_version', 'os', 'device', 'screen', 'country'] as const;

const ATTRS_TABLE = table('session_attrs', `project_id ${LC}, session_id String, version UInt64, updated_at ${T},
  started_at ${T}, visitor_id String, user_id String, first_url String, user_agent String,
  browser ${LC}, browser_version ${LC}, os ${LC}, device ${LC}, screen ${LC}, country ${LC},
  INDEX user_bf user_id TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX visitor_bf visitor_id TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX session_bf session_id TYPE bloom_filter(0.01) GRANULARITY 1`, 'ReplacingMergeTree(version)',
`ORDER BY (project_id, started_at, session_id)
TTL toDateTime(updated_at) + INTERVAL $days DAY`, BY_SESSION);

/**
 * An existing install's sessions, one row each from their merged deltas (the user id: the newest one set).
 * Re-run after a crash, the copies collapse (same key, same version).
 */
const ATTRS_BACKFILL = sql(`INSERT INTO $db.session_attrs (${ATTR_COLUMNS.join(', ')})
  SELECT project_id, session_id, max(version), max(updated_at), started_at, max(visitor_id),
    ifNull(argMaxIf(user_id, version, user_id IS NOT NULL), ''), max(first_url), max(user_agent),
    max(browser), max(browser_version), max(os), max(device), max(screen), max(country)
  FROM $db.session_search GROUP BY project_id, started_at, session_id`);

// Distinct per project: ReplacingMergeTree collapses repeats (also within each INSERT: optimize_on_insert).
const PAGE_TEXTS = table('page_texts', `project_id ${LC}, text String, last_seen DateTime('UTC')`,
  'ReplacingMergeTree(last_seen)', `ORDER BY (project_id, text)
TTL last_seen + INTERVAL $days DAY`, 'cityHash64(project_id, text)');
const PAGE_SESSIONS = table('page_sessions', `project_id ${LC}, text String, received_at DateTime('UTC'), session_id String`,
  'ReplacingMergeTree', `ORDER BY (project_id, text, received_at, session_id)
TTL received_at + INTERVAL $days DAY`, BY_SESSION);
/** A visit's URL and title (each non-empty one once), as the rows of both tables. */
const PAGE_TEXT_SELECT = (columns: string) => `SELECT ${columns} FROM $db.page_visits ARRAY JOIN arrayDistinct(arrayFilter(x -> x != '', [url, title])) AS text`;

export const SESSION_ATTRS_STEPS: Step[] = [
  ATTRS_TABLE,
  ATTRS_BACKFILL,
  PAGE_TEXTS,
  PAGE_SESSIONS,
  // Views before the backfill: a visit written in between reaches the tables twice and collapses, never zero times.
  view('page_texts_mv', 'page_texts', PAGE_TEXT_SELECT('project_id, text, received_at AS last_seen')),
  view('page_sessions_mv', 'page_sessions', PAGE_TEXT_SELECT('project_id, text, received_at, session_id')),
  sql(`INSERT INTO $db.page_texts (project_id, text, last_seen) ${PAGE_TEXT_SELECT('project_id, text, received_at AS last_seen')}`),
  sql(`INSERT INTO $db.page_sessions (project_id, text, received_at, session_id) ${PAGE_TEXT_SELECT('project_id, text, received_at, session_id')}`),
];

/**
 * Migration 12: n-gram bloom filters over the lower-cased text columns that free text searches, so a needle
 * that no session holds skips every granule instead of scanning 1M rows × 5 columns (search.ts matches them with
 * `lowerUTF8(col) LIKE '%needle%'`, the form the index can answer; an OR prunes only when every branch has an
 * index, so browser/OS/device have one too, small: a granule holds a handful of distinct values). A needle found
 * in most granules (a URL path segment, "user-") prunes nothing and costs the scan as before (the issue-10 entry of
 * docs/decisions.md: URL-like data). Sizes: ~8,192 landing URLs per granule give ~10–30k distinct 3-grams, so
 * 32 KB (262k bits, 2 hashes) keeps a 7-gram needle's false positives negligible; user ids need less.
 * New parts get them; stored parts when a merge rewrites them (read as before until then). Not MATERIALIZE INDEX:
 * a mutation over every stored part would hold up the upgrade's start (chDB waits for it; with merges stopped,
 * forever).
 */
const TEXT_INDEXES: [string, string, number][] = [
  ['user_ng', 'user_id', 8192], ['first_url_ng', 'first_url', 32768], ['browser_ng', 'browser', 256], ['os_ng', 'os', 256], ['device_ng', 'device', 256],
];
export const SESSION_ATTRS_TEXT_STEPS: Step[] = TEXT_INDEXES.map(([name, column, bytes]) =>
  alter('session_attrs', `ADD INDEX IF NOT EXISTS ${name} lowerUTF8(${column}) TYPE ngrambf_v1(3, ${bytes}, 2, 0) GRANULARITY 1`));
/** The columns free text matches in `session_attrs`, each covered by a TEXT_INDEXES entry. */
export const ATTR_TEXT_COLUMNS = TEXT_INDEXES.map(([, column]) => column);

/** The values `session_attrs` holds: when they differ from the last row written, the writer writes a new one. */
export function attrsSignature(s: SessionState): string {
  return JSON.stringify([s.startedAt, s.visitorId, s.userId, s.firstUrl, s.userAgent, s.browser, s.browserVersion, s.os, s.device, s.screen, s.country]);
}

export function attrsRow(s: SessionState, version: number, now: number): Row {
  return {
    project_id: s.projectId, session_id: s.sessionId, version, updated_at: chTime(now), started_at: chTime(s.startedAt),
    visitor_id: s.visitorId, user_id: s.userId, first_url: s.firstUrl, user_agent: s.userAgent, browser: s.browser,
    browser_version: s.browserVersion, os: s.os, device: s.device, screen: s.screen, country: s.country,
  };
}

/**
 * Migration 14: which sessions sent each custom event name, ordered by (project_id, name, received_at), kept by a
 * view on `custom_events` (name lower-cased: the filter is "any case"). The event filter read `custom_events` itself:
 * ordered by session, its bloom filter on the name prunes nothing for a name found in most granules, and a rare
 * name's ~200 sessions spread over every granule of 2M rows, so each window scanned every name. Here a name's
 * sessions are one primary-key range, like a visited page's in `page_sessions`.
 */
export const EVENT_SESSIONS_STEPS: Step[] = [
  table('event_sessions', `project_id ${LC}, name String, received_at DateTime('UTC'), session_id String`, 'ReplacingMergeTree',
    `ORDER BY (project_id, name, received_at, session_id)
TTL received_at + INTERVAL $days DAY`, BY_SESSION),
  // The view before the backfill: an event written in between reaches the table twice and collapses, never zero times.
  view('event_sessions_mv', 'event_sessions', 'SELECT project_id, lower(name) AS name, received_at, session_id FROM $db.custom_events'),
  sql('INSERT INTO $db.event_sessions (project_id, name, received_at, session_id) SELECT project_id, lower(name), received_at, session_id FROM $db.custom_events'),
];
