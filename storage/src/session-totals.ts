import { BY_SESSION, type Ddl, run, table, view, type Step } from './ddl.js';
import { withTableLock } from './lock.js';
import type { Driver } from './types.js';

/**
 * Migration 6: session counters summed by ClickHouse, not cached per process.
 *
 * Before, each writer kept a session's counters in memory and wrote the whole row (a new version) per
 * flush; two backends writing tabs of one session each wrote their own counts and the newest version won.
 * Now `sessions` and `session_search` are AggregatingMergeTree tables and a flush writes a *delta row*:
 * how many events, pages, errors, console errors and clicks this flush added, with the attributes it knows.
 * Merges (and FINAL reads) combine every delta of a session, whichever process wrote it:
 *   counters                      sum     (deltas from every writer add up)
 *   first_event_at / started_at   min     last_event_at  max    tab_ids  union
 *   visitor, URLs at start, device, ...   max     (set once; an unknown '' never beats a value)
 *   user_id, last_url             anyLast of non-NULL (a delta carries them only when its flush set them)
 * `ended_at`, `duration_ms` and `tab_count` are ALIAS columns computed from the merged values, so readers
 * keep their column names. Delta rows are what the list's copy receives from `session_search_mv`; it
 * aggregates them the same way, keyed by (project_id, started_at, session_id) as before.
 */

const AGG = (fn: string, type: string) => `SimpleAggregateFunction(${fn}, ${type})`;
const T = "DateTime64(3, 'UTC')";
const LC = 'LowCardinality(String)';

/** Read-side columns computed from the merged values (an ALIAS is evaluated after FINAL merges). */
const DERIVED = `ended_at ${T} ALIAS ifNull(last_event_at, started_at),
  duration_ms UInt64 ALIAS if(isNull(first_event_at) OR isNull(last_event_at), 0,
    toUInt64(greatest(0, toUnixTimestamp64Milli(assumeNotNull(last_event_at)) - toUnixTimestamp64Milli(assumeNotNull(first_event_at))))),
  tab_count UInt16 ALIAS toUInt16(least(length(tab_ids), 65535))`;

const COUNTERS = ['page_count', 'event_count', 'error_count', 'console_error_count', 'click_count'];
const counterColumns = COUNTERS.map((c) => `${c} ${AGG('sum', 'UInt64')}`).join(', ');

const SESSION_COLUMNS = `project_id ${LC}, session_id String,
  version ${AGG('max', 'UInt64')}, updated_at ${AGG('max', T)},
  visitor_id ${AGG('max', 'String')}, user_id ${AGG('anyLast', 'Nullable(String)')},
  started_at ${AGG('min', T)}, first_event_at ${AGG('min', `Nullable(${T})`)}, last_event_at ${AGG('max', `Nullable(${T})`)},
  first_url ${AGG('max', 'String')}, last_url ${AGG('anyLast', 'Nullable(String)')}, referrer ${AGG('max', 'String')},
  ${counterColumns},
  tab_ids ${AGG('groupUniqArrayArray', 'Array(String)')},
  user_agent ${AGG('max', 'String')}, browser ${AGG('max', LC)}, browser_version ${AGG('max', LC)},
  os ${AGG('max', LC)}, device ${AGG('max', LC)}, screen ${AGG('max', LC)},
  language ${AGG('max', LC)}, timezone ${AGG('max', LC)}, country ${AGG('max', LC)},
  ${DERIVED}`;

/** The columns the list copy keeps (what it shows or filters on), copied by session_search_mv. */
export const SEARCH_COPY_COLUMNS = `project_id, session_id, version, updated_at, visitor_id, user_id, started_at, first_event_at,
  last_event_at, first_url, last_url, ${COUNTERS.join(', ')}, tab_ids, user_agent, browser, browser_version, os, device, screen, country`;

// started_at is part of the key here (the list reads by time window), so it is a plain column: every
// delta of a session carries the start its writer knows (from start, or loaded from `sessions`).
const SEARCH_COLUMNS = `project_id ${LC}, session_id String,
  version ${AGG('max', 'UInt64')}, updated_at ${AGG('max', T)},
  visitor_id ${AGG('max', 'String')}, user_id ${AGG('anyLast', 'Nullable(String)')},
  started_at ${T}, first_event_at ${AGG('min', `Nullable(${T})`)}, last_event_at ${AGG('max', `Nullable(${T})`)},
  first_url ${AGG('max', 'String')}, last_url ${AGG('anyLast', 'Nullable(String)')},
  ${counterColumns},
  tab_ids ${AGG('groupUniqArrayArray', 'Array(String)')},
  user_agent ${AGG('max', 'String')}, browser ${AGG('max', LC)}, browser_version ${AGG('max', LC)},
  os ${AGG('max', LC)}, device ${AGG('max', LC)}, screen ${AGG('max', LC)}, country ${AGG('max', LC)},
  ${DERIVED},
  INDEX user_bf user_id TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX visitor_bf visitor_id TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX session_bf session_id TYPE bloom_filter(0.01) GRANULARITY 1`;

const sessionsTable = (name: string) => table(name, SESSION_COLUMNS, 'AggregatingMergeTree', `ORDER BY (project_id, session_id)
TTL toDateTime(updated_at) + INTERVAL $days DAY`, BY_SESSION);
/** The list's copy; `granuleRows` sets index_granularity (migration 11: see search-granules.ts). */
export const searchTable = (name: string, granuleRows?: number) => table(name, SEARCH_COLUMNS, 'AggregatingMergeTree', `ORDER BY (project_id, started_at, session_id)
TTL toDateTime(updated_at) + INTERVAL $days DAY${granuleRows ? `\nSETTINGS index_granularity = ${granuleRows}` : ''}`, BY_SESSION);

/** Old (ReplacingMergeTree, one full row per version) → one delta row holding the newest totals. */
const BACKFILL_SELECT = `project_id, session_id, version, updated_at, visitor_id, nullIf(user_id, ''), started_at,
  if(event_count > 0, first_event_at, NULL), if(event_count > 0, ended_at, NULL), first_url, nullIf(last_url, ''), referrer,
  ${COUNTERS.join(', ')}, tab_ids, user_agent, browser, browser_version, os, device, screen, language, timezone, country`;
const BACKFILL_COLUMNS = BACKFILL_SELECT.replace("nullIf(user_id, '')", 'user_id').replace("if(event_count > 0, first_event_at, NULL)", 'first_event_at')
  .replace('if(event_count > 0, ended_at, NULL)', 'last_event_at').replace("nullIf(last_url, '')", 'last_url');

async function engineOf(driver: Driver, ddl: Ddl, name: string): Promise<string | null> {
  const rows = await driver.query<{ engine: string }>(
    'SELECT engine FROM system.tables WHERE database = {db:String} AND name = {name:String}',
    { db: ddl.target.db, name: ddl.local(name) },
  );
  return rows[0]?.engine ?? null;
}
const converted = (engine: string | null) => !!engine && engine.endsWith('AggregatingMergeTree');

async function isEmpty(driver: Driver, ddl: Ddl, name: string): Promise<boolean> {
  const rows = await driver.query<{ n: string | number }>(`SELECT count() AS n FROM ${ddl.target.db}.${name}`);
  return Number(rows[0]?.n ?? 0) === 0;
}

/**
 * A lock older than this is taken for a dead holder's (a crash mid-conversion): the copy of millions of
 * sessions fits well within it; a backend restarted right after such a crash waits out the rest.
 */
const LOCK_STALE_MS = 10 * 60_000;

/**
 * Builds the aggregating tables beside the old ones, copies the old totals in, and swaps names, under
 * a lock and looking before it acts: a rerun after a crash only repeats harmless work.
 */
async function convert(driver: Driver, ddl: Ddl): Promise<void> {
  const { db } = ddl.target;
  const done = async () => converted(await engineOf(driver, ddl, 'sessions'));
  if (await done()) return;
  const exec = async (statements: string[]) => {
    for (const s of statements) await driver.command(s);
  };
  const drop = (n: string) => `DROP TABLE IF EXISTS ${db}.${n}${ddl.on}${ddl.clustered ? ' SYNC' : ''}`;
  const l = (n: string) => `${db}.${ddl.local(n)}`;
  const lock = { db, on: ddl.on, name: 'migration_6_lock', staleMs: LOCK_STALE_MS };
  await withTableLock(driver, lock, async () => {
    if (await done()) return;
    await exec(ddl.render(sessionsTable('sessions_v6')));
    await exec(ddl.render(searchTable('session_search_v6')));
    // Copies made only into empty tables: summing rows, a second copy would double every counter.
    if (await isEmpty(driver, ddl, 'sessions_v6')) {
      await driver.command(`INSERT INTO ${db}.sessions_v6 (${BACKFILL_COLUMNS}) SELECT ${BACKFILL_SELECT} FROM ${db}.sessions FINAL`);
    }
    if (await isEmpty(driver, ddl, 'session_search_v6')) {
      await driver.command(`INSERT INTO ${db}.session_search_v6 (${SEARCH_COPY_COLUMNS}) SELECT ${SEARCH_COPY_COLUMNS} FROM ${db}.sessions_v6`);
    }
    await driver.command(`DROP VIEW IF EXISTS ${db}.session_search_mv${ddl.on}`);
    await driver.command(`RENAME TABLE ${l('sessions')} TO ${l('sessions_v5')}, ${l('sessions_v6')} TO ${l('sessions')},
      ${l('session_search')} TO ${l('session_search_v5')}, ${l('session_search_v6')} TO ${l('session_search')}${ddl.on}`);
    if (ddl.clustered) {
      // Distributed tables keep the columns they were made with: re-create them over the new local tables.
      for (const name of ['sessions', 'session_search']) await exec([drop(name), ddl.distributed(name, BY_SESSION), drop(`${name}_v6`)]);
    }
    await exec([drop(ddl.local('sessions_v5')), drop(ddl.local('session_search_v5'))]);
  }, done);
}

/** What copies each delta written to `sessions` into the list's copy. */
export const SEARCH_COPY_VIEW = view('session_search_mv', 'session_search', `SELECT ${SEARCH_COPY_COLUMNS} FROM $db.sessions`);

export const SESSION_TOTALS_STEPS: Step[] = [run(convert), SEARCH_COPY_VIEW];
