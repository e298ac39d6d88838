import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import type { CreateApiKeyResponse, StartResponse, WatchInfo, WatchUrlResponse } from '@tandem/protocol';
import { hashPassword } from '../src/auth/password.js';
import { configFromEnv } from '../src/config.js';
import { connected, tabSocket } from './live-helpers.js';
import { SECRET, login, makeEvents, postBatch, postJson, startBody, startTab, startTestServer, type TestServer } from './helpers.js';

// A stand-in dashboard build (rootDir/frontend/dist/index.html) so /watch and /embed do not depend on `npm run build`.
const INDEX_HTML = '<!doctype html><html><head><script type="module" src="/assets/index-test.js"></script></head><body><div id="app"></div></body></html>';

let root: string;
let server: TestServer;
let admin: string;
let secret: string;
/** A visitor of the default project with stored events. */
let tab: StartResponse;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'tandem-watch-root-'));
  await mkdir(path.join(root, 'frontend', 'dist'), { recursive: true });
  await writeFile(path.join(root, 'frontend', 'dist', 'index.html'), INDEX_HTML);
  server = await startTestServer({
    rootDir: root, demo: false,
    loginRateLimit: { perSecond: 100, burst: 100 }, startRateLimit: { perSecond: 100, burst: 100 }, batchRateLimit: { perSecond: 100, burst: 100 },
  });
  admin = await login(server);
  secret = (await createKey(admin, 'helpdesk')).secret;
  tab = await startTab(server);
  expect((await postBatch(server, tab, makeEvents(0, 5))).json).toEqual({ ackSeq: 4 });
});
afterAll(async () => {
  await server?.dispose();
  await rm(root, { recursive: true, force: true });
});

async function createKey(cookie: string, name: string): Promise<CreateApiKeyResponse> {
  const r = await postJson(`${server.url}/api/v1/api-keys`, { name }, { cookie });
  expect(r.status).toBe(200);
  return r.json;
}

function mint(visitorId: string, body: unknown, key: string | null = secret) {
  return postJson(`${server.url}/api/v1/visitors/${encodeURIComponent(visitorId)}/watch_url`, body, key ? { authorization: `Bearer ${key}` } : {});
}

const tokenOf = (url: string) => new URL(url).pathname.split('/').pop()!;

async function watchInfo(token: string) {
  const res = await fetch(`${server.url}/api/v1/watch`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, json: (await res.json()) as any };
}

function read(route: string, token: string) {
  return fetch(`${server.url}${route}`, { headers: { authorization: `Bearer ${token}` } });
}

/** A watch token signed with the server's secret but already expired. */
function expiredToken(sid: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ pid: server.projectId, sid, vid: tab.visitorId, agent: { id: 'a', name: 'Old' }, caps: ['view'] })
    .setProtectedHeader({ alg: 'HS256' }).setIssuer('tandem').setAudience('watch')
    .setIssuedAt(now - 7200).setExpirationTime(now - 60)
    .sign(new TextEncoder().encode(SECRET));
}

describe('POST /api/v1/visitors/:visitorId/watch_url (API key)', () => {
  it("mints a link to the visitor's session with defaults: view only, one hour", async () => {
    const before = Date.now();
    const r = await mint(tab.visitorId, { agent: { id: 'zd-42', name: 'Dana' } });
    expect(r.status).toBe(200);
    const link = r.json as WatchUrlResponse;
    expect(link.sessionId).toBe(tab.sessionId);
    expect(link.watch_url).toMatch(new RegExp(`^${server.url}/watch/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$`));
    expect(link.embed_url).toBe(link.watch_url.replace('/watch/', '/embed/'));
    expect(link.expiresAt).toBeGreaterThanOrEqual(before + 3600_000 - 1000);
    expect(link.expiresAt).toBeLessThanOrEqual(Date.now() + 3600_000);
    const info = await watchInfo(tokenOf(link.watch_url));
    expect(info.status).toBe(200);
    expect(info.json).toEqual({ sessionId: tab.sessionId, agent: { id: 'zd-42', name: 'Dana' }, capabilities: ['view'], expiresAt: link.expiresAt - (link.expiresAt % 1000) });
  });

  it('carries capabilities (always with view, in a fixed order), ttl and branding', async () => {
    const r = await mint(tab.visitorId, {
      agent: { id: 'a', name: 'Ann' }, capabilities: ['control', 'annotate', 'control'], ttlSeconds: 600, branding: { name: 'Acme Help', color: '#0a7' },
    });
    expect(r.status).toBe(200);
    expect(r.json.expiresAt).toBeLessThanOrEqual(Date.now() + 600_000);
    expect(r.json.expiresAt).toBeGreaterThan(Date.now() + 590_000);
    const info = (await watchInfo(tokenOf(r.json.watch_url))).json as WatchInfo;
    expect(info.capabilities).toEqual(['view', 'annotate', 'control']);
    expect(info.branding).toEqual({ name: 'Acme Help', color: '#0a7' });
  });

  it('uses the newest stored session of the visitor when none is live', async () => {
    const later = await startTab(server, { visitorId: tab.visitorId });
    expect(later.sessionId).not.toBe(tab.sessionId);
    expect((await mint(tab.visitorId, { agent: { id: 'a', name: 'A' } })).json.sessionId).toBe(later.sessionId);
  });

  it("prefers the visitor's live session over a newer stored one", async () => {
    const visitorId = `visitor-live-${Date.now()}`;
    const liveTab = await startTab(server, { visitorId });
    const socket = await connected(tabSocket(server, liveTab));
    try {
      // A newer session of the same visitor, stored but with no tab connected.
      const newer = await startTab(server, { visitorId });
      expect(newer.sessionId).not.toBe(liveTab.sessionId);
      expect(await server.store.latestSessionOfVisitor(server.projectId, visitorId)).toBe(newer.sessionId);
      const r = await mint(visitorId, { agent: { id: 'a', name: 'A' } });
      expect(r.json.sessionId).toBe(liveTab.sessionId);
    } finally {
      socket.close();
    }
  });

  it('refuses bad input with 400', async () => {
    const cases: [unknown, string][] = [
      [{ agent: { id: 'x' } }, 'bad_request'],
      [{ agent: { id: '', name: 'y' } }, 'bad_request'],
      [{ agent: { id: 'x'.repeat(201), name: 'y' } }, 'bad_request'],
      [{ agent: { id: 'x', name: 7 } }, 'bad_request'],
      [{ agent: { id: 'x', name: 'y' }, capabilities: ['teleport'] }, 'bad_request'],
      [{ agent: { id: 'x', name: 'y' }, capabilities: 'view' }, 'bad_request'],
      [{ agent: { id: 'x', name: 'y' }, ttlSeconds: 59 }, 'bad_request'],
      [{ agent: { id: 'x', name: 'y' }, ttlSeconds: 604801 }, 'bad_request'],
      [{ agent: { id: 'x', name: 'y' }, ttlSeconds: 90.5 }, 'bad_request'],
      [{ agent: { id: 'x', name: 'y' }, branding: { color: 'red' } }, 'bad_request'],
      [{ agent: { id: 'x', name: 'y' }, branding: { color: '#12345' } }, 'bad_request'],
      [{ agent: { id: 'x', name: 'y' }, branding: { name: 'n'.repeat(81) } }, 'bad_request'],
      ['{"agent":', 'bad_json'],
    ];
    for (const [body, code] of cases) {
      const r = await mint(tab.visitorId, body);
      expect({ body, status: r.status, code: r.json.error.code }).toEqual({ body, status: 400, code });
    }
    expect((await mint(tab.visitorId, { agent: { id: 'x', name: 'y' }, ttlSeconds: 604800, branding: { color: '#A0B1C2' } })).status).toBe(200);
  });

  it('answers 404 for an unknown visitor and 401 without a valid key', async () => {
    for (const visitor of ['no-such-visitor-000', 'bad id!', 'x']) {
      const r = await mint(visitor, { agent: { id: 'x', name: 'y' } });
      expect({ visitor, status: r.status, code: r.json.error.code }).toEqual({ visitor, status: 404, code: 'not_found' });
    }
    for (const key of [null, 'tk_not_a_real_key', 'not-even-a-tk-key', `tk_${'A'.repeat(43)}`]) {
      const r = await mint(tab.visitorId, { agent: { id: 'x', name: 'y' } }, key);
      expect({ key, status: r.status, code: r.json.error.code }).toEqual({ key, status: 401, code: 'unauthorized' });
    }
    // A dashboard cookie is not an API key.
    const cookie = await postJson(`${server.url}/api/v1/visitors/${tab.visitorId}/watch_url`, { agent: { id: 'x', name: 'y' } }, { cookie: admin });
    expect(cookie.status).toBe(401);
  });

  it("project B's key cannot mint links to project A's visitors", async () => {
    const suffix = Math.random().toString(36).slice(2, 10);
    const pid = `projectb${suffix}`;
    await server.store.createProject({ id: pid, name: 'B', key: `pk_b_${suffix}`, allowedOrigins: [], createdAt: Date.now(), requireConsent: false });
    await server.store.createAgent({
      id: `adminb${suffix}`, projectId: pid, email: `b-${suffix}@example.com`, name: 'B', role: 'admin',
      passwordHash: await hashPassword('password-of-b'), createdAt: Date.now(), disabled: false,
    });
    const keyB = (await createKey(await login(server, `b-${suffix}@example.com`, 'password-of-b'), 'b')).secret;
    const r = await mint(tab.visitorId, { agent: { id: 'x', name: 'y' } }, keyB);
    expect([r.status, r.json.error.code]).toEqual([404, 'not_found']);
    // B's own visitor works with B's key, and A's key cannot reach it.
    const startB = await postJson(`${server.url}/ingest/v1/start`, startBody(`pk_b_${suffix}`));
    const visitorB = (startB.json as StartResponse).visitorId;
    expect((await mint(visitorB, { agent: { id: 'x', name: 'y' } }, keyB)).json.sessionId).toBe((startB.json as StartResponse).sessionId);
    expect((await mint(visitorB, { agent: { id: 'x', name: 'y' } })).status).toBe(404);
  });

  it('puts TANDEM_PUBLIC_URL in links when set, else the Host the caller used', async () => {
    const viaHost = await fetch(`${server.url}/api/v1/visitors/${tab.visitorId}/watch_url`, {
      method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json', host: 'tandem.internal:8080' },
      body: JSON.stringify({ agent: { id: 'x', name: 'y' } }),
    });
    // fetch may not let us override Host; either way the link's origin is the Host the server saw.
    const link = (await viaHost.json()) as WatchUrlResponse;
    expect(link.watch_url).toMatch(/^http:\/\/(tandem\.internal:8080|127\.0\.0\.1:\d+)\/watch\//);

    expect(configFromEnv({ TANDEM_PUBLIC_URL: 'https://tandem.example.com/' }).publicUrl).toBe('https://tandem.example.com');
    expect(configFromEnv({ TANDEM_PUBLIC_URL: 'https://example.com/tandem/' }).publicUrl).toBe('https://example.com/tandem');
    expect(configFromEnv({}).publicUrl).toBeUndefined();
    expect(() => configFromEnv({ TANDEM_PUBLIC_URL: 'tandem.example.com' })).toThrow(/TANDEM_PUBLIC_URL/);
    // The running server reads its config object per request.
    server.config.publicUrl = 'https://tandem.example.com';
    try {
      const r = await mint(tab.visitorId, { agent: { id: 'x', name: 'y' } });
      expect(r.json.watch_url).toMatch(/^https:\/\/tandem\.example\.com\/watch\/[^/]+$/);
      expect(r.json.embed_url).toMatch(/^https:\/\/tandem\.example\.com\/embed\/[^/]+$/);
    } finally {
      server.config.publicUrl = undefined;
    }
  });
});

describe('POST /ingest/v1/watch_url (tracker, session token)', () => {
  const url = (token: string) => `${server.url}/ingest/v1/watch_url?token=${encodeURIComponent(token)}`;

  it("mints a one-hour view-only link to the token's own session, as a CORS simple request", async () => {
    for (const body of ['{}', '', undefined]) {
      const res = await fetch(url(tab.token), { method: 'POST', headers: { 'content-type': 'text/plain', origin: 'https://customer.example' }, body });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe('https://customer.example');
      const link = (await res.json()) as WatchUrlResponse;
      expect(link.sessionId).toBe(tab.sessionId);
      expect(link.watch_url.startsWith(`${server.url}/watch/`)).toBe(true);
      expect(link.expiresAt).toBeGreaterThan(Date.now() + 3500_000);
      expect((await watchInfo(tokenOf(link.watch_url))).json).toMatchObject({
        sessionId: tab.sessionId, agent: { id: 'visitor-link', name: 'Shared link' }, capabilities: ['view'],
      });
    }
    const pre = await fetch(url(tab.token), { method: 'OPTIONS', headers: { origin: 'https://customer.example', 'access-control-request-method': 'POST' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://customer.example');
    // Authorization: Bearer works too.
    expect((await fetch(`${server.url}/ingest/v1/watch_url`, { method: 'POST', headers: { authorization: `Bearer ${tab.token}` } })).status).toBe(200);
  });

  it('refuses a missing or bad session token (401) and a disallowed origin (403)', async () => {
    expect((await fetch(`${server.url}/ingest/v1/watch_url`, { method: 'POST' })).status).toBe(401);
    const bad = await fetch(url(tab.token.slice(0, -4) + 'AAAA'), { method: 'POST' });
    expect([bad.status, ((await bad.json()) as any).error.code]).toEqual([401, 'unauthorized']);
    // A watch token is not a session token.
    const link = (await mint(tab.visitorId, { agent: { id: 'x', name: 'y' } })).json as WatchUrlResponse;
    expect((await fetch(url(tokenOf(link.watch_url)), { method: 'POST' })).status).toBe(401);

    const suffix = Math.random().toString(36).slice(2, 10);
    await server.store.createProject({ id: `projo${suffix}`, name: 'O', key: `pk_o_${suffix}`, allowedOrigins: ['https://shop.example'], createdAt: Date.now() });
    const start = await postJson(`${server.url}/ingest/v1/start`, startBody(`pk_o_${suffix}`), { origin: 'https://shop.example' });
    expect(start.status).toBe(200);
    const ok = await fetch(url(start.json.token), { method: 'POST', headers: { origin: 'https://shop.example' } });
    expect(ok.status).toBe(200);
    const refused = await fetch(url(start.json.token), { method: 'POST', headers: { origin: 'https://evil.example' } });
    expect([refused.status, ((await refused.json()) as any).error.code]).toEqual([403, 'origin_not_allowed']);
  });
});

describe('GET /api/v1/watch and session reads with a watch token', () => {
  let token: string;
  beforeAll(async () => {
    // The newest session of tab's visitor is another one now; mint from the tracker for tab's own session.
    const res = await fetch(`${server.url}/ingest/v1/watch_url?token=${encodeURIComponent(tab.token)}`, { method: 'POST' });
    token = tokenOf(((await res.json()) as WatchUrlResponse).watch_url);
  });

  it('refuses missing, tampered, expired and non-watch tokens with 401', async () => {
    expect((await fetch(`${server.url}/api/v1/watch`)).status).toBe(401);
    const [h, p, s] = token.split('.');
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    const tampered = [h, Buffer.from(JSON.stringify({ ...payload, sid: 'someone-elses-session' })).toString('base64url'), s].join('.');
    const expired = await expiredToken(tab.sessionId);
    for (const [what, bad] of [['tampered', tampered], ['expired', expired], ['session token', tab.token], ['api key', secret], ['junk', 'abc']] as const) {
      const r = await watchInfo(bad);
      expect({ what, status: r.status, code: r.json.error.code }).toEqual({ what, status: 401, code: 'unauthorized' });
      const events = await read(`/api/v1/sessions/${tab.sessionId}/events`, bad);
      expect({ what, status: events.status }).toEqual({ what, status: 401 });
    }
    expect((await watchInfo(expired)).json.error.message).toMatch(/expired/i);
  });

  it("reads the token's own session: detail, events, console, network, errors", async () => {
    const detail = await read(`/api/v1/sessions/${tab.sessionId}`, token);
    expect(detail.status).toBe(200);
    expect(((await detail.json()) as any).sessionId).toBe(tab.sessionId);
    const events = await read(`/api/v1/sessions/${tab.sessionId}/events?tabId=${tab.tabId}`, token);
    expect(events.status).toBe(200);
    expect((await events.text()).trim().split('\n').map((l) => JSON.parse(l).seq)).toEqual([0, 1, 2, 3, 4]);
    for (const panel of ['console', 'network', 'errors']) {
      const r = await read(`/api/v1/sessions/${tab.sessionId}/${panel}`, token);
      expect({ panel, status: r.status, body: await r.json() }).toEqual({ panel, status: 200, body: { items: [] } });
    }
  });

  it('cannot read another session (403) nor the session list (401)', async () => {
    const other = await startTab(server);
    await postBatch(server, other, makeEvents(0, 3));
    for (const route of ['', '/events', '/console', '/network', '/errors']) {
      const r = await read(`/api/v1/sessions/${other.sessionId}${route}`, token);
      expect({ route, status: r.status, code: ((await r.json()) as any).error.code }).toEqual({ route, status: 403, code: 'forbidden' });
    }
    const list = await read('/api/v1/sessions', token);
    expect([list.status, ((await list.json()) as any).error.code]).toEqual([401, 'unauthorized']);
    // Neither the settings.
    expect((await read('/api/v1/project', token)).status).toBe(401);
    expect((await read('/api/v1/api-keys', token)).status).toBe(401);
  });
});

describe('GET /watch/:token and /embed/:token', () => {
  it('serve the dashboard page; the token never leaks through Referer or caches; only /embed may be framed', async () => {
    const link = (await mint(tab.visitorId, { agent: { id: 'x', name: 'y' } })).json as WatchUrlResponse;
    const watch = await fetch(link.watch_url);
    expect(watch.status).toBe(200);
    expect(watch.headers.get('content-type')).toContain('text/html');
    expect(await watch.text()).toBe(INDEX_HTML);
    expect(watch.headers.get('referrer-policy')).toBe('no-referrer');
    expect(watch.headers.get('cache-control')).toBe('no-store');
    expect(watch.headers.get('content-security-policy')).toBe("frame-ancestors 'none'");
    expect(watch.headers.get('x-frame-options')).toBe('DENY');

    const embed = await fetch(link.embed_url);
    expect(embed.status).toBe(200);
    expect(await embed.text()).toBe(INDEX_HTML);
    expect(embed.headers.get('referrer-policy')).toBe('no-referrer');
    expect(embed.headers.get('cache-control')).toBe('no-store');
    expect(embed.headers.get('x-frame-options')).toBeNull();
    expect(embed.headers.get('content-security-policy') ?? '').not.toContain('frame-ancestors');
    // The page itself does not check the token (the app does, and shows a clear error).
    expect((await fetch(`${server.url}/watch/not-a-token`)).status).toBe(200);
  });

  it("lets /embed be framed only by the project's allowed origins once it has some", async () => {
    const patch = (allowedOrigins: string[]) => fetch(`${server.url}/api/v1/project`, {
      method: 'PATCH', headers: { cookie: admin, 'content-type': 'application/json' }, body: JSON.stringify({ allowedOrigins }),
    });
    const link = (await mint(tab.visitorId, { agent: { id: 'x', name: 'y' } })).json as WatchUrlResponse;
    expect((await patch(['https://help.example.com', 'https://shop.example.com'])).status).toBe(200);
    try {
      const embed = await fetch(link.embed_url);
      expect(embed.status).toBe(200);
      expect(embed.headers.get('content-security-policy')).toBe("frame-ancestors 'self' https://help.example.com https://shop.example.com");
      // A forged token learns nothing and is not framed anywhere it would matter: it only shows an error.
      expect((await fetch(`${server.url}/embed/forged.token.here`)).headers.get('content-security-policy')).toBeNull();
    } finally {
      expect((await patch([])).status).toBe(200);
    }
    expect((await fetch(link.embed_url)).headers.get('content-security-policy')).toBeNull();
  });
});
