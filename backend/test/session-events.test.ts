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

describe('GET /api/v1/sessions/:id/timeline', () => {
  it('lists clicks, custom events and identify calls, and thins input moments to the first and last of each 10 s bucket', async () => {
    const tab = await startTab(server);
    const t0 = Date.now() - 120_000;
    const raw: Omit<TandemEvent, 'seq'>[] = [
      { type: 4, timestamp: t0, data: { href: 'http://shop.test/', width: 1280, height: 720 } },
      { type: 2, timestamp: t0 + 1, data: { node: { type: 0, childNodes: [], id: 1 }, initialOffset: { top: 0, left: 0 } } },
    ] as any;
    const mouse = (at: number) => ({ type: 3, timestamp: t0 + at, data: { source: 1, positions: [{ x: 1, y: 2, id: 1, timeOffset: 0 }] } });
    // Input every 500 ms for 5 s, 30 s of quiet (the page still mutates), input again for 5 s.
    for (let at = 1000; at <= 6000; at += 500) raw.push(mouse(at) as any);
    for (let at = 7000; at < 36_000; at += 1000) raw.push({ type: 3, timestamp: t0 + at, data: { source: 0, texts: [], attributes: [], removes: [], adds: [] } } as any);
    raw.push({ type: 3, timestamp: t0 + 36_000, data: { source: 2, type: 2, id: 1, x: 5, y: 5 } } as any); // a click
    for (let at = 36_500; at <= 41_000; at += 500) raw.push(mouse(at) as any);
    raw.push({ type: 5, timestamp: t0 + 37_250, data: { tag: 'tandem/custom@1', payload: { name: 'checkout', payload: { step: 2 } } } } as any);
    raw.push({ type: 5, timestamp: t0 + 38_250, data: { tag: 'tandem/identify@1', payload: { userId: 'u-7', traits: { plan: 'pro' } } } } as any);
    raw.push({ type: 5, timestamp: t0 + 38_750, data: { tag: 'tandem/network@1', payload: { url: 'http://shop.test/api', method: 'GET', status: 200 } } } as any);
    // A click inside an oversized event is not parsed (snapshots and big mutations never are).
    raw.push({ type: 3, timestamp: t0 + 39_250, data: { source: 2, type: 2, id: 1, x: 1, y: 1, pad: 'x'.repeat(50_000) } } as any);
    const sorted = raw.sort((a, b) => a.timestamp - b.timestamp).map((e, seq) => ({ ...e, seq }) as TandemEvent);
    expect((await postBatch(server, tab, sorted)).json).toEqual({ ackSeq: sorted.length - 1 });
    const seqAt = (at: number) => sorted.find((e) => e.timestamp === t0 + at)!.seq;
    // Every input moment (mouse moves and the click), and the first and last of each epoch-aligned 10 s bucket.
    const inputs = sorted.filter((e) => e.type === 3 && [1, 2].includes((e.data as any).source) && !(e.data as any).pad).map((e) => e.timestamp);
    const byBucket = new Map<number, number[]>();
    for (const t of inputs) byBucket.set(Math.floor(t / 10_000), [...(byBucket.get(Math.floor(t / 10_000)) ?? []), t]);
    const thinned = [...byBucket.values()].flatMap((b) => (b.length > 1 ? [b[0], b.at(-1)!] : b));
    expect(thinned.length).toBeLessThan(inputs.length);

    const r = await getJson(`${server.url}/api/v1/sessions/${tab.sessionId}/timeline?tabId=${tab.tabId}`, cookie);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      tabId: tab.tabId,
      clicks: [{ ts: t0 + 36_000, seq: seqAt(36_000) }],
      customs: [{ ts: t0 + 37_250, seq: seqAt(37_250), name: 'checkout', payload: { step: 2 } }],
      identifies: [{ ts: t0 + 38_250, seq: seqAt(38_250), userId: 'u-7', traits: { plan: 'pro' } }],
      interactions: thinned,
      truncated: false,
    });
    // What the player computes idle stretches from: the same as from every input.
    const idle = (moments: number[]) => moments.flatMap((t, i) => (i > 0 && t - moments[i - 1] > 10_000 ? [[moments[i - 1], t]] : []));
    expect(idle(thinned)).toEqual([[t0 + 6000, t0 + 36_000]]);
    expect(idle(inputs)).toEqual(idle(thinned));
  });

  it('needs a tab id and a signed-in agent', async () => {
    const r = await getJson(`${server.url}/api/v1/sessions/${sessionId}/timeline`, cookie);
    expect(r.status).toBe(400);
    expect(r.json.error.message).toContain('tabId');
    expect((await fetch(`${server.url}/api/v1/sessions/${sessionId}/timeline?tabId=${tabId}`)).status).toBe(401);
  });
});
