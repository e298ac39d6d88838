import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ERROR_CODES } from '@tandem/protocol';
import { openApiPath } from '../src/http/openapi.js';
import { getJson, login, makeEvents, postBatch, startTab, startTestServer, type TestServer } from './helpers.js';
import {
  liveListResponseSchema, sessionDetailSchema, sessionListResponseSchema, watchInfoSchema, watchUrlResponseSchema,
} from '../src/http/openapi-responses.js';
import {
  agentInfoSchema, agentListSchema, apiKeyListSchema, createApiKeyResponseSchema, eventLineSchema, meResponseSchema, projectInfoSchema,
  sessionStatsResponseSchema, tabTimelineSchema,
} from '../src/http/openapi-responses-more.js';

/** GET /api/v1/openapi.json against a real backend: a valid OpenAPI 3.1 document of every route the router has. */
let server: TestServer;
let doc: any;

type Operation = { parameters?: any[]; requestBody?: any; responses: Record<string, any>; security?: any[] };
const op = (path: string, method: string): Operation => doc.paths[path]?.[method];
const param = (path: string, method: string, name: string) => op(path, method).parameters?.find((p: any) => p.name === name);
const bodySchema = (path: string, method: string, type = 'application/json') => op(path, method).requestBody.content[type].schema;
const methodOf = (m: string) => (m === 'del' ? 'delete' : m);

beforeAll(async () => {
  server = await startTestServer();
  const r = await fetch(`${server.url}/api/v1/openapi.json`);
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/application\/json/);
  doc = await r.json();
}, 60_000); // starting a backend (chDB, migrations) takes more than the default 10 s on the loaded machine
afterAll(async () => {
  await server?.dispose();
});

describe('GET /api/v1/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document (checked by an OpenAPI schema validator)', async () => {
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(doc.openapi).toBe('3.1.0');
    // The validator is a real check: a response that is not an object, or a path parameter that is not required, fails it.
    const broken = structuredClone(doc);
    broken.paths['/api/v1/sessions'].get.responses['200'] = 'ok';
    expect((await new Validator().validate(broken)).valid).toBe(false);
    const optionalPath = structuredClone(doc);
    optionalPath.paths['/api/v1/sessions/{id}'].get.parameters[0].required = false;
    expect((await new Validator().validate(optionalPath)).valid).toBe(false);
  });

  it("lists every route of the router's table, and nothing else", () => {
    const documented = server.routes.filter((r) => r.doc);
    const undocumented = server.routes.filter((r) => !r.doc);
    // Sanity: the table is the real one (the routes of DESIGN.md §5 and those added since).
    expect(documented.length).toBeGreaterThanOrEqual(35);
    for (const r of documented) {
      expect(op(openApiPath(r.pattern, r.doc!.wildcard), methodOf(r.method)), `${r.method} ${r.pattern}`).toBeDefined();
    }
    // A route may stay out only with a reason, and only fallbacks, preflight and the demo site do.
    for (const r of undocumented) {
      expect(r.undocumented, `${r.method} ${r.pattern} has neither doc nor a reason`).toBeTruthy();
      expect(r.method === 'any' || r.method === 'options' || r.pattern.endsWith('*') || r.pattern.startsWith('/demo'), r.pattern).toBe(true);
    }
    // Every `{name}` of a path is declared as a path parameter (a rule JSON Schema cannot check).
    for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, Operation>>)) {
      const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const [method, operation] of Object.entries(methods)) {
        const declared = (operation.parameters ?? []).filter((p: any) => p.in === 'path').map((p: any) => p.name);
        expect(declared.sort(), `${method} ${path}`).toEqual([...names].sort());
      }
    }
    const operations = Object.values(doc.paths as Record<string, Record<string, unknown>>).flatMap((p) => Object.keys(p));
    expect(operations.length).toBe(documented.length);
    for (const [path, method] of [['/api/v1/sessions', 'get'], ['/ingest/v1/batch', 'post'], ['/api/v1/visitors/{visitorId}/watch_url', 'post'],
      ['/api/v1/agents/{id}', 'delete'], ['/api/v1/openapi.json', 'get'], ['/watch/{token}', 'get'], ['/healthz', 'get']]) {
      expect(op(path, method), `${method} ${path}`).toBeDefined();
    }
  });

  it('carries the constraints of the zod schemas that validate requests', () => {
    // Query (session search), body (agents, batch, watch links) and path parameters.
    expect(param('/api/v1/sessions', 'get', 'console').schema.maxLength).toBe(512);
    expect(param('/api/v1/sessions', 'get', 'limit').schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 200 });
    expect(param('/api/v1/sessions', 'get', 'hasErrors').schema.enum).toEqual(['true', 'false']);
    expect(bodySchema('/api/v1/agents', 'post').properties.password.minLength).toBe(8);
    expect(bodySchema('/api/v1/agents', 'post').additionalProperties).toBe(false);
    expect(bodySchema('/ingest/v1/batch', 'post', 'text/plain').properties.events.maxItems).toBe(10_000);
    expect(bodySchema('/api/v1/visitors/{visitorId}/watch_url', 'post').properties.ttlSeconds).toMatchObject({ minimum: 60, maximum: 604_800 });
    expect(param('/api/v1/sessions/{id}/events', 'get', 'id')).toMatchObject({ in: 'path', required: true });
    expect(param('/api/v1/sessions/{id}/events', 'get', 'id').schema.pattern).toBe('^[A-Za-z0-9_-]{8,64}$');
    expect(param('/api/v1/sessions/{id}/events', 'get', 'fromSeq').schema).toEqual({ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
  });

  it('documents every error as {error:{code,message}} with codes from protocol/src/errors.ts', () => {
    let count = 0;
    for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, Operation>>)) {
      for (const [method, operation] of Object.entries(methods)) {
        expect(operation.responses['500'], `${method} ${path} 500`).toBeDefined();
        for (const [status, response] of Object.entries(operation.responses)) {
          if (Number(status) < 400) continue;
          const schema = response.content['application/json'].schema;
          expect(schema.required).toEqual(['error']);
          for (const code of schema.properties.error.properties.code.enum) expect(ERROR_CODES).toContain(code);
          count++;
        }
      }
    }
    expect(count).toBeGreaterThan(50);
    // Per route: what its handler can answer.
    const login = op('/api/v1/auth/login', 'post').responses;
    expect(login['401'].content['application/json'].schema.properties.error.properties.code.enum).toEqual(['invalid_credentials']);
    expect(login['413']).toBeDefined(); // it reads a body
    expect(login['429']).toBeDefined();
    expect(op('/api/v1/agents', 'get').responses['403']).toBeDefined(); // admins only
    expect(op('/api/v1/sessions/{id}', 'get').security).toEqual([{ agentCookie: [] }, { watchLink: [] }]);
  });

  it('matches what the server answers: a refused search parameter is a documented 400 code', async () => {
    const cookie = await login(server);
    const r = await getJson(`${server.url}/api/v1/sessions?limit=0`, cookie);
    expect(r.status).toBe(400);
    const codes = op('/api/v1/sessions', 'get').responses['400'].content['application/json'].schema.properties.error.properties.code.enum;
    expect(codes).toContain(r.json.error.code);
    expect(r.json.error.message).toMatch(/limit must be between 1 and 200/);
    const unknown = await getJson(`${server.url}/api/v1/nope`, cookie);
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe('not_found');
  });

  it('describes the success bodies of the main public routes with their zod schemas, and real answers match them', async () => {
    // The document: a schema with every field (a component for the shared shapes), not a sentence.
    const ok = (path: string, method: string) => op(path, method).responses['200'].content['application/json'].schema;
    const resolve = (schema: any) => (schema.$ref ? doc.components.schemas[schema.$ref.split('/').pop()] : schema);
    const list = resolve(ok('/api/v1/sessions', 'get'));
    expect(list.required).toEqual(expect.arrayContaining(['sessions', 'nextCursor']));
    const summary = resolve(list.properties.sessions.items);
    expect(summary.required).toEqual(expect.arrayContaining(['sessionId', 'startedAt', 'durationMs', 'eventCount', 'errorCount', 'browser']));
    expect(summary.required).not.toContain('country');
    const detail = resolve(ok('/api/v1/sessions/{id}', 'get'));
    expect(Object.keys(detail.properties)).toEqual(expect.arrayContaining(['sessionId', 'tabs', 'pages', 'keyframes']));
    const live = resolve(ok('/api/v1/live', 'get'));
    expect(resolve(live.properties.sessions.items).required).toEqual(expect.arrayContaining(['sessionId', 'tabs', 'agents', 'awaitingConsent']));
    for (const path of ['/api/v1/visitors/{visitorId}/watch_url', '/ingest/v1/watch_url']) {
      expect(resolve(ok(path, 'post')).required).toEqual(expect.arrayContaining(['watch_url', 'embed_url', 'sessionId', 'expiresAt']));
    }
    expect(resolve(ok('/api/v1/watch', 'get')).properties.capabilities.items.enum).toEqual(['view', 'annotate', 'call', 'control', 'record']);

    // The server's real answers have exactly these fields (strict: an extra or missing field fails).
    const tab = await startTab(server);
    expect((await postBatch(server, tab, makeEvents(0, 5))).status).toBe(200);
    const cookie = await login(server);
    let listed: any;
    for (let i = 0; i < 100 && !listed?.sessions?.length; i++) {
      listed = (await getJson(`${server.url}/api/v1/sessions`, cookie)).json;
      if (!listed.sessions?.length) await new Promise((r) => setTimeout(r, 100));
    }
    expect(listed.sessions.length).toBeGreaterThan(0);
    sessionListResponseSchema.extend({ sessions: z.array(sessionListResponseSchema.shape.sessions.element.strict()) }).strict().parse(listed);
    const got = await getJson(`${server.url}/api/v1/sessions/${tab.sessionId}`, cookie);
    expect(got.status).toBe(200);
    sessionDetailSchema.strict().parse(got.json);
    liveListResponseSchema.strict().parse((await getJson(`${server.url}/api/v1/live`, cookie)).json);
    const link = await fetch(`${server.url}/ingest/v1/watch_url?token=${encodeURIComponent(tab.token)}`, { method: 'POST', body: '' });
    expect(link.status).toBe(200);
    const minted = watchUrlResponseSchema.strict().parse(await link.json());
    const token = minted.watch_url.split('/watch/')[1];
    const info = await fetch(`${server.url}/api/v1/watch`, { headers: { authorization: `Bearer ${token}` } });
    expect(info.status).toBe(200);
    expect(watchInfoSchema.strict().parse(await info.json())).toMatchObject({ sessionId: tab.sessionId, capabilities: ['view'] });
    // And the schemas are a real check: a summary without its sessionId is refused.
    const { sessionId: _drop, ...noId } = listed.sessions[0];
    expect(sessionListResponseSchema.safeParse({ sessions: [noId], nextCursor: null }).success).toBe(false);
  });

  it('describes the events stream, stats, timeline, settings and me bodies with zod schemas, and real answers match them', async () => {
    const ok = (path: string, method: string, type = 'application/json') => op(path, method).responses['200'].content[type].schema;
    const resolve = (schema: any) => (schema.$ref ? doc.components.schemas[schema.$ref.split('/').pop()] : schema);
    expect(resolve(ok('/api/v1/sessions/{id}/events', 'get', 'application/x-ndjson')).required).toEqual(expect.arrayContaining(['type', 'timestamp', 'seq']));
    expect(resolve(ok('/api/v1/sessions/stats', 'get')).required).toEqual(['days', 'tz']);
    expect(Object.keys(resolve(ok('/api/v1/sessions/{id}/timeline', 'get')).properties)).toEqual(['tabId', 'clicks', 'customs', 'identifies', 'interactions', 'truncated']);
    expect(resolve(ok('/api/v1/project', 'get')).properties.canvasRecording.enum).toEqual(['off', 'low', 'high']);
    expect(resolve(ok('/api/v1/project', 'patch')).required).toContain('allowedOrigins');
    expect(resolve(resolve(ok('/api/v1/api-keys', 'get')).properties.items.items).required).toContain('lastUsedAt');
    expect(resolve(ok('/api/v1/api-keys', 'post')).required).toEqual(['key', 'secret']);
    expect(resolve(resolve(ok('/api/v1/agents', 'get')).properties.items.items).properties.role.enum).toEqual(['admin', 'agent']);
    expect(resolve(ok('/api/v1/agents', 'post')).required).toContain('email');
    expect(resolve(ok('/api/v1/auth/me', 'get')).required).toEqual(['agent']);

    // Real answers, parsed strictly (an extra or a missing field fails).
    const tab = await startTab(server);
    expect((await postBatch(server, tab, makeEvents(0, 6))).status).toBe(200);
    const cookie = await login(server);
    const ndjson = await fetch(`${server.url}/api/v1/sessions/${tab.sessionId}/events`, { headers: { cookie } });
    expect(ndjson.status).toBe(200);
    const text = await ndjson.text();
    const lines = text.split('\n').filter(Boolean).map((l) => eventLineSchema.strict().parse(JSON.parse(l)));
    expect(lines.map((l) => l.seq)).toEqual([0, 1, 2, 3, 4, 5]);
    const stats = await getJson(`${server.url}/api/v1/sessions/stats?tz=UTC`, cookie);
    expect(stats.status).toBe(200);
    sessionStatsResponseSchema.extend({ days: z.array(sessionStatsResponseSchema.shape.days.element.strict()) }).strict().parse(stats.json);
    const timeline = await getJson(`${server.url}/api/v1/sessions/${tab.sessionId}/timeline?tabId=${tab.tabId}`, cookie);
    expect(timeline.status).toBe(200);
    expect(tabTimelineSchema.strict().parse(timeline.json).tabId).toBe(tab.tabId);
    projectInfoSchema.strict().parse((await getJson(`${server.url}/api/v1/project`, cookie)).json);
    const send = async (method: string, path: string, body: unknown) => {
      const r = await fetch(`${server.url}${path}`, { method, headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(r.status, `${method} ${path}`).toBeLessThan(300);
      return r.json();
    };
    projectInfoSchema.strict().parse(await send('PATCH', '/api/v1/project', { name: 'Renamed for the schema test' }));
    const created = createApiKeyResponseSchema.extend({ key: createApiKeyResponseSchema.shape.key.strict() }).strict()
      .parse(await send('POST', '/api/v1/api-keys', { name: 'schema test' }));
    const keys = apiKeyListSchema.extend({ items: z.array(apiKeyListSchema.shape.items.element.strict()) }).strict()
      .parse((await getJson(`${server.url}/api/v1/api-keys`, cookie)).json);
    expect(keys.items.map((k) => k.id)).toContain(created.key.id);
    const agent = agentInfoSchema.strict().parse(await send('POST', '/api/v1/agents', { email: `schema-${Date.now()}@test.dev`, name: 'Schema', password: 'correct horse battery' }));
    const agents = agentListSchema.extend({ items: z.array(agentInfoSchema.strict()) }).strict().parse((await getJson(`${server.url}/api/v1/agents`, cookie)).json);
    expect(agents.items.map((a) => a.id)).toContain(agent.id);
    meResponseSchema.extend({ agent: agentInfoSchema.strict() }).strict().parse((await getJson(`${server.url}/api/v1/auth/me`, cookie)).json);
    // A real check: a timeline without `truncated` is refused.
    const { truncated: _t, ...partial } = timeline.json;
    expect(tabTimelineSchema.safeParse(partial).success).toBe(false);
  });
});
