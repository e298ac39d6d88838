import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createRemoteDriver, openStore } from '../src/index.js';
import { spawnChdbHttpServer, type SpawnedChdbHttpServer } from '../testing/index.js';
import { storeContract } from './store-contract.js';

// The store contract on the remote driver (@clickhouse/client over real HTTP). With CLICKHOUSE_URL set
// (http://user:pass@host:8123) it runs against that server; otherwise against the ClickHouse-HTTP
// stand-in over chDB, spawned as its own process (Debian's clickhouse-server 18.16 lacks DateTime64,
// CODEC and TTL, so no real server runs here). It uses a throwaway database and drops it afterwards.
const external = process.env.CLICKHOUSE_URL;
const dir = mkdtempSync(join(tmpdir(), 'tandem-remote-'));
let standIn: SpawnedChdbHttpServer | undefined;
let url = external ?? '';

beforeAll(async () => {
  if (external) return;
  standIn = await spawnChdbHttpServer({ dataDir: join(dir, 'data') });
  url = standIn.url;
}, 60_000);
afterAll(async () => {
  await standIn?.close();
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

const database = `tandem_test_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
storeContract(external ? `remote ClickHouse ${external}` : 'remote driver over the chDB HTTP stand-in', () => ({
  database,
  open: () => openStore({ clickhouseUrl: url, database, maxDelayMs: 20 }),
  destroy: async () => {
    const driver = createRemoteDriver(url);
    await driver.command(`DROP DATABASE IF EXISTS ${database}`);
    await driver.close();
  },
}));
