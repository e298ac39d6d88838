import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type TandemStore } from '@tandem/storage';
import { spawnChdbHttpServer, type SpawnedChdbHttpServer } from '@tandem/storage/testing';
import { bootstrap } from '../src/bootstrap.js';
import { verifyPassword } from '../src/auth/password.js';
import { withDefaults } from '../src/config.js';

/**
 * First start of several backends on one fresh database at the same moment (issue 9): each bootstrap
 * looks for a project, finds none and would create its own. Two stores (two clients, as two processes
 * have) on the ClickHouse-HTTP stand-in run bootstrap concurrently; one project and one admin result.
 */
const dir = mkdtempSync(join(tmpdir(), 'tandem-boot-'));
let server: SpawnedChdbHttpServer;
const stores: TandemStore[] = [];
let n = 0;

beforeAll(async () => {
  server = await spawnChdbHttpServer({ dataDir: join(dir, 'data') });
}, 60_000);
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close().catch(() => {})));
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

async function freshDatabase(count: number): Promise<TandemStore[]> {
  const database = `tandem_boot_${Date.now()}_${n++}`;
  const opened = await Promise.all(Array.from({ length: count }, () => openStore({ clickhouseUrl: server.url, database })));
  stores.push(...opened);
  return opened;
}

describe('bootstrap on a shared database', () => {
  it('creates one project and one admin when three nodes start together with generated values', async () => {
    const nodes = await freshDatabase(3);
    const config = withDefaults({ dataDir: dir });
    const results = await Promise.all(nodes.map((s) => bootstrap(s, config)));
    expect(new Set(results.map((r) => r.projectId)).size).toBe(1);
    expect(new Set(results.map((r) => r.projectKey)).size).toBe(1);
    expect(results.filter((r) => r.createdProject)).toHaveLength(1);
    const creators = results.filter((r) => r.createdAdmin);
    expect(creators).toHaveLength(1);
    // Only the creator shows a password, and it is the stored one.
    expect(results.filter((r) => r.generatedPassword)).toEqual(creators);
    expect(await nodes[0].listProjects()).toHaveLength(1);
    const agents = await nodes[1].listAgents(results[0].projectId);
    expect(agents).toHaveLength(1);
    expect(await verifyPassword(creators[0].generatedPassword!, agents[0].passwordHash)).toBe(true);
    // The lock is released: no lock table is left behind.
    const locks = await nodes[2].driver.query(`SELECT name FROM system.tables WHERE name LIKE '%_lock' AND database LIKE 'tandem_boot_%'`);
    expect(locks).toEqual([]);
  });

  it('runs exclusive sections one at a time across stores', async () => {
    const nodes = await freshDatabase(2);
    let inside = 0;
    let most = 0;
    const section = async () => {
      inside++;
      most = Math.max(most, inside);
      await new Promise((r) => setTimeout(r, 300));
      inside--;
      return inside;
    };
    await Promise.all([...nodes, ...nodes].map((s) => s.exclusive('test', section)));
    expect(most).toBe(1);
  });

});
