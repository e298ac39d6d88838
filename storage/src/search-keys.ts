import { BY_SESSION, sql, table, view, type Step } from './ddl.js';
import { chTime } from './encode.js';
import type { Row } from './derive.js';

/**
 * Migration 15 (issue 10, search in 100 ms): the list's keys, (started_at, session_id), per visited page text and
 * per custom event name, so a rare page, URL or event gives its newest sessions by primary key alone.
 *
 * `page_sessions` and `event_sessions` (migrations 10 and 14) hold session ids only, because the views that fill
 * them read `page_visits` / `custom_events`, which do not carry the session's start. The key step then had to find
 * the start of each id in `session_attrs`: `session_id IN (…)` over its 1M rows (a rare page's ~200 sessions lie
 * in every granule), ~100 ms CPU of a rare page's or event's call at 1M sessions. The writer knows the start, so
 * it writes these rows itself (derive.ts, with the page visit or event; writer.ts, the landing URL with the
 * session's `session_attrs` row: a start URL is not always a page visit), and the list reads them ordered by
 * (text, started_at): no `session_attrs` read when every filter has a key table.
 *
 * A session whose start changes after its first rows (a late startSession) leaves keys under its old start too:
 * candidates only, the re-check by key on merged `session_search` rows decides, as for old `session_attrs` versions.
 */

const T = "DateTime64(3, 'UTC')";
const LC = 'LowCardinality(String)';

const keysTable = (name: string, column: string) => table(name, `project_id ${LC}, ${column} String, started_at ${T}, session_id String`,
  'ReplacingMergeTree', `ORDER BY (project_id, ${column}, started_at, session_id)
TTL toDateTime(started_at) + INTERVAL $days DAY`, BY_SESSION);

/** The starts of an existing install's sessions, for the backfill (a session's versions share a start but for late starts). */
const STARTS = 'SELECT DISTINCT project_id, session_id, started_at FROM $db.session_attrs';
/** Both sides are Distributed on a cluster: each shard joins its own rows (a session's rows share a shard). */
const JOIN_SETTINGS = "SETTINGS distributed_product_mode = 'local'";

export const SEARCH_KEYS_STEPS: Step[] = [
  keysTable('page_keys', 'text'),
  keysTable('event_keys', 'name'),
  // Landing URLs reach the page texts the URL filter matches against (page visits already do, by page_texts_mv).
  view('page_keys_texts_mv', 'page_texts', 'SELECT project_id, text, toDateTime(started_at) AS last_seen FROM $db.page_keys'),
  sql(`INSERT INTO $db.page_keys (project_id, text, started_at, session_id)
  SELECT ps.project_id, ps.text, a.started_at, ps.session_id FROM $db.page_sessions AS ps
  INNER JOIN (${STARTS}) AS a ON ps.project_id = a.project_id AND ps.session_id = a.session_id ${JOIN_SETTINGS}`),
  sql(`INSERT INTO $db.page_keys (project_id, text, started_at, session_id)
  SELECT project_id, first_url, started_at, session_id FROM $db.session_attrs WHERE first_url != ''`),
  sql(`INSERT INTO $db.event_keys (project_id, name, started_at, session_id)
  SELECT es.project_id, es.name, a.started_at, es.session_id FROM $db.event_sessions AS es
  INNER JOIN (${STARTS}) AS a ON es.project_id = a.project_id AND es.session_id = a.session_id ${JOIN_SETTINGS}`),
];

/**
 * Migration 18: the URL filter's keys, (started_at, session_id) per visited URL and landing URL, so its re-check reads no
 * child table. `page_keys` mixes URLs and titles (the page filter and free text match both), so a URL key from it was a
 * candidate only: the re-check looked each one up in `page_visits` (`url` contains the needle), ordered by session in
 * 8,192-row granules and partitioned by day, a granule of every day per candidate (~31 of URL rare's ~78 ms at 1M
 * sessions, docs/decisions.md s11-recheck). Here a row is a URL only, with `visit` = 1 for a page visit and 0 for a
 * landing URL (the writer writes both, as for `page_keys`); ReplacingMergeTree(visit) keeps the visit when both collapse.
 * A key with a visit row matches exactly (the filter is "visited a page whose URL contains it", by session); a landing URL
 * alone is re-checked against the merged `first_url` (a session's versions may carry another one). search.ts passes the
 * visited keys' ids to the re-check instead of the `page_visits` subquery.
 */
export const URL_KEYS_STEPS: Step[] = [
  table('url_keys', `project_id ${LC}, url String, started_at ${T}, session_id String, visit UInt8`, 'ReplacingMergeTree(visit)',
    `ORDER BY (project_id, url, started_at, session_id)
TTL toDateTime(started_at) + INTERVAL $days DAY`, BY_SESSION),
  sql(`INSERT INTO $db.url_keys (project_id, url, started_at, session_id, visit)
  SELECT pv.project_id, pv.url, a.started_at, pv.session_id, 1
  FROM (SELECT DISTINCT project_id, session_id, url FROM $db.page_visits WHERE url != '') AS pv
  INNER JOIN (${STARTS}) AS a ON pv.project_id = a.project_id AND pv.session_id = a.session_id ${JOIN_SETTINGS}`),
  sql(`INSERT INTO $db.url_keys (project_id, url, started_at, session_id, visit)
  SELECT project_id, first_url, started_at, session_id, 0 FROM $db.session_attrs WHERE first_url != ''`),
];

/**
 * ClickHouse's `lower` (what event_sessions stored and the filter applies to the needle) changes ASCII letters only;
 * so does this, so a name stored here matches the same needles.
 */
export const lowerAscii = (s: string) => s.replace(/[A-Z]+/g, (m) => m.toLowerCase());

export function pageKeyRows(projectId: string, sessionId: string, startedAt: number, texts: string[]): Row[] {
  const started_at = chTime(startedAt);
  return [...new Set(texts.filter((t) => t !== ''))].map((text) => ({ project_id: projectId, text, started_at, session_id: sessionId }));
}

export function eventKeyRow(projectId: string, sessionId: string, startedAt: number, name: string): Row {
  return { project_id: projectId, name: lowerAscii(name), started_at: chTime(startedAt), session_id: sessionId };
}

/** A visited page's URL (`visit` 1) or a session's landing URL (0) as a `url_keys` row (migration 18); none when empty. */
export function urlKeyRows(projectId: string, sessionId: string, startedAt: number, url: string, visit: 0 | 1): Row[] {
  return url === '' ? [] : [{ project_id: projectId, url, started_at: chTime(startedAt), session_id: sessionId, visit }];
}
