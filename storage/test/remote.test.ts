import { describe } from 'vitest';
import { createRemoteDriver, openStore } from '../src/index.js';
import { storeContract } from './store-contract.js';

const url = process.env.CLICKHOUSE_URL;

// A ClickHouse server is needed and none runs here (Debian's clickhouse-server 18.16 lacks DateTime64,
// CODEC and TTL). Set CLICKHOUSE_URL=http://user:pass@host:8123 to run the contract on the remote driver;
// it uses a throwaway database and drops it afterwards.
describe.skipIf(!url)('remote ClickHouse (set CLICKHOUSE_URL to run)', () => {
  const database = `tandem_test_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  storeContract(`remote ClickHouse ${url}`, () => ({
    database,
    open: () => openStore({ clickhouseUrl: url, database, maxDelayMs: 20 }),
    destroy: async () => {
      const driver = createRemoteDriver(url!);
      await driver.command(`DROP DATABASE IF EXISTS ${database}`);
      await driver.close();
    },
  }));
});
