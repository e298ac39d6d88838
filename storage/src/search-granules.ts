import { type Ddl, alter, run, type Step } from './ddl.js';
import { withTableLock } from './lock.js';
import { SEARCH_COPY_COLUMNS, SEARCH_COPY_VIEW, searchTable } from './session-totals.js';
import type { Driver } from './types.js';

/**
 * Migration 11 (issue 10, search in 100 ms): `session_search` rebuilt with granules of 256 rows instead
 * of ClickHouse's 8,192.
 *
 * Why: the list re-checks its candidate sessions with FINAL over their exact keys (search.ts,
 * newestByKeys). ClickHouse reads whole granules, so each key costs a granule of every part that holds
 * one of its delta rows, with every summary column: 50 keys spread over a month read ~40 % of an
 * unmerged 3M-row table at 8,192 rows a granule. Measured on 1M generated sessions (unmerged, 3 delta rows
 * each; docs/decisions.md, sixth session), 256 beat 1,024 on the rare filters (q "user-4242" 529 → 345 ms
 * CPU, Samsung + errors + ≥ 25 min 976 → 775) and matched it on scans and the chart. Not smaller: marks,
 * the primary index and the bloom filters (one per granule) grow as granules shrink (at 256 rows: ~12k
 * granules and ~6 MB of marks per million delta rows).
 *
 * The setting is fixed when a table is created, so the table is built anew beside the old one, filled with
 * its rows (delta rows as they are: nothing is merged, nothing counted twice) and swapped in by one RENAME,
 * under a lock like migration 6 (session-totals.ts): backends starting together wait for the one
 * migrating. As with migration 6, an install upgrades with one backend first: a backend still running the
 * old code while the copy runs would write deltas that reach `sessions` but not the new copy.
 */
export const SEARCH_GRANULE_ROWS = 256;

/** A lock older than this is a dead holder's (the copy of a few million delta rows takes well under it). */
const LOCK_STALE_MS = 10 * 60_000;

/** `name`'s index_granularity (8192 when not set), or null when the table does not exist. */
export async function granuleRows(driver: Driver, ddl: Ddl, name: string): Promise<number | null> {
  const rows = await driver.query<{ engine_full: string }>(
    'SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = {name:String}',
    { db: ddl.target.db, name: ddl.local(name) },
  );
  if (!rows[0]) return null;
  const m = /index_granularity = (\d+)/.exec(rows[0].engine_full);
  return m ? Number(m[1]) : 8192;
}

async function rebuild(driver: Driver, ddl: Ddl): Promise<void> {
  const { db } = ddl.target;
  const done = async () => (await granuleRows(driver, ddl, 'session_search')) === SEARCH_GRANULE_ROWS;
  const exec = async (statements: string[]) => {
    for (const s of statements) await driver.command(s);
  };
  const drop = (n: string) => `DROP TABLE IF EXISTS ${db}.${n}${ddl.on}${ddl.clustered ? ' SYNC' : ''}`;
  const l = (n: string) => `${db}.${ddl.local(n)}`;
  const lock = { db, on: ddl.on, name: 'migration_11_lock', staleMs: LOCK_STALE_MS };
  if (!(await done())) {
    await withTableLock(driver, lock, async () => {
      if (await done()) return;
      // A copy left by a crash may be partial: start it over (the old table is untouched until the RENAME).
      await exec([...(ddl.clustered ? [drop('session_search_v11')] : []), drop(ddl.local('session_search_v11'))]);
      await exec(ddl.render(searchTable('session_search_v11', SEARCH_GRANULE_ROWS)));
      // The view goes first: a delta written from here on reaches `sessions` only (never one copy twice);
      // it is re-created over the new table below (SEARCH_COPY_VIEW).
      await driver.command(`DROP VIEW IF EXISTS ${db}.session_search_mv${ddl.on}`);
      await driver.command(`INSERT INTO ${db}.session_search_v11 (${SEARCH_COPY_COLUMNS}) SELECT ${SEARCH_COPY_COLUMNS} FROM ${db}.session_search`);
      await driver.command(`RENAME TABLE ${l('session_search')} TO ${l('session_search_v10')}, ${l('session_search_v11')} TO ${l('session_search')}${ddl.on}`);
      // On a cluster the Distributed `session_search` reads `session_search_local` by name: now the new one.
      if (ddl.clustered) await exec([drop('session_search_v11')]);
    }, done);
  }
  // Also after a crash between the RENAME and this drop (the rebuild is then done).
  await exec([drop(ddl.local('session_search_v10'))]);
}

export const SEARCH_GRANULES_STEPS: Step[] = [run(rebuild), SEARCH_COPY_VIEW];

/**
 * Migration 13: `session_search` writes compressed blocks of ~8 KB instead of 64 KB–1 MB. The re-check reads a
 * granule per candidate key and part, but ClickHouse decompresses the whole compressed block that holds it, for
 * each of the ~22 summary columns: at 256-row granules one key decompressed 8–30 granules' worth of every column.
 * Measured on the bench's 1M sessions (unmerged, 46 keys of q "user-4242" spread over the table, the FINAL re-check
 * alone, CPU ms at load 10–13, 4 interleaved runs): 64 KB–1 MB blocks 144–265, 8 KB 88–147, 2 KB 82–129;
 * on disk +6 % at 8 KB, +14 % at 2 KB. New parts (inserts, merges) take it; stored parts at their next merge.
 */
export const SEARCH_BLOCK_BYTES = 8192;
export const SEARCH_BLOCKS_STEPS: Step[] = [
  alter('session_search', `MODIFY SETTING min_compress_block_size = ${SEARCH_BLOCK_BYTES}, max_compress_block_size = ${SEARCH_BLOCK_BYTES}`),
];

/**
 * Migration 17: `session_search` starts a compressed block at every granule (min_compress_block_size = 1; blocks still
 * at most SEARCH_BLOCK_BYTES). At 8 KB a block held 4 granules of a number column (256 rows × 8 bytes), 32 of a
 * LowCardinality column's keys: the re-check (one granule per candidate key, part and column) decompressed ~3.7× the
 * rows it needed (Samsung + errors + ≥ 25 min unmerged: 34.5 MB for 153 granules of 22 columns). Measured on the
 * bench's 1M sessions, copies of the table with the same parts swapped in by EXCHANGE, interleaved (docs/decisions.md,
 * eleventh session, s11-recheck): the re-check alone 51 → 38 ms CPU; on disk +6 %; scans unchanged. New parts (inserts,
 * merges) take it; stored parts at their next merge.
 */
export const SEARCH_BLOCK_MIN_BYTES = 1;
export const SEARCH_GRANULE_BLOCKS_STEPS: Step[] = [
  alter('session_search', `MODIFY SETTING min_compress_block_size = ${SEARCH_BLOCK_MIN_BYTES}`),
];
