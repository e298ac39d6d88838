import { BY_SESSION, sql, table, view, type Step } from './ddl.js';

/**
 * Migration 20 (issue 10, free text p95 ≤ 100 ms on a query's first call): free text's matches in a session's own text
 * attributes (user id, browser, OS, device) found by text, the way visited pages' are (page_texts / page_keys,
 * migrations 10 and 15).
 *
 * Before, free text read those four columns of every `session_attrs` row (`lowerUTF8(col) LIKE '%q%'`; the n-gram
 * indexes prune nothing for a needle like "user-4242", whose 3-grams lie in most granules): ~30 ms CPU over 1M sessions
 * whatever the needle, so the list read a day first (a dense needle fills its page there) and a rare one paid that
 * day's reads and then the rest. Here:
 * - `attr_texts`: the distinct values per project (~50k at 1M sessions: user ids, a few browsers/OSes/devices), which
 *   the needle is matched against (`positionCaseInsensitiveUTF8`, the re-check's own match): ~4 ms;
 * - `attr_keys`: (text, started_at, session_id) per value, read by primary key for the matching texts.
 * A needle's keys are then counted cheaply before reading them (search.ts), so a rare one reads its whole range at once.
 *
 * Filled by views on `session_attrs` (every version the writer writes: a superset, like `session_attrs` itself, whose
 * candidates the list re-checks on merged `session_search` rows) and backfilled from it; views first, so a row written
 * during the backfill reaches the tables twice and collapses (ReplacingMergeTree), never zero times.
 */

const T = "DateTime64(3, 'UTC')";
const LC = 'LowCardinality(String)';

/** The `session_attrs` columns free text matches through these tables (the landing URL is a page key already). */
export const ATTR_KEY_COLUMNS = ['user_id', 'browser', 'os', 'device'] as const;

/** A session_attrs row's non-empty values, each once, as attr_keys rows. */
const ATTR_KEYS_SELECT = `SELECT project_id, text, started_at, session_id FROM $db.session_attrs
  ARRAY JOIN arrayDistinct(arrayFilter(x -> x != '', [${ATTR_KEY_COLUMNS.map((c) => `toString(${c})`).join(', ')}])) AS text`;

export const ATTR_KEYS_STEPS: Step[] = [
  table('attr_texts', `project_id ${LC}, text String, last_seen DateTime('UTC')`, 'ReplacingMergeTree(last_seen)',
    `ORDER BY (project_id, text)
TTL last_seen + INTERVAL $days DAY`, 'cityHash64(project_id, text)'),
  table('attr_keys', `project_id ${LC}, text String, started_at ${T}, session_id String`, 'ReplacingMergeTree',
    `ORDER BY (project_id, text, started_at, session_id)
TTL toDateTime(started_at) + INTERVAL $days DAY`, BY_SESSION),
  view('attr_texts_mv', 'attr_texts', 'SELECT project_id, text, toDateTime(started_at) AS last_seen FROM $db.attr_keys'),
  view('attr_keys_mv', 'attr_keys', ATTR_KEYS_SELECT),
  sql(`INSERT INTO $db.attr_keys (project_id, text, started_at, session_id) ${ATTR_KEYS_SELECT}`),
];
