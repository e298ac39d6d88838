import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { PROTOCOL_VERSION } from '@tandem/protocol';
import { SECRET, getJson, login, makeEvents, postBatch, postJson, startBody, startTab, startTestServer, type TestServer } from './helpers.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ batchRateLimit: { perSecond: 1000, burst: 1000 } });
});
afterAll(async () => server?.dispose());

async function storedSeqs(sessionId: string, tabId: string): Promise<number[]> {
  const seqs: number[] = [];
  for await (const line of server.store.streamEvents(server.projectId, sessionId, { tabId })) seqs.push(JSON.parse(line).seq);
  return seqs;
}

describe('POST /ingest/v1/start', () => {
  it('opens a session and returns ids, a token and the tracker config', async () => {
    const tab = await startTab(server);
    expect(tab.sessionId).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
    expect(tab.tabId).not.toBe(tab.sessionId);
    expect(tab.token.split('.')).toHaveLength(3);
    expect(tab.ackSeq).toBe(-1);
    expect(tab.config.flushIntervalMs).toBeGreaterThan(0);
  });

  it('resumes the given session and tab and reports what is already stored', async () => {
    const first = await startTab(server);
    expect((await postBatch(server, first, makeEvents(0, 5))).json).toEqual({ ackSeq: 4 });
    const again = await startTab(server, { sessionId: first.sessionId, tabId: first.tabId, visitorId: first.visitorId });
    expect(again.sessionId).toBe(first.sessionId);
    expect(again.tabId).toBe(first.tabId);
    expect(again.ackSeq).toBe(4);
  });

  it('refuses malformed JSON with 400 bad_json', async () => {
    const r = await postJson(`${server.url}/ingest/v1/start`, '{"v":1,');
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('bad_json');
  });

  it('refuses an unknown protocol version with 400 unsupported_version', async () => {
    const r = await postJson(`${server.url}/ingest/v1/start`, startBody(server.projectKey, { v: 999 }));
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: 'unsupported_version' });
    expect(r.json.error.message).toContain('999');
  });

  it('refuses an unknown project key with 401 unknown_project', async () => {
    const r = await postJson(`${server.url}/ingest/v1/start`, startBody('pk_nope'));
    expect(r.status).toBe(401);
    expect(r.json.error.code).toBe('unknown_project');
  });

  it('refuses a body that does not match the schema with a readable message', async () => {
    const r = await postJson(`${server.url}/ingest/v1/start`, { v: PROTOCOL_VERSION, projectKey: server.projectKey });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('bad_request');
    expect(r.json.error.message).toMatch(/url|clientTime/);
  });

  it('answers CORS preflight and sets allow-origin on the reply', async () => {
    const pre = await fetch(`${server.url}/ingest/v1/batch`, {
      method: 'OPTIONS',
      headers: { origin: 'https://customer.example', 'access-control-request-method': 'POST' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://customer.example');
    const r = await postJson(`${server.url}/ingest/v1/start`, startBody(server.projectKey), { origin: 'https://customer.example' });
    expect(r.headers.get('access-control-allow-origin')).toBe('https://customer.example');
  });
});

describe('POST /ingest/v1/batch', () => {
  it('stores a gzip batch and acks the last seq', async () => {
    const tab = await startTab(server);
    const r = await postBatch(server, tab, makeEvents(0, 20), { gzip: true });
    expect(r).toEqual({ status: 200, json: { ackSeq: 19 } });
    expect(await storedSeqs(tab.sessionId, tab.tabId)).toEqual([...Array(20).keys()]);
  });

  it('stores a replayed (duplicate) batch once', async () => {
    const tab = await startTab(server);
    const events = makeEvents(0, 10);
    expect((await postBatch(server, tab, events)).json.ackSeq).toBe(9);
    expect((await postBatch(server, tab, events)).json.ackSeq).toBe(9);
    expect((await postBatch(server, tab, makeEvents(5, 10))).json.ackSeq).toBe(14); // overlapping retry
    expect(await storedSeqs(tab.sessionId, tab.tabId)).toEqual([...Array(15).keys()]);
  });

  it('refuses events without seq with 400 and stores nothing of that batch', async () => {
    const tab = await startTab(server);
    const events = makeEvents(0, 3).map(({ seq, ...e }, i) => (i === 1 ? e : { seq, ...e }));
    const r = await postBatch(server, tab, events as any);
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('bad_request');
    expect(r.json.error.message).toContain('events.1.seq');
    expect(await storedSeqs(tab.sessionId, tab.tabId)).toEqual([]);
  });

  it('refuses malformed JSON and a wrong version without losing what was accepted', async () => {
    const tab = await startTab(server);
    await postBatch(server, tab, makeEvents(0, 4));
    const bad = await fetch(`${server.url}/ingest/v1/batch?token=${tab.token}`, { method: 'POST', body: '[[[' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.code).toBe('bad_json');
    const wrongV = await fetch(`${server.url}/ingest/v1/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tab.token}` },
      body: JSON.stringify({ v: 42, sessionId: tab.sessionId, tabId: tab.tabId, events: makeEvents(4, 1) }),
    });
    expect(wrongV.status).toBe(400);
    expect(((await wrongV.json()) as any).error.code).toBe('unsupported_version');
    expect(await storedSeqs(tab.sessionId, tab.tabId)).toEqual([0, 1, 2, 3]);
  });

  it('refuses a forged token with 401', async () => {
    const tab = await startTab(server);
    const forged = await new SignJWT({ pid: server.projectId, sid: tab.sessionId, tid: tab.tabId, vid: tab.visitorId })
      .setProtectedHeader({ alg: 'HS256' }).setIssuer('tandem').setAudience('ingest').setExpirationTime('1h')
      .sign(new TextEncoder().encode('not-the-server-secret-at-all-000000'));
    const r = await postBatch(server, tab, makeEvents(0, 2), { token: forged });
    expect(r.status).toBe(401);
    expect(r.json.error.code).toBe('unauthorized');
    const missing = await fetch(`${server.url}/ingest/v1/batch`, { method: 'POST', body: '{}' });
    expect(missing.status).toBe(401);
  });

  it('refuses an expired token with 401', async () => {
    const tab = await startTab(server);
    const expired = await new SignJWT({ pid: server.projectId, sid: tab.sessionId, tid: tab.tabId, vid: tab.visitorId })
      .setProtectedHeader({ alg: 'HS256' }).setIssuer('tandem').setAudience('ingest')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200).setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(SECRET));
    const r = await postBatch(server, tab, makeEvents(0, 2), { token: expired });
    expect(r.status).toBe(401);
    expect(r.json.error.message).toMatch(/expired/i);
  });

  it('refuses a batch for another tab than the token names', async () => {
    const a = await startTab(server);
    const b = await startTab(server);
    const r = await postBatch(server, { ...b, token: a.token }, makeEvents(0, 2));
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('session_mismatch');
  });
});

describe('query API', () => {
  it('lists the session with counts for a signed-in agent and streams its events in order', async () => {
    const tab = await startTab(server, { userId: 'user-42' });
    await postBatch(server, tab, makeEvents(0, 30));
    const cookie = await login(server);
    const list = await getJson(`${server.url}/api/v1/sessions?userId=user-42`, cookie);
    expect(list.status).toBe(200);
    expect(list.json.sessions.map((s: any) => s.sessionId)).toContain(tab.sessionId);
    const detail = await getJson(`${server.url}/api/v1/sessions/${tab.sessionId}`, cookie);
    expect(detail.json.eventCount).toBe(30);
    const res = await fetch(`${server.url}/api/v1/sessions/${tab.sessionId}/events`, { headers: { cookie } });
    expect(res.headers.get('content-type')).toContain('application/x-ndjson');
    const seqs = (await res.text()).trim().split('\n').map((l) => JSON.parse(l).seq);
    expect(seqs).toEqual([...Array(30).keys()]);
  });

  it('refuses anonymous and wrong-password requests', async () => {
    expect((await fetch(`${server.url}/api/v1/sessions`)).status).toBe(401);
    const r = await postJson(`${server.url}/api/v1/auth/login`, { email: 'admin@example.com', password: 'wrong' });
    expect(r.status).toBe(401);
    expect(r.json.error.code).toBe('invalid_credentials');
    const bad = await getJson(`${server.url}/api/v1/sessions?limit=100000`, await login(server));
    expect(bad.status).toBe(400);
  });

  it('keeps projects apart: an agent of project B sees nothing of project A', async () => {
    const tab = await startTab(server);
    await postBatch(server, tab, makeEvents(0, 3));
    const { hashPassword } = await import('../src/auth/password.js');
    await server.store.createProject({ id: 'projectbbbbbbbbb', name: 'B', key: 'pk_project_b', allowedOrigins: [], createdAt: Date.now() });
    await server.store.createAgent({
      id: 'agentbbbbbbbbbbb', projectId: 'projectbbbbbbbbb', email: 'b@example.com', name: 'B', role: 'admin',
      passwordHash: await hashPassword('b-password'), createdAt: Date.now(), disabled: false,
    });
    const cookieB = await login(server, 'b@example.com', 'b-password');
    const list = await getJson(`${server.url}/api/v1/sessions`, cookieB);
    expect(list.json.sessions).toEqual([]);
    expect((await getJson(`${server.url}/api/v1/sessions/${tab.sessionId}`, cookieB)).status).toBe(404);
    const events = await fetch(`${server.url}/api/v1/sessions/${tab.sessionId}/events`, { headers: { cookie: cookieB } });
    expect((await events.text()).trim()).toBe('');
  });

  it('answers health and metrics', async () => {
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ ok: true });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('tandem_ingest_events_total');
    const unknown = await fetch(`${server.url}/api/v1/nope`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as any).error.code).toBe('not_found');
  });
});

describe('static files', () => {
  it('serves the tracker to any origin, the demo with the project key, and refuses paths out of the root', async () => {
    const tracker = await fetch(`${server.url}/tracker.js`);
    expect(tracker.status).toBe(200);
    expect(tracker.headers.get('access-control-allow-origin')).toBe('*');
    expect(tracker.headers.get('content-type')).toContain('javascript');
    const body = await tracker.text();
    expect(body.length).toBeGreaterThan(10_000);
    expect(await (await fetch(`${server.url}/tracker.js`)).text()).toBe(body); // cached copy is identical
    // The WebRTC chunk next to it, loaded by the plugin when first needed (not part of /tracker.js).
    const rtc = await fetch(`${server.url}/tracker-rtc.js?v=abc`);
    expect(rtc.status).toBe(200);
    expect(rtc.headers.get('access-control-allow-origin')).toBe('*');
    expect(rtc.headers.get('content-type')).toContain('javascript');
    const rtcBody = await rtc.text();
    expect(rtcBody).toContain('__tandemRtc1');
    expect(body).not.toContain('simple-peer');
    // The live assist plugin and its socket.io client: a chunk of their own, fetched at idle (issue 8).
    const assist = await fetch(`${server.url}/tracker-assist.js?v=abc`);
    expect(assist.status).toBe(200);
    expect(assist.headers.get('access-control-allow-origin')).toBe('*');
    const assistBody = await assist.text();
    expect(assistBody).toContain('__tandemAssist1');
    expect(assistBody).toContain('socket.io');
    expect(body).toContain('__tandemAssist1');
    expect(body).not.toContain('engine.io');
    // fflate's sync gzip (the pagehide path), fetched at idle too.
    const gzip = await fetch(`${server.url}/tracker-gzip.js?v=abc`);
    expect(gzip.status).toBe(200);
    expect(await gzip.text()).toContain('__tandemGzip1');
    const demo = await (await fetch(`${server.url}/demo/form.html`)).text();
    expect(demo).toContain(`data-project-key="${server.projectKey}"`);
    expect(demo).not.toContain('__TANDEM_PROJECT_KEY__');
    const escape = await fetch(`${server.url}/demo/..%2f..%2fpackage.json`);
    expect(await escape.text()).not.toContain('"workspaces"');
  });
});
