import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { createClickHouseClientDriver, createStore } from '../src/index.js';
import { storeContract } from './store-contract.js';

// The remote driver's code (@clickhouse/client: formats, query_params, row streams) against chDB
// plugged in as the client's connection: the remote path runs here without a ClickHouse server.
const dir = mkdtempSync(join(tmpdir(), 'tandem-client-'));

storeContract('@clickhouse/client over chdb/connection', () => ({
  database: 'tandem',
  open: async () => {
    // chdb ships its own copy of @clickhouse/client-common's types: same shape, different declaration.
    const connection = createChdbConnection({ path: dir }) as unknown as NonNullable<Parameters<typeof createClient>[0]>['connection'];
    const client = createClient({ connection });
    const store = createStore(createClickHouseClientDriver(client), { maxDelayMs: 20 });
    await store.migrate();
    return store;
  },
  destroy: async () => rmSync(dir, { recursive: true, force: true }),
}));
