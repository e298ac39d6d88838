import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionOpenHead, TandemEvent } from '@tandem/protocol';
import { getJson, login, makeEvents, postBatch, startTab, startTestServer, type TestServer } from './helpers.js';

/** GET /api/v1/sessions/:id/open: a share link's detail, window and events in one answer. */
let server: TestServer;
let cookie: string;
let sessionId: string;
let tabId: string;
let events: TandemEvent[];
const STEP_MS = 3000;

beforeAll(async () => {
  server = await startTestServer({ batchRateLimit: { perSecond: 1000, burst: 1000 } });
  cookie = await login(server);
  const tab = await startTab(server);
  ({ sessionId, tabId } = tab);
  // 100 events 3 s apart (5 minutes), with a checkout (Meta + FullSnapshot) at seq 50/51, 150 s in:
  // two windows, [0..49] and [50..].
  const t0 = Date.now() - 10 * 60_000;
  const base = makeEvents(0, 2, t0);
  events = makeEvents(0, 100, t0).map((e) => {
    const timestamp = t0 + e.seq * STEP_MS;
    if (e.seq === 50) return { ...base[0], seq: 50, timestamp };
    if (e.seq === 51) return { ...base[1], seq: 51, timestamp };
    return { ...e, timestamp };
  }) as TandemEvent[];
  expect((await postBatch(server, tab, events)).json).toEqual({ ackSeq: 99 });
}, 30_000);
afterAll(async () => server?.dispose());

async function open(query: string): Promise<{ head: SessionOpenHead; seqs: number[] }> {
  const res = await fetch(`${server.url}/api/v1/sessions/${sessionId}/open?${query}`, { headers: { cookie } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('application/x-ndjson');
  const [first, ...rest] = (await res.text()).split('\n').filter(Boolean);
  return { head: JSON.parse(first), seqs: rest.map((l) => JSON.parse(l).seq) };
}

describe('GET /api/v1/sessions/:id/open', () => {
  it('answers the detail, the window holding t and exactly that window\'s events', async () => {
    const late = await open(`t=${200 * 1000}`);
    expect(late.head.session.sessionId).toBe(sessionId);
    expect(late.head.session.keyframes.map((k) => k.seq)).toEqual([1, 51]);
    expect(late.head.tabId).toBe(tabId);
    expect(late.head.offset).toBe(200_000);
    expect(late.head.window).toMatchObject({ index: 1, fromSeq: 50, toSeq: null, start: 150_000 });
    expect(late.seqs).toEqual(Array.from({ length: 50 }, (_, i) => 50 + i));

    const early = await open(`t=1000&tabId=${tabId}`);
    expect(early.head.window).toMatchObject({ index: 0, fromSeq: 0, toSeq: 49, start: 0, end: 150_000 });
    expect(early.seqs).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('opens at the start without t, and past the end at the last window', async () => {
    // Between the first Meta and its FullSnapshot (3 s apart here) nothing is drawn: the offset moves just past the snapshot.
    expect((await open('')).head).toMatchObject({ offset: STEP_MS + 1, window: { index: 0 } });
    const past = await open('t=99999999');
    expect(past.head.offset).toBe(99 * STEP_MS);
    expect(past.head.window?.index).toBe(1);
  });

  it('refuses a malformed t, an unknown parameter and a malformed tab with 400 JSON naming it', async () => {
    for (const [q, name] of [['t=-5', 't'], ['t=soon', 't'], ['time=5', 'time'], ['tabId=a%20b', 'tabId'], ['t=1&t=2', 't']]) {
      const r = await getJson(`${server.url}/api/v1/sessions/${sessionId}/open?${q}`, cookie);
      expect(r.status, q).toBe(400);
      expect(r.json.error.code, q).toBe('bad_request');
      expect(r.json.error.message, q).toContain(name);
    }
  });

  it('is 404 JSON for an unknown session and 401 without an agent', async () => {
    const missing = await getJson(`${server.url}/api/v1/sessions/nosuchsession1/open?t=0`, cookie);
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('not_found');
    const anon = await fetch(`${server.url}/api/v1/sessions/${sessionId}/open`);
    expect(anon.status).toBe(401);
    expect(((await anon.json()) as any).error.code).toBe('unauthorized');
  });
  it('sends the head before the window\'s events have been read', async () => {
    // The events read is held until the head has arrived: the page lays itself out meanwhile.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const store = server.store;
    const streamEvents = store.streamEvents;
    let read = false;
    store.streamEvents = async function* (...args: Parameters<typeof streamEvents>) {
      await gate;
      read = true;
      yield* streamEvents.apply(store, args);
    };
    try {
      const answer = (async () => {
        const res = await fetch(`${server.url}/api/v1/sessions/${sessionId}/open?t=${200 * 1000}`, { headers: { cookie } });
        const reader = res.body!.getReader();
        let text = '';
        while (!text.includes('\n')) {
          const { done, value } = await reader.read();
          if (done) break;
          text += Buffer.from(value).toString('utf8');
        }
        return { reader, text };
      })();
      const held = await Promise.race([answer, new Promise<null>((resolve) => setTimeout(() => resolve(null), 5_000))]);
      release();
      expect(held, 'the head only came with the events').not.toBeNull();
      const { reader, text } = held!;
      expect(read).toBe(false);
      const [headLine, ...partial] = text.split('\n');
      expect(partial.join('')).toBe('');
      expect((JSON.parse(headLine) as SessionOpenHead).window).toMatchObject({ index: 1, fromSeq: 50 });
      let rest = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        rest += Buffer.from(value).toString('utf8');
      }
      expect(rest.endsWith('\n')).toBe(true);
      expect(rest.split('\n').filter(Boolean).map((l) => JSON.parse(l).seq)).toEqual(Array.from({ length: 50 }, (_, i) => 50 + i));
    } finally {
      release();
      store.streamEvents = streamEvents;
    }
  });
});
