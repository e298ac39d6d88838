import { randomUUID } from 'node:crypto';
import { alter, run, type Step } from './ddl.js';
import type { Row } from './derive.js';
import { appendCarried, loadCarried, saveCarried, sealCarried, type SealedRows } from './writer-carry-file.js';
import type { WriterStats } from './types.js';

/**
 * The writer's session delta rows between their group's `events` INSERT and the `sessions` INSERT that takes
 * them (writer.ts: deferred deltas, carried rows), and that INSERT.
 *
 * Every delta INSERT has its own `insert_deduplication_token`, a random UUID sealed with its rows in the carry file
 * BEFORE the INSERT is sent (writer-carry-file.ts). The same rows sent again with the same token are dropped by
 * ClickHouse (migration 21's deduplication window on `sessions` and on its views' tables `session_search` and
 * `session_facets`): a retry of an INSERT that landed although it reported a failure, or the next process after
 * a kill between the INSERT's success and the file's removal. The token is never derived from the rows: two
 * writers' equal rows (one ClickHouse, the same millisecond, the same counts) never share one, and both count.
 * A sealed INSERT is always sent again alone, with exactly its rows: ClickHouse drops a whole INSERT whose
 * token it has seen, so a row added to it would be lost.
 */

/**
 * Migration 21: the tables a delta INSERT writes remember the tokens of their last DELTA_DEDUP_WINDOW INSERTs
 * (`non_replicated_deduplication_window`; 0, nothing remembered, by default). The views' tables need it too: a
 * block dropped by `sessions` still goes through its views, which drop it by a token derived from the source's.
 * Every INSERT into these tables must have a token of its own (Driver.insert gives one): a table with a window
 * drops an INSERT without a token whose content it has seen. A migration that makes one of these tables again (a
 * copy and rename) must give the new table this setting. A re-sent INSERT is dropped while its token is among the
 * window's: the next process re-sends at its first flush, after at most the other writers' INSERTs meanwhile
 * (embedded chDB: none). On a cluster the tables are Replicated, whose window is on by default (10,000 INSERTs,
 * and one hour on ClickHouse 26): nothing to set.
 */
const DELTA_DEDUP_WINDOW = 10_000;
export const DELTA_DEDUP_STEPS: Step[] = [
  run(async (driver, ddl) => {
    if (ddl.clustered) return;
    for (const name of ['sessions', 'session_search', 'session_facets']) {
      for (const statement of ddl.render(alter(name, `MODIFY SETTING non_replicated_deduplication_window = ${DELTA_DEDUP_WINDOW}`))) await driver.command(statement);
    }
  }),
];

/** Sends one delta INSERT: `rows` into `sessions` with `token` as its deduplication token. */
export type DeltaInsert = (rows: Row[], token: string) => Promise<void>;

/** A failed delta INSERT is tried again this soon, with its token, before its rows wait for a later flush. */
const DELTA_RETRY_DELAYS_MS = [100, 400];

export function createDeltaQueue(carryFile: string | undefined, stats: WriterStats) {
  const left = loadCarried(carryFile);
  /** Rows no INSERT took yet: deferred, or left unsent by a process that died (after the last seal). */
  let open: Row[] = left.open;
  /** INSERTs given their token and not known to have succeeded, in order: refused ones, or a dead process's. */
  const sealed: SealedRows[] = left.sealed;
  /** The carry file holds rows (written by this process or left by one that died). */
  let fileHolds = open.length > 0 || sealed.length > 0;

  const pending = () => open.length + sealed.reduce((n, s) => n + s.rows.length, 0);

  /** In the file before the group's ack: a process killed from then on leaves them to its successor. */
  function keep(rows: Row[]): boolean {
    const kept = rows.length > 0 && appendCarried(carryFile, rows);
    if (kept) fileHolds = true;
    return kept;
  }

  /** Rows for the next delta INSERT (in the file already when `keep` said so). */
  function add(rows: Row[]): void {
    open.push(...rows);
  }

  /**
   * Seals the open rows with a new token, then sends every sealed INSERT in order, each tried a few times.
   * Returns whether nothing is left; otherwise the file is rewritten with the sealed INSERTs left (nothing is
   * appended meanwhile: the writer writes one group at a time).
   */
  async function write(insert: DeltaInsert): Promise<boolean> {
    if (open.length > 0) {
      const token = randomUUID();
      if (fileHolds) sealCarried(carryFile, token);
      sealed.push({ token, rows: open });
      open = [];
    }
    while (sealed.length > 0) {
      if (!(await send(sealed[0], insert))) {
        stats.deltaRowsCarried += pending();
        if (carryFile) fileHolds = saveCarried(carryFile, sealed) || fileHolds;
        return false;
      }
      sealed.shift();
    }
    if (fileHolds) fileHolds = !saveCarried(carryFile, []);
    return true;
  }

  async function send(s: SealedRows, insert: DeltaInsert): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await insert(s.rows, s.token);
        return true;
      } catch {
        if (attempt >= DELTA_RETRY_DELAYS_MS.length) return false;
        await new Promise((r) => setTimeout(r, DELTA_RETRY_DELAYS_MS[attempt]));
      }
    }
  }

  return { pending, keep, add, write };
}
