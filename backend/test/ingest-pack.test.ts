import { deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, TandemError, type StartResponse } from '@tandem/protocol';
import { PACK_SOURCE } from '../../tracker/src/pack-source.js';
import { PACK_VERSION, unpackBatch } from '../src/ingest/unpack.js';
import { startTab, startTestServer, type TestServer } from './helpers.js';

/**
 * Batch packing (issue 8, bytes on the wire): the tracker worker's packer (tracker/src/pack-source.ts, an ES5
 * string evaluated here as the worker evaluates it) against the backend's unpackBatch. The promise is
 * exactness: every event comes back as the same JSON text, key order included.
 */
const tandemPack = new Function(`${PACK_SOURCE}; return tandemPack;`)() as (body: unknown) => Record<string, unknown> | null;

const T = 1_765_000_000_000;
let nextId = 1;
const el = (tagName: string, attributes: Record<string, string>, childNodes: unknown[], extra: Record<string, unknown> = {}) => {
  const id = nextId++;
  return { type: 2, tagName, attributes, childNodes: childNodes.map((c) => (typeof c === 'function' ? c() : c)), ...extra, id };
};
const text = (textContent: string, extra: Record<string, unknown> = {}) => () => ({ type: 3, textContent, ...extra, id: nextId++ });

/** A FullSnapshot shaped like rrweb's: ids in document order, with the odd cases (extra keys, a skipped id). */
function snapshot(seq: number, timestamp: number) {
  nextId = 1;
  const root = { type: 0, childNodes: [] as unknown[], compatMode: 'CSS1Compat', id: nextId++ };
  root.childNodes.push({ type: 1, name: 'html', publicId: '', systemId: '', id: nextId++ });
  const items = Array.from({ length: 40 }, (_, i) => () => el('li', { class: `item-${i}` }, [text(`Item ${i}`)]));
  const html = el('html', { lang: 'en' }, [
    () => el('head', {}, [() => el('style', {}, [text('.a { color: red; }', { isStyle: true })])]),
    () => el('body', {}, [
      () => el('ul', {}, items),
      () => el('svg', { viewBox: '0 0 1 1' }, [], { isSVG: true }),
      () => { nextId += 5; return el('p', {}, [text('after a gap in the ids')]); },
      () => ({ type: 2, tagName: 'div', id: nextId++, attributes: {}, childNodes: [] }), // id not last: kept
      text('\n  '),
    ]),
  ]);
  root.childNodes.push(html);
  return { type: 2, data: { node: root, initialOffset: { top: 0, left: 0 } }, timestamp, seq };
}

function session() {
  const events: Record<string, unknown>[] = [
    { type: 4, data: { href: 'https://shop.test/', width: 1280, height: 720 }, timestamp: T, seq: 0 },
    snapshot(1, T + 3),
    { type: 3, data: { source: 0, texts: [], attributes: [], removes: [{ parentId: 9, id: 12 }],
      adds: [{ parentId: 9, nextId: null, node: { type: 2, tagName: 'li', attributes: {}, childNodes: [], id: 400 } },
        { parentId: 400, nextId: null, node: { type: 3, textContent: 'new', id: 401 } },
        { parentId: 400, nextId: null, node: { type: 3, textContent: 'odd', id: 7 } }] }, timestamp: T + 1000, seq: 2 },
    { type: 3, data: { source: 1, positions: [{ x: 10, y: 20, id: 5, timeOffset: -40 }, { x: 11, y: 22, id: 5, timeOffset: 0 }] }, timestamp: T + 1050, seq: 3 },
    { type: 3, data: { source: 2, type: 2, id: 5, x: 11, y: 22, pointerType: 0 }, timestamp: T + 1100, seq: 4 },
    // A gap in seq (a dropped batch) and a seq that is not the last key: both kept as they are.
    { type: 5, data: { tag: 'tandem/page@1', payload: { url: 'https://shop.test/x' } }, timestamp: T + 900, seq: 9 },
    { type: 3, seq: 10, data: { source: 3, id: 1, x: 0, y: 120 }, timestamp: T + 1200 },
    { type: 3, data: { source: 6, positions: [{ x: 1, y: 2, id: 3, timeOffset: 0, extra: true }] }, timestamp: T + 1300, seq: 11 },
  ];
  return events.map((e) => JSON.stringify(e));
}

const envelope = (jsons: string[]) => `{"v":${PROTOCOL_VERSION},"sessionId":"s0123456789","tabId":"t0123456789","events":[${jsons.join(',')}]}`;

function roundTrip(jsons: string[]) {
  const packed = tandemPack(JSON.parse(envelope(jsons)));
  expect(packed).not.toBeNull();
  const wire = JSON.stringify(packed);
  const back = unpackBatch(JSON.parse(wire)) as { events: unknown[]; pack?: unknown };
  return { wire, back };
}

describe('batch packing (tracker worker → backend unpack)', () => {
  it('gives back every event as the same JSON text, and is smaller', () => {
    const jsons = session();
    const { wire, back } = roundTrip(jsons);
    expect(back.pack).toBeUndefined();
    expect(back.events.map((e) => JSON.stringify(e))).toEqual(jsons);
    expect(wire.length).toBeLessThan(envelope(jsons).length * 0.9);
    expect(gzipSync(wire).length).toBeLessThan(gzipSync(envelope(jsons)).length);
    // The snapshot's sequential ids are gone from the wire, the out-of-order ones are still there.
    const ids = (t: string) => t.match(/"id":/g)?.length ?? 0;
    expect(ids(wire)).toBeLessThan(ids(envelope(jsons)) - 40);
    expect(wire).toContain('"Item 0"');
    expect(wire).toContain('"isStyle":true');
  });

  it('round-trips a deep snapshot (1,000 levels, as the deep-nesting workload)', () => {
    nextId = 1;
    let node: Record<string, unknown> = { type: 3, textContent: 'leaf', id: 0 };
    for (let i = 0; i < 1_000; i++) node = { type: 2, tagName: 'div', attributes: {}, childNodes: [node], id: 0 };
    const root = { type: 0, childNodes: [node], id: 0 };
    let id = 1;
    for (let n: any = root; n; n = n.childNodes?.[0]) n.id = id++;
    const jsons = [JSON.stringify({ type: 2, data: { node: root, initialOffset: { top: 0, left: 0 } }, timestamp: T, seq: 5 })];
    expect(roundTrip(jsons).back.events.map((e) => JSON.stringify(e))).toEqual(jsons);
  });

  it('leaves a batch alone when it cannot pack it exactly', () => {
    expect(tandemPack(JSON.parse(envelope([JSON.stringify({ type: 3, data: {}, timestamp: T + 0.5, seq: 0 })])))).toBeNull();
    const noId = { type: 2, data: { node: { type: 0, childNodes: [{ type: 3, textContent: 'x' }], id: 1 } }, timestamp: T, seq: 0 };
    expect(tandemPack(JSON.parse(envelope([JSON.stringify(noId)])))).toBeNull();
  });

  it('passes unpacked bodies through and refuses malformed packed ones with bad_request', () => {
    const plain = JSON.parse(envelope(session()));
    expect(unpackBatch(plain)).toBe(plain);
    const refused = (body: unknown) => {
      try {
        unpackBatch(body);
      } catch (err) {
        expect(err).toBeInstanceOf(TandemError);
        return (err as TandemError).code;
      }
      return 'accepted';
    };
    expect(refused({ pack: 3, events: [] })).toBe('bad_request');
    expect(refused({ pack: 2, sessionId: 's0123456789', events: [] })).toBe('accepted'); // without the token's ids: left as they are
    expect(() => unpackBatch({ pack: 2, sessionId: 'other-session', events: [] }, { sessionId: 's0123456789', tabId: 't0123456789' })).toThrow(/from the token/);
    expect(refused({ pack: PACK_VERSION, events: [{ type: 3, timestamp: 1 }] })).toBe('bad_request');
    expect(refused({ pack: PACK_VERSION, events: [{ type: 2, seq: 0, timestamp: 1, data: { node: ['div', {}] } }] })).toBe('bad_request');
    expect(refused({ pack: PACK_VERSION, events: [{ type: 2, seq: 0, timestamp: 1, data: { node: 'text without id' } }] })).toBe('bad_request');
    expect(refused({ pack: PACK_VERSION, events: [{ type: 3, seq: 0, timestamp: 1, data: { source: 1, positions: [[1, 2]] } }] })).toBe('bad_request');
  });
});

describe('POST /ingest/v1/batch with a packed body', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ batchRateLimit: { perSecond: 1000, burst: 1000 } });
  }, 60_000);
  afterAll(async () => server?.dispose(), 30_000);

  const post = async (tab: StartResponse, body: string, compress: (b: string) => Buffer = gzipSync) => {
    const res = await fetch(`${server.url}/ingest/v1/batch?token=${encodeURIComponent(tab.token)}`, {
      method: 'POST', headers: { 'content-type': 'text/plain' }, body: new Uint8Array(compress(body)),
    });
    return { status: res.status, json: (await res.json()) as any };
  };

  /** A plain batch body for this tab with these events (JSON texts). */
  const batchBody = (tab: StartResponse, jsons: string[]) =>
    `{"v":${PROTOCOL_VERSION},"sessionId":"${tab.sessionId}","tabId":"${tab.tabId}","events":[${jsons.join(',')}]}`;
  /** What the store gives back for the tab, line by line. */
  const stored = async (tab: StartResponse) => {
    const lines: string[] = [];
    for await (const line of server.store.streamEvents(server.projectId, tab.sessionId, { tabId: tab.tabId })) lines.push(line);
    return lines;
  };

  it('announces packing in the start answer and stores exactly what the same batch unpacked stores', async () => {
    const jsons = session().slice(0, 5);
    const body = (tab: StartResponse) => batchBody(tab, jsons);
    const packedTab = await startTab(server);
    const plainTab = await startTab(server);
    expect(packedTab.config.pack).toBe(PACK_VERSION);
    expect(await post(packedTab, JSON.stringify(tandemPack(JSON.parse(body(packedTab)))))).toEqual({ status: 200, json: { ackSeq: 4 } });
    expect(await post(plainTab, body(plainTab))).toEqual({ status: 200, json: { ackSeq: 4 } });
    // The envelope check puts seq/type/timestamp first (both ways alike); the events are the page's.
    expect(await stored(packedTab)).toEqual(await stored(plainTab));
    expect((await stored(packedTab)).map((l) => JSON.parse(l))).toEqual(jsons.map((j) => JSON.parse(j)));
  });

  it('version 2: no ids in the envelope (the token\'s are used), zlib-compressed; stores what version 1 stores', async () => {
    const jsons = session().slice(0, 5);
    const body = (tab: StartResponse) => batchBody(tab, jsons);
    const v2Tab = await startTab(server);
    const v1Tab = await startTab(server);
    const v2 = tandemPack(JSON.parse(body(v2Tab)))!;
    delete v2.sessionId;
    delete v2.tabId;
    v2.pack = 2;
    expect(await post(v2Tab, JSON.stringify(v2), deflateSync)).toEqual({ status: 200, json: { ackSeq: 4 } });
    expect(await post(v1Tab, JSON.stringify(tandemPack(JSON.parse(body(v1Tab)))))).toEqual({ status: 200, json: { ackSeq: 4 } });
    expect(await stored(v2Tab)).toEqual(await stored(v1Tab));
    // Ids in a version 2 envelope are refused rather than checked: the format has none.
    const withIds = { ...tandemPack(JSON.parse(body(v2Tab)))!, pack: 2 };
    const r = await post(v2Tab, JSON.stringify(withIds), deflateSync);
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('bad_request');
  });

  it('answers a zlib body that inflates past the limit with 413 and broken zlib with 400 bad_json', async () => {
    const tab = await startTab(server);
    const big = await post(tab, `{"pad":"${'x'.repeat(17 * 1024 * 1024)}"}`, deflateSync);
    expect(big.status).toBe(413);
    expect(big.json.error.code).toBe('payload_too_large');
    const broken = await post(tab, '', () => Buffer.from([0x78, 0x9c, 1, 2, 3, 4]));
    expect(broken.status).toBe(400);
    expect(broken.json.error.code).toBe('bad_json');
  });

  it('answers a malformed packed batch with 400 bad_request', async () => {
    const tab = await startTab(server);
    const r = await post(tab, JSON.stringify({ v: PROTOCOL_VERSION, sessionId: tab.sessionId, tabId: tab.tabId, pack: 7, events: [] }));
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('bad_request');
  });
});
