import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionDetail, SessionOpenFrame, TandemEvent } from '@tandem/protocol';
import { getJson, login, makeEvents, postBatch, startTab, startTestServer, type TestServer } from './helpers.js';

/** GET /api/v1/sessions/:id/open: a share link's window plan, events and detail in one answer. */
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

interface Opened { frame: SessionOpenFrame; seqs: number[]; session: SessionDetail; lines: string[] }

async function open(query: string): Promise<Opened> {
  const res = await fetch(`${server.url}/api/v1/sessions/${sessionId}/open?${query}`, { headers: { cookie } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('application/x-ndjson');
  const lines = (await res.text()).split('\n').filter(Boolean);
  const [first, ...rest] = lines.map((l) => JSON.parse(l));
  const seqs = rest.filter((x) => typeof x.type === 'number').map((x) => x.seq);
  const details = rest.filter((x) => x.session);
  expect(details).toHaveLength(1);
  // The window's end, right after its events, says how many there were.
  const ends = rest.flatMap((x, i) => (typeof x.windowEvents === 'number' ? [{ at: i, ...x }] : []));
  const lastEvent = rest.map((x) => typeof x.type === 'number').lastIndexOf(true);
  expect(ends).toEqual([{ at: lastEvent + 1, windowEvents: seqs.length }]);
  return { frame: first, seqs, session: details[0].session, lines };
}

describe('GET /api/v1/sessions/:id/open', () => {
  it('answers the window holding t, exactly that window\'s events, then the detail', async () => {
    const late = await open(`t=${200 * 1000}`);
    expect(late.frame.tabId).toBe(tabId);
    expect(late.frame.offset).toBe(200_000);
    expect(late.frame.window).toMatchObject({ index: 1, fromSeq: 50, toSeq: null, start: 150_000 });
    expect(late.frame.keyframes.map((k) => k.seq)).toEqual([1, 51]);
    expect(late.frame.tabs).toEqual([expect.objectContaining({ tabId, eventCount: 100 })]);
    expect(late.seqs).toEqual(Array.from({ length: 50 }, (_, i) => 50 + i));
    // A small window: the detail comes last (the first frame waits for neither its read nor its bytes).
    expect(JSON.parse(late.lines.at(-1)!).session.sessionId).toBe(sessionId);
    // The same detail as the detail route's.
    const detail = await getJson(`${server.url}/api/v1/sessions/${sessionId}`, cookie);
    expect(late.session).toEqual(detail.json);
    expect(late.session.keyframes).toEqual(late.frame.keyframes);
    expect(late.session.tabs).toEqual(late.frame.tabs);

    const early = await open(`t=1000&tabId=${tabId}`);
    expect(early.frame.window).toMatchObject({ index: 0, fromSeq: 0, toSeq: 49, start: 0, end: 150_000 });
    expect(early.seqs).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('opens at the start without t, and past the end at the last window', async () => {
    // Between the first Meta and its FullSnapshot (3 s apart here) nothing is drawn: the offset moves just past the snapshot.
    expect((await open('')).frame).toMatchObject({ offset: STEP_MS + 1, window: { index: 0 } });
    const past = await open('t=99999999');
    expect(past.frame.offset).toBe(99 * STEP_MS);
    expect(past.frame.window?.index).toBe(1);
  });

  it('sends the detail before the events of a window of more than 2,000 events', async () => {
    // A second session: one snapshot, then 2,100 events in one window (an imported recording looks like this).
    const tab = await startTab(server);
    const t0 = Date.now() - 20 * 60_000;
    const many = makeEvents(0, 2_100, t0).map((e) => ({ ...e, timestamp: t0 + e.seq * 100 })) as TandemEvent[];
    for (let from = 0; from < many.length; from += 500) expect((await postBatch(server, tab, many.slice(from, from + 500))).status).toBe(200);
    const res = await fetch(`${server.url}/api/v1/sessions/${tab.sessionId}/open?t=60000`, { headers: { cookie } });
    const lines = (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(lines[0].window).toMatchObject({ index: 0, fromSeq: 0, toSeq: null });
    expect(lines[1].session.sessionId).toBe(tab.sessionId);
    expect(lines.slice(2, -1).map((x) => x.seq)).toEqual(Array.from({ length: 2_100 }, (_, i) => i));
    expect(lines.at(-1)).toEqual({ windowEvents: 2_100 });
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
  it('sends the window\'s plan before the window\'s events have been read', async () => {
    // The events read is held until the frame line has arrived: the early frame plans its window meanwhile.
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
      expect(held, 'the frame line only came with the events').not.toBeNull();
      const { reader, text } = held!;
      expect(read).toBe(false);
      const [headLine, ...partial] = text.split('\n');
      expect(partial.join('')).toBe('');
      expect((JSON.parse(headLine) as SessionOpenFrame).window).toMatchObject({ index: 1, fromSeq: 50 });
      let rest = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        rest += Buffer.from(value).toString('utf8');
      }
      expect(rest.endsWith('\n')).toBe(true);
      const after = rest.split('\n').filter(Boolean).map((l) => JSON.parse(l));
      expect(after.slice(0, -2).map((x) => x.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 50 + i));
      expect(after.at(-2)).toEqual({ windowEvents: 50 });
      expect(after.at(-1).session.sessionId).toBe(sessionId);
    } finally {
      release();
      store.streamEvents = streamEvents;
    }
  });
});
