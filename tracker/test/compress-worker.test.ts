import { gunzipSync, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { COMPRESS_WORKER_SOURCE } from '../src/compress-worker.js';
import { PACK_MAX_VERSION, packVersionFor } from '../src/pack-source.js';

/**
 * The compression worker's source run as the worker runs it (its own scope, `self.onmessage`), on Node's
 * CompressionStream: what each packing version puts on the wire. The backend's side of the same formats is
 * backend/test/ingest-pack.test.ts.
 */
function startWorker(): (msg: { id: number; text: string; pack: number; parts?: boolean }, before?: { id: number; part: string }[]) => Promise<Buffer> {
  const self: { onmessage?: (ev: { data: unknown }) => void; postMessage: (m: any) => void } = { postMessage: () => {} };
  new Function('self', COMPRESS_WORKER_SOURCE)(self);
  return (msg, before = []) =>
    new Promise((resolve, reject) => {
      self.postMessage = (m) => (m.buf ? resolve(Buffer.from(m.buf)) : reject(new Error(m.error)));
      for (const p of before) self.onmessage!({ data: p });
      self.onmessage!({ data: msg });
    });
}

const batch = JSON.stringify({
  v: 1, sessionId: 'sessionid0123456789', tabId: 'tabid0123456789',
  events: [
    { type: 4, data: { href: 'https://shop.test/', width: 1280, height: 720 }, timestamp: 1_765_000_000_000, seq: 7 },
    { type: 3, data: { source: 1, positions: [{ x: 1, y: 2, id: 3, timeOffset: -5 }] }, timestamp: 1_765_000_000_040, seq: 8 },
  ],
});

describe('compression worker', () => {
  const run = startWorker();

  it('version 2: packed, no envelope ids (the server takes the token\'s), zlib', async () => {
    const wire = await run({ id: 1, text: batch, pack: 2 });
    expect(wire[0] & 0x0f).toBe(8); // zlib's CM, not gzip's 0x1f 0x8b
    const body = JSON.parse(inflateSync(wire).toString('utf8'));
    expect(body).toMatchObject({ v: 1, pack: 2 });
    expect(body.sessionId).toBeUndefined();
    expect(body.tabId).toBeUndefined();
    expect(body.events[1]).toEqual({ type: 3, data: { source: 1, positions: [[1, 2, 3, -5]] }, timestamp: 40 });
  });

  it('version 1: packed with the ids, gzip; no packing: the text as given, gzip', async () => {
    const v1 = await run({ id: 2, text: batch, pack: 1 });
    expect([v1[0], v1[1]]).toEqual([0x1f, 0x8b]);
    expect(JSON.parse(gunzipSync(v1).toString('utf8'))).toMatchObject({ pack: 1, sessionId: 'sessionid0123456789', tabId: 'tabid0123456789' });
    const plain = await run({ id: 3, text: batch, pack: 0 });
    expect(gunzipSync(plain).toString('utf8')).toBe(batch);
  });

  it('a long body sent in parts (one message per page task) is joined before packing, surrogate pairs cut in two included', async () => {
    const text = JSON.stringify({ v: 1, sessionId: 's0123456', tabId: 't0123456', events: [{ type: 5, data: { tag: 'x', payload: '😀é中'.repeat(50) }, timestamp: 5, seq: 0 }] });
    const cut = text.indexOf('😀') + 1; // between the two halves of a surrogate pair
    const parts = [{ id: 9, part: text.slice(0, cut) }, { id: 9, part: text.slice(cut, cut + 40) }];
    const wire = await run({ id: 9, text: text.slice(cut + 40), pack: 0, parts: true }, parts);
    expect(gunzipSync(wire).toString('utf8')).toBe(text);
    // The parts of one body do not leak into the next.
    expect(gunzipSync(await run({ id: 10, text: batch, pack: 0 })).toString('utf8')).toBe(batch);
  });

  it('a batch it cannot pack goes as given, still in version 2\'s zlib', async () => {
    const odd = JSON.stringify({ v: 1, sessionId: 's0123456', tabId: 't0123456', events: [{ type: 3, data: {}, timestamp: 1.5, seq: 0 }] });
    expect(inflateSync(await run({ id: 4, text: odd, pack: 2 })).toString('utf8')).toBe(odd);
  });

  it('uses the newest version both sides know', () => {
    expect(packVersionFor(undefined)).toBe(0);
    expect(packVersionFor(0)).toBe(0);
    expect(packVersionFor('2')).toBe(0);
    expect(packVersionFor(1)).toBe(1);
    expect(packVersionFor(2)).toBe(2);
    expect(packVersionFor(9)).toBe(PACK_MAX_VERSION);
  });
});
