import { BY_SESSION, sql, table, view, type Step } from './ddl.js';

/**
 * Migration 16 (issue 10, search in 100 ms): `session_facets`, the delta rows' counter facts ordered by the
 * low-cardinality attributes, so a filter that joins a browser/OS/device with errors or a duration is one pruned
 * read instead of a scan of every delta of the window.
 *
 * Before, "Samsung + errors + ≥ 25 min" found its candidates in `session_search` (ordered by start): the rows with
 * errors or a long reach (search-filters.ts REACH) among EVERY delta of the window, the browser's ~40k starts from
 * `session_attrs` in HAVING, then the exact counters of those starts, per window (three at 1M sessions), then the
 * re-check. A browser's sessions lie in every granule of a table ordered by start, so nothing pruned.
 *
 * Here each delta row keeps only what those filters need: lower-cased browser, OS and device (the key's prefix, so
 * `startsWith(browser, 'samsung')` is a primary-key range), the start, a 64-bit hash of the session id, and facts
 * that merge by max/min only: whether the delta had errors, its first and last event time. Max and min are
 * idempotent, so a delta inserted twice (a retried flush) changes nothing, unlike the summed counters of
 * `sessions`. Grouped by (started_at, sid), the rows give each session's exact "has errors" and duration
 * (last − first over every delta), so the key step needs no exact-counter step of its own; the re-check on merged
 * `session_search` rows stays (it reads the shown columns and applies every term on merged values).
 *
 * Deltas written before the session's start message reached the writer carry '' for these attributes (state.ts):
 * the filter reads the '' range too, so a session's every delta is read whichever carries its errors or last
 * event. A delta's non-empty browser is taken to be the session's (one user agent per session): the assumption
 * `session_attrs` makes too (its newest version wins a merge). `sid` is `cityHash64(project_id, session_id)`, the
 * session tables' sharding value: sessions that share a start millisecond and this 64-bit hash would be grouped as one.
 *
 * Kept by a view on `sessions` (like `session_search_mv`), backfilled from `session_search` on upgrade. View
 * first, then the backfill: a delta written in between reaches the table twice, which max/min absorb.
 */

const T = "DateTime64(3, 'UTC')";
const LC = 'LowCardinality(String)';
/** The attributes in the key, in key order (search-filters.ts builds the key ranges over them). */
export const FACET_ATTRS = ['browser', 'os', 'device'] as const;

/**
 * 1,024-row granules: a browser's rows for one (OS, device) pair lie in a few granules per window instead of one
 * 8,192-row granule spanning weeks, so the list's time windows prune within the range too.
 */
const FACETS_TABLE = table('session_facets', `project_id ${LC}, browser ${LC}, os ${LC}, device ${LC},
  started_at ${T}, sid UInt64,
  updated_at SimpleAggregateFunction(max, ${T}),
  errors SimpleAggregateFunction(max, UInt8),
  first_event_at SimpleAggregateFunction(min, Nullable(${T})),
  last_event_at SimpleAggregateFunction(max, Nullable(${T}))`, 'AggregatingMergeTree',
`ORDER BY (project_id, browser, os, device, started_at, sid)
TTL toDateTime(updated_at) + INTERVAL $days DAY
SETTINGS index_granularity = 1024`,
// sid IS the session tables' sharding value (BY_SESSION): a session's facet rows share its shard, whether the view
// wrote them (on the shard of its `sessions` rows) or the backfill did (through the Distributed table).
'sid');

const COLUMNS = 'project_id, browser, os, device, started_at, sid, updated_at, errors, first_event_at, last_event_at';
/** One facet row per delta row of `from` (the writer's `sessions` inserts, or `session_search` for the backfill). */
const facetSelect = (from: string) => `SELECT project_id, lower(browser) AS browser, lower(os) AS os, lower(device) AS device,
  started_at, ${BY_SESSION} AS sid, updated_at, toUInt8(error_count > 0) AS errors, first_event_at, last_event_at
  FROM $db.${from}`;

export const SESSION_FACETS_STEPS: Step[] = [
  FACETS_TABLE,
  view('session_facets_mv', 'session_facets', facetSelect('sessions')),
  sql(`INSERT INTO $db.session_facets (${COLUMNS}) ${facetSelect('session_search')}`),
];
