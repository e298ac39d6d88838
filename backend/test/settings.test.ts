import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentInfo, ApiKeyInfo, CreateApiKeyResponse, ProjectInfo } from '@tandem/protocol';
import { hashPassword } from '../src/auth/password.js';
import { configFromEnv } from '../src/config.js';
import { ADMIN, login, postJson, startBody, startTab, startTestServer, type TestServer } from './helpers.js';
import { agentSocket, connected } from './live-helpers.js';

// One data directory for the whole file (chDB opens one per process); the restart test reuses it.
let dataDir: string;
let server: TestServer;
let admin: string;

const LIMITS = { loginRateLimit: { perSecond: 100, burst: 100 }, startRateLimit: { perSecond: 100, burst: 100 } };

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'tandem-settings-'));
  server = await startTestServer(LIMITS, dataDir);
  admin = await login(server);
});
afterAll(async () => {
  await server?.dispose();
  await rm(dataDir, { recursive: true, force: true });
});

interface Res<T = any> {
  status: number;
  json: T;
  text: string;
}

/** A call with the dashboard's cookie (JSON body when given). */
async function call<T = any>(method: string, route: string, opts: { cookie?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Res<T>> {
  const headers: Record<string, string> = { ...(opts.cookie ? { cookie: opts.cookie } : {}) };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${server.url}${route}`, {
    method,
    headers: { ...headers, ...opts.headers },
    body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

let agentSeq = 0;
/** Adds an agent through the API (as the admin) and signs them in. */
async function addAgent(role: 'admin' | 'agent' = 'agent'): Promise<{ info: AgentInfo; cookie: string; email: string; password: string }> {
  const email = `agent${++agentSeq}-${Date.now()}@example.com`;
  const password = 'a-long-enough-password';
  const r = await call<AgentInfo>('POST', '/api/v1/agents', { cookie: admin, body: { email, name: `Agent ${agentSeq}`, password, role } });
  expect(r.status).toBe(200);
  return { info: r.json, cookie: await login(server, email, password), email, password };
}

/** Project B with its own admin, written straight into storage. */
async function projectB(): Promise<{ id: string; key: string; cookie: string }> {
  const suffix = Math.random().toString(36).slice(2, 10);
  const id = `projectb${suffix}`;
  const key = `pk_b_${suffix}`;
  await server.store.createProject({ id, name: 'B', key, allowedOrigins: [], createdAt: Date.now(), requireConsent: false });
  const email = `admin-b-${suffix}@example.com`;
  await server.store.createAgent({
    id: `adminb${suffix}`, projectId: id, email, name: 'Admin B', role: 'admin',
    passwordHash: await hashPassword('password-of-b'), createdAt: Date.now(), disabled: false,
  });
  return { id, key, cookie: await login(server, email, 'password-of-b') };
}

describe('GET/PATCH /api/v1/project', () => {
  it('shows the project to any agent, with its settings', async () => {
    const r = await call<ProjectInfo>('GET', '/api/v1/project', { cookie: admin });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ id: server.projectId, name: 'Default project', key: server.projectKey, allowedOrigins: [], requireConsent: false, canvasRecording: 'off' });
    const { cookie } = await addAgent('agent');
    expect((await call('GET', '/api/v1/project', { cookie })).json).toEqual(r.json);
  });

  it('refuses the unauthenticated (401) and non-admin edits (403)', async () => {
    expect((await call('GET', '/api/v1/project')).json.error.code).toBe('unauthorized');
    const anon = await call('PATCH', '/api/v1/project', { body: { requireConsent: true } });
    expect([anon.status, anon.json.error.code]).toEqual([401, 'unauthorized']);
    const { cookie } = await addAgent('agent');
    const r = await call('PATCH', '/api/v1/project', { cookie, body: { requireConsent: true } });
    expect([r.status, r.json.error.code]).toEqual([403, 'forbidden']);
    expect((await call<ProjectInfo>('GET', '/api/v1/project', { cookie: admin })).json.requireConsent).toBe(false);
  });

  it('round-trips the consent setting and the name', async () => {
    const on = await call<ProjectInfo>('PATCH', '/api/v1/project', { cookie: admin, body: { requireConsent: true, name: '  Shop  ' } });
    expect(on.status).toBe(200);
    expect(on.json).toMatchObject({ requireConsent: true, name: 'Shop', key: server.projectKey });
    expect((await call<ProjectInfo>('GET', '/api/v1/project', { cookie: admin })).json).toMatchObject({ requireConsent: true, name: 'Shop' });
    // A patch leaves the fields it does not name alone.
    const off = await call<ProjectInfo>('PATCH', '/api/v1/project', { cookie: admin, body: { requireConsent: false } });
    expect(off.json).toMatchObject({ requireConsent: false, name: 'Shop' });
    expect((await server.store.getProject(server.projectId))?.requireConsent).toBe(false);
  });

  it('round-trips the canvas recording level and hands it to trackers in the start answer', async () => {
    const start = async () => (await postJson(`${server.url}/ingest/v1/start`, startBody(server.projectKey))).json.config.canvas;
    expect(await start()).toBe('off');
    const r = await call<ProjectInfo>('PATCH', '/api/v1/project', { cookie: admin, body: { canvasRecording: 'high' } });
    expect([r.status, r.json.canvasRecording]).toEqual([200, 'high']);
    expect((await server.store.getProject(server.projectId))?.canvasRecording).toBe('high');
    expect(await start()).toBe('high');
    const bad = await call('PATCH', '/api/v1/project', { cookie: admin, body: { canvasRecording: 'ultra' } });
    expect([bad.status, bad.json.error.code]).toEqual([400, 'bad_request']);
    await call('PATCH', '/api/v1/project', { cookie: admin, body: { canvasRecording: 'off' } });
    expect(await start()).toBe('off');
  });

  it('normalises allowed origins and applies them to ingest at once (no stale cache)', async () => {
    // Warm the project cache by key first.
    expect((await postJson(`${server.url}/ingest/v1/start`, startBody(server.projectKey), { origin: 'https://elsewhere.test' })).status).toBe(200);
    const r = await call<ProjectInfo>('PATCH', '/api/v1/project', {
      cookie: admin, body: { allowedOrigins: ['https://Shop.Example/', 'http://localhost:3000', 'https://shop.example'] },
    });
    expect(r.status).toBe(200);
    expect(r.json.allowedOrigins).toEqual(['https://shop.example', 'http://localhost:3000']);
    const refused = await postJson(`${server.url}/ingest/v1/start`, startBody(server.projectKey), { origin: 'https://elsewhere.test' });
    expect([refused.status, refused.json.error.code]).toEqual([403, 'origin_not_allowed']);
    expect((await postJson(`${server.url}/ingest/v1/start`, startBody(server.projectKey), { origin: 'https://shop.example' })).status).toBe(200);
    // Back to any origin.
    expect((await call<ProjectInfo>('PATCH', '/api/v1/project', { cookie: admin, body: { allowedOrigins: [] } })).json.allowedOrigins).toEqual([]);
    expect((await postJson(`${server.url}/ingest/v1/start`, startBody(server.projectKey), { origin: 'https://elsewhere.test' })).status).toBe(200);
  });

  it('refuses bad input with 400 and a code', async () => {
    const cases: [unknown, string][] = [
      [{ allowedOrigins: ['shop.example'] }, 'bad_request'],
      [{ allowedOrigins: ['https://shop.example/path'] }, 'bad_request'],
      [{ allowedOrigins: ['ftp://shop.example'] }, 'bad_request'],
      [{ requireConsent: 'yes' }, 'bad_request'],
      [{ name: '' }, 'bad_request'],
      [{ key: 'pk_mine' }, 'bad_request'], // the key is not editable
      ['{"requireConsent":', 'bad_json'],
    ];
    for (const [body, code] of cases) {
      const r = await call('PATCH', '/api/v1/project', { cookie: admin, body });
      expect({ body, status: r.status, code: r.json.error.code }).toEqual({ body, status: 400, code });
    }
    // JSON only: a cross-site form can post text/plain with our cookie, never application/json.
    const plain = await call('PATCH', '/api/v1/project', { cookie: admin, body: '{"requireConsent":true}', headers: { 'content-type': 'text/plain' } });
    expect([plain.status, plain.json.error.code]).toEqual([400, 'bad_request']);
    expect((await call<ProjectInfo>('GET', '/api/v1/project', { cookie: admin })).json.requireConsent).toBe(false);
  });
});

describe('API keys', () => {
  it('creates a key whose secret is shown once and stored hashed, lists and revokes it', async () => {
    const r = await call<CreateApiKeyResponse>('POST', '/api/v1/api-keys', { cookie: admin, body: { name: ' Helpdesk ' } });
    expect(r.status).toBe(200);
    const { key, secret } = r.json;
    expect(secret).toMatch(/^tk_[A-Za-z0-9_-]{43}$/);
    expect(secret.startsWith(key.prefix)).toBe(true);
    expect(key.prefix).toMatch(/^tk_.{8}$/);
    expect(key).toMatchObject({ name: 'Helpdesk', lastUsedAt: null });
    expect(key.createdAt).toBeGreaterThan(Date.now() - 60_000);
    expect(key.createdBy).toBe((await call<{ agent: AgentInfo }>('GET', '/api/v1/auth/me', { cookie: admin })).json.agent.id);

    const list = await call<{ items: ApiKeyInfo[] }>('GET', '/api/v1/api-keys', { cookie: admin });
    expect(list.status).toBe(200);
    expect(list.json.items.find((k) => k.id === key.id)).toEqual(key);
    expect(list.text).not.toContain(secret);
    expect(list.text).not.toContain(secret.slice(12));
    // Stored as a SHA-256, never the secret.
    const stored = (await server.store.listApiKeys(server.projectId)).find((k) => k.id === key.id)!;
    expect(stored.secretHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored)).not.toContain(secret.slice(12));

    expect((await call('DELETE', `/api/v1/api-keys/${key.id}`, { cookie: admin })).status).toBe(204);
    expect((await call<{ items: ApiKeyInfo[] }>('GET', '/api/v1/api-keys', { cookie: admin })).json.items.map((k) => k.id)).not.toContain(key.id);
    const again = await call('DELETE', `/api/v1/api-keys/${key.id}`, { cookie: admin });
    expect([again.status, again.json.error.code]).toEqual([404, 'not_found']);
  });

  it('authenticates API calls with the key, records its use, and refuses it once revoked', async () => {
    const { key, secret } = (await call<CreateApiKeyResponse>('POST', '/api/v1/api-keys', { cookie: admin, body: { name: 'CRM' } })).json;
    const tab = await startTab(server);
    const mint = () => postJson(`${server.url}/api/v1/visitors/${tab.visitorId}/watch_url`, { agent: { id: 'a1', name: 'Ann' } }, { authorization: `Bearer ${secret}` });
    expect((await mint()).status).toBe(200);
    // The use is recorded in the background.
    let lastUsedAt: number | null = null;
    for (let i = 0; i < 50 && !lastUsedAt; i++) {
      lastUsedAt = (await call<{ items: ApiKeyInfo[] }>('GET', '/api/v1/api-keys', { cookie: admin })).json.items.find((k) => k.id === key.id)!.lastUsedAt;
      if (!lastUsedAt) await new Promise((r) => setTimeout(r, 50));
    }
    expect(lastUsedAt).toBeGreaterThan(Date.now() - 60_000);

    expect((await call('DELETE', `/api/v1/api-keys/${key.id}`, { cookie: admin })).status).toBe(204);
    const refused = await mint();
    expect([refused.status, refused.json.error.code]).toEqual([401, 'unauthorized']);
  });

  it('validates the name and is for admins only', async () => {
    for (const body of [{}, { name: '' }, { name: 'x'.repeat(101) }, { name: 3 }]) {
      const r = await call('POST', '/api/v1/api-keys', { cookie: admin, body });
      expect([r.status, r.json.error.code]).toEqual([400, 'bad_request']);
    }
    const { cookie } = await addAgent('agent');
    for (const [method, route, body] of [['GET', '/api/v1/api-keys'], ['POST', '/api/v1/api-keys', { name: 'x' }], ['DELETE', '/api/v1/api-keys/whatever']] as const) {
      const r = await call(method, route, { cookie, body });
      expect({ method, status: r.status, code: r.json.error.code }).toEqual({ method, status: 403, code: 'forbidden' });
      const anon = await call(method, route, { body });
      expect({ method, status: anon.status, code: anon.json.error.code }).toEqual({ method, status: 401, code: 'unauthorized' });
    }
  });

  it("keeps projects apart: B's admin neither lists nor revokes A's keys", async () => {
    const { key } = (await call<CreateApiKeyResponse>('POST', '/api/v1/api-keys', { cookie: admin, body: { name: 'A only' } })).json;
    const b = await projectB();
    expect((await call<{ items: ApiKeyInfo[] }>('GET', '/api/v1/api-keys', { cookie: b.cookie })).json.items).toEqual([]);
    expect((await call('DELETE', `/api/v1/api-keys/${key.id}`, { cookie: b.cookie })).status).toBe(404);
    expect((await call<{ items: ApiKeyInfo[] }>('GET', '/api/v1/api-keys', { cookie: admin })).json.items.map((k) => k.id)).toContain(key.id);
  });
});

describe('agents', () => {
  it('lists the project agents and adds one who can then sign in', async () => {
    const list = await call<{ items: AgentInfo[] }>('GET', '/api/v1/agents', { cookie: admin });
    expect(list.status).toBe(200);
    expect(list.json.items.find((a) => a.email === ADMIN.email)).toMatchObject({ role: 'admin', projectId: server.projectId });
    const r = await call<AgentInfo>('POST', '/api/v1/agents', {
      cookie: admin, body: { email: '  New.Agent@Example.com ', name: 'New Agent', password: '12345678' },
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ email: 'new.agent@example.com', name: 'New Agent', role: 'agent', projectId: server.projectId });
    expect(JSON.stringify(r.json)).not.toContain('scrypt');
    expect((await server.store.getAgent(r.json.id))?.passwordHash).toMatch(/^scrypt\$/);
    const cookie = await login(server, 'new.agent@example.com', '12345678');
    expect((await call('GET', '/api/v1/auth/me', { cookie })).json.agent.id).toBe(r.json.id);
    expect((await call<{ items: AgentInfo[] }>('GET', '/api/v1/agents', { cookie: admin })).json.items.map((a) => a.id)).toContain(r.json.id);
  });

  it('refuses bad input and a taken email with 400', async () => {
    const cases: unknown[] = [
      { email: 'not-an-email', name: 'X', password: '12345678' },
      { email: 'short@example.com', name: 'X', password: '1234567' },
      { email: 'noname@example.com', name: ' ', password: '12345678' },
      { email: 'role@example.com', name: 'X', password: '12345678', role: 'owner' },
      { email: ADMIN.email.toUpperCase(), name: 'Dup', password: '12345678' },
    ];
    for (const body of cases) {
      const r = await call('POST', '/api/v1/agents', { cookie: admin, body });
      expect({ body, status: r.status, code: r.json.error.code }).toEqual({ body, status: 400, code: 'bad_request' });
    }
    const short = await call('POST', '/api/v1/agents', { cookie: admin, body: { email: 'short@example.com', name: 'X', password: 'abc' } });
    expect(short.json.error.message).toMatch(/at least 8/);
    const dup = await call('POST', '/api/v1/agents', { cookie: admin, body: { email: ADMIN.email, name: 'Dup', password: '12345678' } });
    expect(dup.json.error.message).toMatch(/already exists/);
  });

  it('removes an agent, whose cookie and password then stop working; never yourself', async () => {
    const gone = await addAgent('agent');
    expect((await call('GET', '/api/v1/auth/me', { cookie: gone.cookie })).status).toBe(200);
    expect((await call('DELETE', `/api/v1/agents/${gone.info.id}`, { cookie: admin })).status).toBe(204);
    const me = await call('GET', '/api/v1/auth/me', { cookie: gone.cookie });
    expect([me.status, me.json.error.code]).toEqual([401, 'unauthorized']);
    expect((await call('GET', '/api/v1/sessions', { cookie: gone.cookie })).status).toBe(401);
    const relogin = await postJson(`${server.url}/api/v1/auth/login`, { email: gone.email, password: gone.password });
    expect([relogin.status, relogin.json.error.code]).toEqual([401, 'invalid_credentials']);
    expect((await call<{ items: AgentInfo[] }>('GET', '/api/v1/agents', { cookie: admin })).json.items.map((a) => a.id)).not.toContain(gone.info.id);
    expect((await call('DELETE', `/api/v1/agents/${gone.info.id}`, { cookie: admin })).status).toBe(404);
    // The email is free again.
    expect((await call('POST', '/api/v1/agents', { cookie: admin, body: { email: gone.email, name: 'Back', password: '12345678' } })).status).toBe(200);

    const self = (await call<{ agent: AgentInfo }>('GET', '/api/v1/auth/me', { cookie: admin })).json.agent;
    const r = await call('DELETE', `/api/v1/agents/${self.id}`, { cookie: admin });
    expect([r.status, r.json.error.code]).toEqual([400, 'bad_request']);
    // Another admin can remove an admin.
    const second = await addAgent('admin');
    const third = await addAgent('admin');
    expect((await call('DELETE', `/api/v1/agents/${third.info.id}`, { cookie: second.cookie })).status).toBe(204);
  });

  it("closes a removed agent's open live sockets at once, not at the next minute's re-check", async () => {
    const gone = await addAgent('agent');
    const socket = await connected(agentSocket(server, { cookie: gone.cookie }));
    const other = await connected(agentSocket(server, { cookie: admin }));
    try {
      const disconnected = new Promise<string>((r) => socket.once('disconnect', r));
      const t0 = Date.now();
      expect((await call('DELETE', `/api/v1/agents/${gone.info.id}`, { cookie: admin })).status).toBe(204);
      expect(await disconnected).toBe('io server disconnect');
      // The re-check runs every 60 s here: this was the removal itself.
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect(other.connected).toBe(true);
      // Its socket was let in seconds ago (the handshake keeps agent records 30 s): a new one is refused now.
      const again = agentSocket(server, { cookie: gone.cookie });
      try {
        const refused = await new Promise<{ data?: { code?: string } }>((resolve, reject) => {
          again.once('connect_error', (err) => resolve(err as { data?: { code?: string } }));
          again.once('connect', () => reject(new Error('a removed agent connected')));
        });
        expect(refused.data?.code).toBe('unauthorized');
      } finally {
        again.close();
      }
    } finally {
      socket.close();
      other.close();
    }
  });

  it('is for admins only, and keeps projects apart', async () => {
    const { cookie, info } = await addAgent('agent');
    for (const [method, route, body] of [
      ['GET', '/api/v1/agents'], ['POST', '/api/v1/agents', { email: 'x@example.com', name: 'X', password: '12345678' }], ['DELETE', `/api/v1/agents/${info.id}`],
    ] as const) {
      const r = await call(method, route, { cookie, body });
      expect({ method, status: r.status, code: r.json.error.code }).toEqual({ method, status: 403, code: 'forbidden' });
      const anon = await call(method, route, { body });
      expect({ method, status: anon.status, code: anon.json.error.code }).toEqual({ method, status: 401, code: 'unauthorized' });
    }
    const b = await projectB();
    const listB = await call<{ items: AgentInfo[] }>('GET', '/api/v1/agents', { cookie: b.cookie });
    expect(listB.json.items.map((a) => a.projectId)).toEqual([b.id]);
    expect((await call('DELETE', `/api/v1/agents/${info.id}`, { cookie: b.cookie })).status).toBe(404);
    expect((await call('GET', '/api/v1/auth/me', { cookie })).status).toBe(200);
    // B's new agent lands in B.
    const added = await call<AgentInfo>('POST', '/api/v1/agents', { cookie: b.cookie, body: { email: `in-b-${b.id}@example.com`, name: 'In B', password: '12345678' } });
    expect(added.json.projectId).toBe(b.id);
  });
});

describe('restart', () => {
  it('reads TANDEM_ALLOWED_ORIGINS as "not set" unless it has a value', () => {
    expect(configFromEnv({}).allowedOrigins).toBeUndefined();
    expect(configFromEnv({ TANDEM_ALLOWED_ORIGINS: '' }).allowedOrigins).toBeUndefined();
    expect(configFromEnv({ TANDEM_ALLOWED_ORIGINS: 'https://a.example, https://b.example' }).allowedOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(configFromEnv({ TANDEM_ALLOWED_ORIGINS: ',' }).allowedOrigins).toEqual([]);
  });

  it('keeps settings, keys and removals; TANDEM_ALLOWED_ORIGINS applies only when set', async () => {
    const patched = await call<ProjectInfo>('PATCH', '/api/v1/project', {
      cookie: admin, body: { requireConsent: true, allowedOrigins: ['https://kept.example'], name: 'Kept' },
    });
    expect(patched.status).toBe(200);
    const { key, secret } = (await call<CreateApiKeyResponse>('POST', '/api/v1/api-keys', { cookie: admin, body: { name: 'survives' } })).json;
    const gone = await addAgent('agent');
    expect((await call('DELETE', `/api/v1/agents/${gone.info.id}`, { cookie: admin })).status).toBe(204);

    // Restart without TANDEM_ALLOWED_ORIGINS: what Settings saved stays.
    await server.close();
    server = await startTestServer(LIMITS, dataDir);
    expect(server.projectId).toBe(patched.json.id);
    const after = await call<ProjectInfo>('GET', '/api/v1/project', { cookie: admin }); // the cookie survives too (same secret)
    expect(after.json).toEqual(patched.json);
    expect((await call<{ items: ApiKeyInfo[] }>('GET', '/api/v1/api-keys', { cookie: admin })).json.items.map((k) => k.id)).toContain(key.id);
    const tab = await startTab(server, {});
    const mint = await postJson(`${server.url}/api/v1/visitors/${tab.visitorId}/watch_url`, { agent: { id: 'a', name: 'A' } }, { authorization: `Bearer ${secret}` });
    expect(mint.status).toBe(200);
    expect((await call('GET', '/api/v1/auth/me', { cookie: gone.cookie })).status).toBe(401);
    expect((await call<{ items: AgentInfo[] }>('GET', '/api/v1/agents', { cookie: admin })).json.items.map((a) => a.id)).not.toContain(gone.info.id);

    // Restart with it set: the environment wins for origins, and leaves consent alone.
    await server.close();
    server = await startTestServer({ ...LIMITS, allowedOrigins: ['https://env.example'] }, dataDir);
    expect((await call<ProjectInfo>('GET', '/api/v1/project', { cookie: admin })).json).toMatchObject({
      allowedOrigins: ['https://env.example'], requireConsent: true, name: 'Kept',
    });
  });
});
