import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionStatsResponse, TandemEvent } from '@tandem/protocol';
import { getJson, login, makeEvents, postBatch, startTab, startTestServer, type TestServer } from './helpers.js';

/** The sessions search and its per-day stats over HTTP: real backend, real chDB, real ingest. */
let server: TestServer;
let cookie: string;
let withError: string;
let plain: string;

const custom = (seq: number, tag: string, payload: unknown): TandemEvent =>
  ({ seq, type: 5, timestamp: Date.now() + seq, data: { tag, payload } }) as unknown as TandemEvent;

beforeAll(async () => {
  server = await startTestServer();
  cookie = await login(server);
  const a = await startTab(server, { userId: 'search-user' });
  await postBatch(server, a, [
    ...makeEvents(0, 3),
    custom(3, 'tandem/error@1', { kind: 'error', name: 'TypeError', message: 'boom', stack: '', source: '', line: 1, column: 1 }),
    custom(4, 'tandem/custom@1', { name: 'checkout_started', payload: { total: 12 } }),
    { seq: 5, type: 6, timestamp: Date.now(), data: { plugin: 'rrweb/console@1', payload: { level: 'warn', payload: ['"card declined"'], trace: [] } } } as unknown as TandemEvent,
  ]);
  const b = await startTab(server);
  await postBatch(server, b, makeEvents(0, 3));
  withError = a.sessionId;
  plain = b.sessionId;
});
afterAll(async () => {
  await server?.dispose();
});

const list = async (query: string) => {
  const r = await getJson(`${server.url}/api/v1/sessions?${query}`, cookie);
  expect(r.status).toBe(200);
  return (r.json.sessions as { sessionId: string }[]).map((s) => s.sessionId);
};

describe('GET /api/v1/sessions filters', () => {
  it('filters by custom event name, console text, errors and browser', async () => {
    expect(await list('event=Checkout_Started')).toEqual([withError]);
    expect(await list('console=CARD%20declined')).toEqual([withError]);
    expect(await list('hasErrors=true')).toEqual([withError]);
    expect(await list('browser=chrome&page=shop.test')).toEqual([plain, withError]);
    expect(await list('browser=firefox')).toEqual([]);
  });
});

describe('GET /api/v1/sessions/stats', () => {
  it('counts sessions and errors per day with the same filters, every day of the range', async () => {
    const r = await getJson(`${server.url}/api/v1/sessions/stats?from=${Date.now() - 2 * 86_400_000}&tz=Europe/Paris`, cookie);
    expect(r.status).toBe(200);
    const stats = r.json as SessionStatsResponse;
    expect(stats.tz).toBe('Europe/Paris');
    expect(stats.days).toHaveLength(3);
    expect(stats.days.at(-1)).toMatchObject({ sessions: 2, sessionsWithErrors: 1, errors: 1 });
    const filtered = (await getJson(`${server.url}/api/v1/sessions/stats?hasErrors=true`, cookie)).json as SessionStatsResponse;
    expect(filtered.days.reduce((n, d) => n + d.sessions, 0)).toBe(1);
  });

  it('is for signed-in agents only', async () => {
    const r = await fetch(`${server.url}/api/v1/sessions/stats`);
    expect(r.status).toBe(401);
  });
});

describe('search parameters are validated with a clear 400', () => {
  const cases: [string, string, RegExp][] = [
    ['list', 'from=yesterday', /from must be a number/],
    ['list', 'from=1700000000', /from must be between/], // seconds, not ms
    ['list', `from=${Date.now()}&to=${Date.now() - 1000}`, /from must not be after to/],
    ['list', 'hasErrors=maybe', /hasErrors must be true or false/],
    ['list', 'minDuration=-5', /minDuration must be between/],
    ['list', 'minDuration=5000&maxDuration=1000', /minDuration must not be more than maxDuration/],
    ['list', 'limit=0', /limit must be between 1 and 200/],
    ['list', 'limit=2.5', /limit must be a whole number/],
    ['list', 'userid=bob', /Unknown parameter userid/],
    ['list', 'url=a&url=b', /url is given more than once/],
    ['list', `console=${'x'.repeat(513)}`, /console is too long/],
    ['list', 'cursor=not-a-cursor', /cursor is malformed/],
    ['stats', 'tz=Mars/Olympus_Mons', /tz must be an IANA time zone/],
    ['stats', 'limit=10', /Unknown parameter limit/],
    ['stats', 'to=soon', /to must be a number/],
  ];
  for (const [route, query, message] of cases) {
    it(`${route}?${query.slice(0, 40)}`, async () => {
      const path = route === 'list' ? '/api/v1/sessions' : '/api/v1/sessions/stats';
      const r = await getJson(`${server.url}${path}?${query}`, cookie);
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe('bad_request');
      expect(r.json.error.message).toMatch(message);
    });
  }
});
