import { createChdbDriver } from './chdb-driver.js';
import { createRemoteDriver } from './remote-driver.js';
import { createStore } from './store.js';
import type { StoreOptions, TandemStore } from './types.js';

export * from './types.js';
export { createChdbDriver } from './chdb-driver.js';
export { createClickHouseClientDriver, createRemoteDriver } from './remote-driver.js';
export { createStore, STORE_DEFAULTS } from './store.js';
export { MIGRATIONS, renderMigration, type Migration } from './migrations.js';
export { Ddl, type DdlTarget, type Step } from './ddl.js';
export { createSearch, type SearchOptions } from './search.js';
export { publicRecording } from './recordings.js';

export interface OpenStoreOptions extends StoreOptions {
  /** chDB data directory (default `./.tandem-data`); one process at a time may open it. */
  dataDir?: string;
  /** A ClickHouse server URL; when set, no chDB session (and no data directory) is opened. */
  clickhouseUrl?: string;
  /** Cluster for the DDL (with clickhouseUrl only); defaults to the CLICKHOUSE_CLUSTER environment variable. */
  clickhouseCluster?: string;
}

/** Opens storage (remote when a URL is given, embedded chDB otherwise) and applies pending migrations. */
export async function openStore(opts: OpenStoreOptions = {}): Promise<TandemStore> {
  const cluster = opts.clickhouseCluster ?? opts.cluster ?? (process.env.CLICKHOUSE_CLUSTER || undefined);
  // A cluster is a set of ClickHouse servers; the embedded engine is one process with one directory.
  if (cluster && !opts.clickhouseUrl) throw new Error('CLICKHOUSE_CLUSTER needs CLICKHOUSE_URL (a cluster is reached over HTTP)');
  const driver = opts.clickhouseUrl ? createRemoteDriver(opts.clickhouseUrl) : createChdbDriver(opts.dataDir ?? './.tandem-data');
  // Embedded chDB is one process's (its directory is locked): that process's writer is the only one.
  const store = createStore(driver, { ...opts, cluster, soleWriter: opts.soleWriter ?? !opts.clickhouseUrl });
  try {
    await store.migrate();
  } catch (err) {
    await driver.close().catch(() => {});
    throw err;
  }
  return store;
}
