import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, login, makeEvents, postBatch, postJson, startTab, startTestServer, type TestServer } from './helpers.js';

/** rrweb import (POST /api/v1/sessions/import) and export (GET /api/v1/sessions/:id/export). */
let server: TestServer;
let cookie: string;
let apiKey: string;
const IMPORT_MAX = 1024 * 1024; // small limit so the size test stays fast

beforeAll(async () => {
  server = await startTestServer({ importMaxBytes: IMPORT_MAX, batchRateLimit: { perSecond: 1000, burst: 1000 } });
  cookie = await login(server);
  const r = await postJson(`${server.url}/api/v1/api-keys`, { name: 'cli' }, { cookie });
  expect(r.status).toBe(200);
  apiKey = r.json.secret;
}, 30_000);
afterAll(async () => server?.dispose());

/** A small but complete rrweb recording, as `@rrweb/record` emits it (no seq; `data` before `timestamp`). */
function recording(t0: number, { meta = true, checkouts = 1 } = {}) {
  const events: Record<string, unknown>[] = [];
  let t = t0;
  for (let c = 0; c < checkouts; c++) {
    if (meta) events.push({ type: 4, data: { href: 'https://shop.example/cart?x=1', width: 1024, height: 600 }, timestamp: t++ });
    events.push({
      type: 2, timestamp: t++,
      data: {
        node: { type: 0, id: 1, childNodes: [{ type: 2, id: 2, tagName: 'html', attributes: {}, childNodes: [
          { type: 2, id: 3, tagName: 'body', attributes: {}, childNodes: [{ type: 3, id: 4, textContent: `checkout ${c} <b>&` }] },
        ] }] },
        initialOffset: { top: 0, left: 0 },
      },
    });
    events.push({ type: 3, data: { source: 0, texts: [{ id: 4, value: `changed ${c}` }], attributes: [], removes: [], adds: [] }, timestamp: t++ });
    events.push({ type: 3, data: { source: 2, type: 2, id: 3, x: 10, y: 20 }, timestamp: t++ });
    events.push({ type: 6, data: { plugin: 'rrweb/console@1', payload: { level: 'error', payload: [`"boom ${c}"`], trace: [] } }, timestamp: t++ });
    t += 1000;
  }
  events.push({ type: 5, data: { tag: 'checkout', payload: { total: 42 } }, timestamp: t++ });
  return events;
}

function importBody(body: unknown, headers: Record<string, string> = { authorization: `Bearer ${apiKey}` }) {
  return postJson(`${server.url}/api/v1/sessions/import`, body, headers);
}

async function postGzip(body: unknown, headers: Record<string, string>) {
  const res = await fetch(`${server.url}/api/v1/sessions/import`, { method: 'POST', headers, body: gzipSync(JSON.stringify(body)) });
  return { status: res.status, json: (await res.json()) as any };
}

/** The events elements of an exported HTML file, one per tab. */
function htmlTabs(html: string) {
  const found = [...html.matchAll(/<script type="application\/json" id="([\w-]+)" class="tandem-tab" data-label="([^"]*)">([\s\S]*?)<\/script>/g)];
  return found.map((m) => ({ id: m[1], label: m[2], json: m[3] }));
}

async function exportJson(sessionId: string, query = '', headers: Record<string, string> = { cookie }) {
  const res = await fetch(`${server.url}/api/v1/sessions/${sessionId}/export?format=rrweb${query}`, { headers });
  return { status: res.status, headers: res.headers, json: (await res.json()) as any };
}

describe('POST /api/v1/sessions/import', () => {
  it('creates a new session from an rrweb array, derives its tables, and exports the same events back', async () => {
    const events = recording(Date.now() - 60_000, { checkouts: 2 });
    const r = await importBody(events);
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ eventCount: events.length, keyframeCount: 2 });
    expect(r.json.sessionId).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
    const { sessionId, tabId } = r.json;

    const detail = await getJson(`${server.url}/api/v1/sessions/${sessionId}`, cookie);
    expect(detail.status).toBe(200);
    expect(detail.json).toMatchObject({
      startedAt: events[0].timestamp, eventCount: events.length, clickCount: 2, consoleErrorCount: 2,
      firstUrl: 'https://shop.example/cart?x=1', screen: '1024x600', tabCount: 1,
    });
    expect(detail.json.keyframes.map((k: any) => [k.seq, k.metaSeq])).toEqual([[1, 0], [6, 5]]);
    expect(detail.json.pages.map((p: any) => p.url)).toEqual(['https://shop.example/cart?x=1']);
    const consoleRows = await getJson(`${server.url}/api/v1/sessions/${sessionId}/console`, cookie);
    expect(consoleRows.json.items.map((c: any) => c.message)).toEqual(['"boom 0"', '"boom 1"']);
    // Listed in the sessions list like a recorded one.
    const list = await getJson(`${server.url}/api/v1/sessions?q=${sessionId}`, cookie);
    expect(list.json.sessions.map((s: any) => s.sessionId)).toEqual([sessionId]);

    // The events API serves it with seq = position; the export is the events as imported.
    const ndjson = await (await fetch(`${server.url}/api/v1/sessions/${sessionId}/events?tabId=${tabId}&fromSeq=5`, { headers: { cookie } })).text();
    expect(ndjson.split('\n').filter(Boolean).map((l) => JSON.parse(l).seq)).toEqual(events.slice(5).map((_, i) => i + 5));
    const out = await exportJson(sessionId);
    expect(out.status).toBe(200);
    expect(out.headers.get('content-disposition')).toBe(`attachment; filename="tandem-${sessionId}.json"`);
    expect(out.json).toEqual(events);
    // And with the API key (what `tandem export` uses), which reads nothing else of a session.
    expect((await exportJson(sessionId, '', { authorization: `Bearer ${apiKey}` })).json).toEqual(events);
    expect((await fetch(`${server.url}/api/v1/sessions/${sessionId}/events`, { headers: { authorization: `Bearer ${apiKey}` } })).status).toBe(401);
  });

  it('finds the snapshots of a recording without Meta events, and plays one with a single snapshot', async () => {
    const noMeta = recording(Date.now() - 50_000, { meta: false, checkouts: 3 });
    const r = await importBody(noMeta);
    expect(r.status).toBe(201);
    const kf = await getJson(`${server.url}/api/v1/sessions/${r.json.sessionId}/keyframes`, cookie);
    expect(kf.json.items.map((k: any) => [k.seq, k.metaSeq])).toEqual([[0, -1], [4, -1], [8, -1]]);

    const single = recording(Date.now() - 40_000, { checkouts: 1 });
    const one = await importBody(single);
    expect(one.json.keyframeCount).toBe(1);
    const kf1 = await getJson(`${server.url}/api/v1/sessions/${one.json.sessionId}/keyframes`, cookie);
    expect(kf1.json.items).toEqual([expect.objectContaining({ seq: 1, metaSeq: 0 })]);
  });

  it('orders events by timestamp (as rrweb replays them) and accepts gzip and a signed-in agent', async () => {
    const events = recording(Date.now() - 30_000);
    const shuffled = [events[2], events[0], events[1], ...events.slice(3)];
    const r = await postGzip(shuffled, { cookie });
    expect(r.status).toBe(201);
    expect((await exportJson(r.json.sessionId)).json).toEqual(events);
  });

  it('refuses bad input with 400 and a message that says what is wrong', async () => {
    const good = recording(Date.now());
    const cases: [unknown, string, RegExp][] = [
      ['{"nope', 'bad_json', /not valid JSON/],
      [{ events: good }, 'bad_request', /array of rrweb events/],
      [[], 'bad_request', /empty/],
      [[good[0], { ...good[1], timestamp: 'x' }], 'bad_request', /^1\.timestamp/],
      [[{ ...good[0], type: 42 }, good[1]], 'bad_request', /0\.type: must be an rrweb EventType/],
      [[good[0], { type: 2, timestamp: 5, data: {} }], 'bad_request', /1\.data\.node/],
      [[good[0], good[2]], 'bad_request', /No FullSnapshot/],
      [[good[0], 'x', good[1]], 'bad_request', /^1:/],
    ];
    for (const [body, code, message] of cases) {
      const r = await importBody(body);
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(r.json.error.code).toBe(code);
      expect(r.json.error.message).toMatch(message);
    }
  });

  it('refuses a body over the size limit with 413, compressed or not', async () => {
    const big = [...recording(Date.now()), { type: 5, data: { tag: 'pad', payload: 'x'.repeat(IMPORT_MAX) }, timestamp: Date.now() }];
    const r = await importBody(big);
    expect(r.status).toBe(413);
    expect(r.json.error.code).toBe('payload_too_large');
    const z = await postGzip(big, { authorization: `Bearer ${apiKey}` });
    expect(z.status).toBe(413);
    expect(z.json.error.message).toMatch(/Decompressed body exceeds/);
  });

  it('needs an API key or a signed-in agent, and answers 401 before reading a big body', async () => {
    const events = recording(Date.now());
    expect((await importBody(events, {})).status).toBe(401);
    const wrongKey = await importBody(events, { authorization: 'Bearer tk_wrong' });
    expect(wrongKey.status).toBe(401);
    expect(wrongKey.json.error.message).toMatch(/API key/);
    const watchish = await importBody(events, { authorization: 'Basic abc' });
    expect(watchish.status).toBe(401);
    // A 900 KB upload without credentials is refused as soon as the headers are in.
    const res = await fetch(`${server.url}/api/v1/sessions/import`, { method: 'POST', body: 'x'.repeat(900 * 1024) });
    expect(res.status).toBe(401);
    expect(res.headers.get('connection')).toBe('close');
  });
});

describe('GET /api/v1/sessions/:id/export', () => {
  it('merges the tabs of a recorded session by timestamp, or exports one tab without seq', async () => {
    const a = await startTab(server);
    const b = await startTab(server, { sessionId: a.sessionId, visitorId: a.visitorId });
    const t0 = Date.now();
    const evA = makeEvents(0, 4, t0); // timestamps t0 + seq*10
    const evB = makeEvents(0, 3, t0 + 5);
    expect((await postBatch(server, a, evA)).status).toBe(200);
    expect((await postBatch(server, b, evB)).status).toBe(200);
    const strip = ({ seq: _s, ...e }: any) => e;
    const all = await exportJson(a.sessionId);
    expect(all.json).toEqual([...evA.map(strip), ...evB.map(strip)].sort((x, y) => x.timestamp - y.timestamp));
    expect((await exportJson(a.sessionId, `&tabId=${b.tabId}`)).json).toEqual(evB.map(strip));
    expect((await exportJson(a.sessionId, '&tabId=nosuchtab123')).status).toBe(404);
  });

  it('exports one self-contained HTML file with the player and the events inlined, nothing fetched', async () => {
    const events = recording(Date.now() - 10_000);
    const { sessionId } = (await importBody(events)).json;
    const res = await fetch(`${server.url}/api/v1/sessions/${sessionId}/export?format=html`, { headers: { cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await res.text();
    expect(html).toContain("default-src 'none'");
    expect(html).toContain('rrwebPlayer');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|@import/i);
    const tabs = htmlTabs(html);
    expect(tabs.map((t) => t.id)).toEqual(['tandem-events']);
    const { json } = tabs[0];
    // `<` in the recorded text is escaped so it cannot close the script element.
    expect(json).not.toContain('<');
    expect(JSON.parse(json)).toEqual(events);
  });

  it('puts every tab of a multi-tab session in the HTML file, each with its own events and a button', async () => {
    const a = await startTab(server);
    const b = await startTab(server, { sessionId: a.sessionId, visitorId: a.visitorId });
    const t0 = Date.now();
    const evA = makeEvents(0, 4, t0);
    const evB = makeEvents(0, 3, t0 + 5);
    expect((await postBatch(server, a, evA)).status).toBe(200);
    expect((await postBatch(server, b, evB)).status).toBe(200);
    const strip = ({ seq: _s, ...e }: any) => e;
    const tabsOf = async (query: string) => {
      const res = await fetch(`${server.url}/api/v1/sessions/${a.sessionId}/export?format=html${query}`, { headers: { cookie } });
      expect(res.status).toBe(200);
      return htmlTabs(await res.text()).map((t) => ({ ...t, events: JSON.parse(t.json) }));
    };
    const both = await tabsOf('');
    expect(both.map((t) => t.id)).toEqual(['tandem-events', 'tandem-events-2']);
    expect(both.map((t) => t.label)).toEqual(['Tab 1 · http://shop.test/', 'Tab 2 · http://shop.test/']);
    expect(both.map((t) => t.events)).toEqual([evA.map(strip), evB.map(strip)]);
    const one = await tabsOf(`&tabId=${b.tabId}`);
    expect(one.map((t) => t.events)).toEqual([evB.map(strip)]);
  });

  it('refuses an unknown format, an unknown session and a missing login', async () => {
    const { sessionId } = (await importBody(recording(Date.now()))).json;
    const bad = await getJson(`${server.url}/api/v1/sessions/${sessionId}/export?format=har`, cookie);
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toContain('rrweb, html');
    expect((await getJson(`${server.url}/api/v1/sessions/nosuchsession1/export`, cookie)).status).toBe(404);
    expect((await fetch(`${server.url}/api/v1/sessions/${sessionId}/export`)).status).toBe(401);
  });
});
