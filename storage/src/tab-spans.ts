import { BY_SESSION, sql, table, view, type Step } from './ddl.js';

/**
 * Migration 19: each tab's span kept at ingest (issue 10, the share link's open).
 *
 * The session page's detail (getSession, on `/open`'s critical path) gave each tab its first and last
 * event time and its event count by scanning the tab's events: `min(ts)`, `max(ts)`, `uniqExact(seq)` over
 * every row (73k on the seek bench's 6-hour tab, ~10 of getSession's ~35 ms of CPU). Here a materialized
 * view on `events` keeps per insert and tab the same three things, and an AggregatingMergeTree combines
 * them: `min`/`max` of the times, and the seqs as a roaring bitmap (`groupBitmap`), whose merged
 * cardinality is the number of distinct seqs, exactly what `uniqExact(seq)` counted. All three are
 * idempotent, so a row stored twice (a retried batch that slipped past the writer, or the backfill
 * racing the view) changes nothing, as with the scan.
 *
 * Partitioned and expired like `events` (by the day it was received), so a tab's span covers exactly the
 * events still stored: when a day of events is dropped, that day's spans go with it.
 */

const T = "DateTime64(3, 'UTC')";

/**
 * The view's and the backfill's SELECT: one row per (tab, day received) of what it reads from `events`.
 * The day is grouped on a renamed column: the SELECT's `received_at` alias would shadow the column.
 */
const SPANS_OF_EVENTS = `SELECT project_id, session_id, tab_id, min(ts) AS started_at, max(ts) AS ended_at,
  groupBitmapState(seq) AS seqs, max(received) AS received_at
  FROM (SELECT project_id, session_id, tab_id, ts, seq, received_at AS received FROM $db.events)
  GROUP BY project_id, session_id, tab_id, toYYYYMMDD(received)`;

export const TAB_SPANS_STEPS: Step[] = [
  table('tab_spans', `project_id LowCardinality(String), session_id String, tab_id String,
  started_at SimpleAggregateFunction(min, ${T}),
  ended_at SimpleAggregateFunction(max, ${T}),
  seqs AggregateFunction(groupBitmap, UInt32),
  received_at SimpleAggregateFunction(max, DateTime('UTC'))`, 'AggregatingMergeTree', `PARTITION BY toYYYYMMDD(received_at)
ORDER BY (project_id, session_id, tab_id)
TTL received_at + INTERVAL $days DAY
SETTINGS ttl_only_drop_parts = 1`, BY_SESSION),
  // The view before the backfill: events written in between are counted by both, which the bitmap's union absorbs.
  view('tab_spans_mv', 'tab_spans', SPANS_OF_EVENTS),
  sql(`INSERT INTO $db.tab_spans ${SPANS_OF_EVENTS}`),
];

/**
 * getSession's per-tab spans from `tab_spans` (`scope` filters project and session): tab, first and last
 * event (epoch ms), distinct events. Unmerged rows of a tab are combined here.
 */
export const tabSpansSql = (db: string, scope: string) =>
  `SELECT tab_id, toUnixTimestamp64Milli(min(started_at)) AS started_ms, toUnixTimestamp64Milli(max(ended_at)) AS ended_ms,
          groupBitmapMerge(seqs) AS event_count
   FROM ${db}.tab_spans WHERE ${scope} GROUP BY tab_id`;
