import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@tandem/protocol';
import { openStore, type TandemStore } from '@tandem/storage';
import { spawnChdbHttpServer, type SpawnedChdbHttpServer } from '@tandem/storage/testing';
import { BackendProcess, freePort, tempDataDir } from './support/backend-process.js';

/**
 * Issue 9: two backend processes started at the same moment on one fresh store (the ClickHouse-HTTP
 * stand-in over chDB, its own process), with no project key and no admin password in the environment,
 * so each would generate its own. The first-start bootstrap runs under a lock shared through the
 * database: one project, one admin, and both nodes take the same key and the same login.
 */
let dir: string;
let server: SpawnedChdbHttpServer;
let store: TandemStore | undefined;
const nodes: BackendProcess[] = [];

beforeAll(async () => {
  dir = await tempDataDir();
  server = await spawnChdbHttpServer({ dataDir: path.join(dir, 'store') });
  // Migrated first (the migrations have their own lock, tested in storage): what races below is the
  // bootstrap alone, and two cold migrations on a loaded machine would outlast the start timeout.
  store = await openStore({ clickhouseUrl: server.url });
  const secret = randomBytes(32).toString('base64url');
  for (const name of ['a', 'b']) {
    nodes.push(new BackendProcess(await freePort(), path.join(dir, name), {
      TANDEM_SECRET: secret, CLICKHOUSE_URL: server.url,
      // Unset (empty = unset): each node would pick a random key and password of its own.
      TANDEM_PROJECT_KEY: '', TANDEM_ADMIN_EMAIL: '', TANDEM_ADMIN_PASSWORD: '',
    }));
  }
  await Promise.all(nodes.map((n) => n.start()));
}, 180_000);

afterAll(async () => {
  await store?.close().catch(() => {});
  for (const n of nodes) await n.stop().catch(() => {});
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

const printed = (node: BackendProcess, label: string) => new RegExp(`^  ${label} +(\\S+)`, 'm').exec(node.output)?.[1];

describe('two backends starting together on a fresh store', () => {
  it('make one project and one admin, and both accept the same key and login', async () => {
    const keys = nodes.map((n) => printed(n, 'Project key'));
    expect(keys[0]).toMatch(/^pk_/);
    expect(keys[1]).toBe(keys[0]);
    // Exactly one node generated (and shows) the admin password; the other says it was generated before.
    const generated = nodes.filter((n) => /Admin password \S+ +\(generated now/.test(n.output));
    expect(generated).toHaveLength(1);
    const password = printed(generated[0], 'Admin password')!;

    const projects = await store!.listProjects();
    expect(projects.map((p) => p.key)).toEqual([keys[0]]);
    const agents = await store!.listAgents(projects[0].id);
    expect(agents.map((a) => [a.email, a.role])).toEqual([['admin@tandem.local', 'admin']]);

    for (const node of nodes) {
      const login = await fetch(`${node.url}/api/v1/auth/login`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'admin@tandem.local', password }),
      });
      expect(login.status).toBe(200);
      const start = await fetch(`${node.url}/ingest/v1/start`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ v: PROTOCOL_VERSION, projectKey: keys[0], url: 'https://shop.test/', clientTime: Date.now() }),
      });
      expect(start.status).toBe(200);
    }
  });
});
