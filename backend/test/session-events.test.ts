import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TandemEvent } from '@tandem/protocol';
import { getJson, login, makeEvents, postBatch, startTab, startTestServer, type TestServer } from './helpers.js';

/** The ranged events API and keyframe index a seeking player reads. */
let server: TestServer;
let cookie: string;
let sessionId: string;
let tabId: string;
let events: TandemEvent[];

beforeAll(async () => {
  server = await startTestServer({ batchRateLimit: { perSecond: 1000, burst: 1000 } });
  cookie = await login(server);
  const tab = await startTab(server);
  ({ sessionId, tabId } = tab);
  const t0 = Date.now();
  // A checkout at seq 50/51 (Meta + FullSnapshot), like the tracker's checkoutEveryNms.
  events = makeEvents(0, 100, t0).map((e) =>
    e.seq === 50 ? { ...makeEvents(0, 1, t0)[0], seq: 50, timestamp: e.timestamp }
    : e.seq === 51 ? { ...makeEvents(1, 1, t0)[0], seq: 51, timestamp: e.timestamp } : e) as TandemEvent[];
  expect((await postBatch(server, tab, events)).json).toEqual({ ackSeq: 99 });
}, 30_000);
afterAll(async () => server?.dispose());

async function seqs(query: string): Promise<number[]> {
  const res = await fetch(`${server.url}/api/v1/sessions/${sessionId}/events?${query}`, { headers: { cookie } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('application/x-ndjson');
  return (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l).seq);
}

describe('GET /api/v1/sessions/:id/events ranges', () => {
  it('serves inclusive seq ranges, time ranges and limits, combined', async () => {
    expect(await seqs(`tabId=${tabId}&fromSeq=10&toSeq=14`)).toEqual([10, 11, 12, 13, 14]);
    expect(await seqs(`tabId=${tabId}&fromSeq=95`)).toEqual([95, 96, 97, 98, 99]);
    expect(await seqs(`tabId=${tabId}&fromSeq=20&limit=3`)).toEqual([20, 21, 22]);
    expect(await seqs(`tabId=${tabId}&fromSeq=50&toTs=${events[53].timestamp}`)).toEqual([50, 51, 52, 53]);
    expect(await seqs(`fromTs=${events[98].timestamp}`)).toEqual([98, 99]);
    expect(await seqs(`tabId=${tabId}&fromSeq=200`)).toEqual([]);
  });

  it('refuses malformed bounds with 400 bad_request naming the parameter', async () => {
    for (const [q, name] of [['fromSeq=-1', 'fromSeq'], ['toSeq=1.5', 'toSeq'], ['limit=0', 'limit'], ['limit=abc', 'limit'], ['fromTs=x', 'fromTs'], ['tabId=a%20b', 'tabId']]) {
      const r = await getJson(`${server.url}/api/v1/sessions/${sessionId}/events?${q}`, cookie);
      expect(r.status, q).toBe(400);
      expect(r.json.error.code).toBe('bad_request');
      expect(r.json.error.message).toContain(name);
    }
  });

  it('needs a signed-in agent', async () => {
    const res = await fetch(`${server.url}/api/v1/sessions/${sessionId}/events?fromSeq=0`);
    expect(res.status).toBe(401);
  });
});

describe('GET /api/v1/sessions/:id/keyframes', () => {
  it('lists each FullSnapshot with the Meta before it, and that range starts with both', async () => {
    const r = await getJson(`${server.url}/api/v1/sessions/${sessionId}/keyframes?tabId=${tabId}`, cookie);
    expect(r.status).toBe(200);
    expect(r.json.items).toEqual([
      { tabId, seq: 1, ts: events[1].timestamp, metaSeq: 0, metaTs: events[0].timestamp },
      { tabId, seq: 51, ts: events[51].timestamp, metaSeq: 50, metaTs: events[50].timestamp },
    ]);
    const detail = await getJson(`${server.url}/api/v1/sessions/${sessionId}`, cookie);
    expect(detail.json.keyframes).toEqual(r.json.items);
    // A seek to seq 60's time: from the keyframe before it, up to that time.
    const kf = r.json.items[1];
    const res = await fetch(`${server.url}/api/v1/sessions/${sessionId}/events?tabId=${tabId}&fromSeq=${kf.metaSeq}&toTs=${events[60].timestamp}`, { headers: { cookie } });
    const got = (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(got.map((e) => e.type).slice(0, 2)).toEqual([4, 2]);
    expect(got.map((e) => e.seq)).toEqual(Array.from({ length: 11 }, (_, i) => 50 + i));
  });

  it('is empty for a session of another project and 400 for a malformed tab id', async () => {
    expect((await getJson(`${server.url}/api/v1/sessions/nosuchsession1/keyframes`, cookie)).json).toEqual({ items: [] });
    expect((await getJson(`${server.url}/api/v1/sessions/${sessionId}/keyframes?tabId=../x`, cookie)).status).toBe(400);
  });
});
