import { createChdbDriver } from './chdb-driver.js';
import { createRemoteDriver } from './remote-driver.js';
import { createStore } from './store.js';
import type { StoreOptions, TandemStore } from './types.js';

export * from './types.js';
export { createChdbDriver } from './chdb-driver.js';
export { createClickHouseClientDriver, createRemoteDriver } from './remote-driver.js';
export { createStore, STORE_DEFAULTS } from './store.js';
export { MIGRATIONS } from './migrations.js';
export { createSearch, type SearchOptions } from './search.js';
export { publicRecording } from './recordings.js';

export interface OpenStoreOptions extends StoreOptions {
  /** chDB data directory (default `./.tandem-data`); one process at a time may open it. */
  dataDir?: string;
  /** A ClickHouse server URL; when set, no chDB session (and no data directory) is opened. */
  clickhouseUrl?: string;
}

/** Opens storage (remote when a URL is given, embedded chDB otherwise) and applies pending migrations. */
export async function openStore(opts: OpenStoreOptions = {}): Promise<TandemStore> {
  const driver = opts.clickhouseUrl ? createRemoteDriver(opts.clickhouseUrl) : createChdbDriver(opts.dataDir ?? './.tandem-data');
  const store = createStore(driver, opts);
  try {
    await store.migrate();
  } catch (err) {
    await driver.close().catch(() => {});
    throw err;
  }
  return store;
}
