import { createAccounts } from './accounts.js';
import { checkIdentifier } from './encode.js';
import { Ddl } from './ddl.js';
import { withTableLock } from './lock.js';
import { migrate } from './migrations.js';
import { createReaders } from './readers.js';
import { createRecordings } from './recordings.js';
import type { Driver, StoreOptions, TandemStore } from './types.js';
import { createWriter } from './writer.js';

/** Defaults, with the reason for each in types.ts (StoreOptions). */
export const STORE_DEFAULTS = {
  retentionDays: 30,
  recompressAfterMinutes: 60,
  maxPendingEvents: 5_000,
  maxDelayMs: 50,
  maxQueuedEvents: 200_000,
  database: 'tandem',
} as const;

/**
 * store.exclusive(): a holder that died (kill -9 between CREATE and DROP) blocks the others this long.
 * The work done under it (a start's bootstrap) takes a few queries; a minute covers a very slow server.
 */
const EXCLUSIVE_STALE_MS = 60_000;

/** Tandem's Store over any Driver. Does not migrate: call migrate() (openStore does). */
export function createStore(driver: Driver, opts: StoreOptions = {}): TandemStore {
  const db = checkIdentifier(opts.database ?? STORE_DEFAULTS.database);
  const retentionDays = opts.retentionDays ?? STORE_DEFAULTS.retentionDays;
  const writer = createWriter(driver, db, {
    maxPendingEvents: Math.max(1, opts.maxPendingEvents ?? STORE_DEFAULTS.maxPendingEvents),
    maxDelayMs: Math.max(0, opts.maxDelayMs ?? STORE_DEFAULTS.maxDelayMs),
    maxQueuedEvents: Math.max(1, opts.maxQueuedEvents ?? STORE_DEFAULTS.maxQueuedEvents),
    carryFile: opts.carryFile,
    soleWriter: opts.soleWriter ?? false,
  });
  const readers = createReaders(driver, db);
  const accounts = createAccounts(driver, db);
  let closed: Promise<void> | null = null;

  return {
    driver,
    stats: writer.stats,
    migrate: () => migrate(driver, {
      db, retentionDays, cluster: opts.cluster, recompressAfterMinutes: opts.recompressAfterMinutes ?? STORE_DEFAULTS.recompressAfterMinutes,
    }),
    async exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
      const on = new Ddl({ db, days: retentionDays, cluster: opts.cluster ? checkIdentifier(opts.cluster) : undefined }).on;
      const lock = { db, on, name: `${checkIdentifier(name)}_lock`, staleMs: EXCLUSIVE_STALE_MS };
      return (await withTableLock(driver, lock, fn)) as T;
    },
    ...accounts,
    startSession: writer.startSession,
    getAckSeq: writer.getAckSeq,
    writeBatch: writer.writeBatch,
    flush: writer.flush,
    setSeqClaimer: writer.setSeqClaimer,
    ...readers,
    ...createRecordings(driver, db),
    close() {
      closed ??= (async () => {
        try {
          await writer.flush();
        } finally {
          writer.stop();
          await driver.close();
        }
      })();
      return closed;
    },
  };
}
