import { checkIdentifier } from './encode.js';
import type { Driver } from './types.js';

/**
 * A lock shared by every process using one database: a table `<db>.<name>` exists while it is held.
 * CREATE TABLE without IF NOT EXISTS succeeds for one caller only (on a cluster, ON CLUSTER: the DDL
 * queue orders the two CREATEs and the second fails), so when several backends start together, one runs
 * and the others wait for it. Used by migration 6 (converting the session tables) and by the first-start
 * bootstrap (one default project, one admin).
 */
export interface TableLock {
  db: string;
  /** ` ON CLUSTER c` or ''. */
  on: string;
  /** Table name, e.g. `migration_6_lock`. */
  name: string;
  /** A lock held longer than this is taken for a dead holder's (a crash, a kill) and taken over once. */
  staleMs: number;
}

const POLL_MS = 250;

/**
 * Runs `fn` while holding the lock, and returns its result; `done()` (checked after every failed try)
 * ends the wait early without running `fn` (returns undefined): the holder did the work.
 */
export async function withTableLock<T>(
  driver: Driver, lock: TableLock, fn: () => Promise<T>, done: () => Promise<boolean> = async () => false,
): Promise<T | undefined> {
  const table = `${checkIdentifier(lock.db)}.${checkIdentifier(lock.name)}`;
  let tookOver = false;
  /** How long ago the lock was taken (its table's creation), or null when it is free. */
  const heldFor = async (): Promise<number | null> => {
    const rows = await driver.query<{ age_s: number | string }>(
      `SELECT dateDiff('second', metadata_modification_time, now()) AS age_s FROM system.tables
       WHERE database = {db:String} AND name = {name:String}`, { db: lock.db, name: lock.name });
    return rows.length ? Number(rows[0].age_s) * 1000 : null;
  };
  for (;;) {
    let age: number | null = null;
    try {
      // Looking first keeps the common wait quiet (the client logs every refused CREATE as an error).
      age = await heldFor();
      if (age === null) {
        await driver.command(`CREATE TABLE ${table}${lock.on} (taken_at DateTime) ENGINE = Log`);
        break;
      }
      throw new Error(`${table} is held by another process (for ${Math.round(age / 1000)} s); drop it if none runs`);
    } catch (err) {
      if (await done()) return undefined;
      // Refused while free: lost a race (wait) or cannot create tables at all (say so).
      if (age === null && (await heldFor()) === null) throw err;
      if (age === null || age < lock.staleMs) {
        await new Promise((r) => setTimeout(r, POLL_MS));
        continue;
      }
      if (tookOver) throw err;
      tookOver = true; // the holder died mid-way: callers' work under the lock is safe to repeat
      await driver.command(`DROP TABLE IF EXISTS ${table}${lock.on}`);
    }
  }
  try {
    return await fn();
  } finally {
    await driver.command(`DROP TABLE IF EXISTS ${table}${lock.on}`);
  }
}
