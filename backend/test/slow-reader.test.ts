import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TandemEvent } from '@tandem/protocol';
import { login, makeEvents, postBatch, startTab, startTestServer, type TestServer } from './helpers.js';
import { slowGet } from './slow-client.js';

/**
 * "Streams that never stall" (issue 10): a 12.4 MB session read by a client limited to 3 MB/s used to
 * stop at ~7.7 MB for good (uWS put back a stale onWritable handler, see http/stream.ts). The session
 * must be bigger than what the loopback socket buffers absorb (several MB) or no backpressure happens.
 */
const RATE = 3 * 1024 * 1024;
const EVENTS = 1540;
const PAD = 'x'.repeat(8_000); // ~8 KB per event: 1,540 events ≈ 12.4 MB, the session

let server: TestServer;
let cookie: string;
let sessionId: string;
let events: TandemEvent[];
let expectedBytes: number;

beforeAll(async () => {
  server = await startTestServer({ batchRateLimit: { perSecond: 1000, burst: 1000 } });
  cookie = await login(server);
  const tab = await startTab(server);
  sessionId = tab.sessionId;
  events = makeEvents(0, EVENTS, Date.now()).map((e, i) =>
    (i > 1 ? { ...e, data: { ...(e as { data: object }).data, texts: [{ id: 1, value: `${PAD}${i}` }] } } : e) as TandemEvent);
  // 50 events (~400 KB) per batch keeps each under the ingest body limit.
  for (let i = 0; i < events.length; i += 50) expect((await postBatch(server, tab, events.slice(i, i + 50))).status).toBe(200);
  expectedBytes = events.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e)) + 1, 0);
}, 60_000);
afterAll(async () => server?.dispose());

describe('GET /api/v1/sessions/:id/events to a slow reader', () => {
  it('delivers the whole 12.4 MB body at the reader’s pace (3 MB/s), without stalling', async () => {
    expect(expectedBytes).toBeGreaterThan(12_000_000);
    const ideal = (expectedBytes / RATE) * 1000;
    const r = await slowGet(`${server.url}/api/v1/sessions/${sessionId}/events`, { cookie }, { bytesPerSecond: RATE, timeoutMs: 30_000 });
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(expectedBytes);
    const seqs = r.body.toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).seq);
    expect(seqs).toEqual(events.map((e) => e.seq));
    // Within 1.5× of the reader's own pace (+1 s for the read itself): a stall of any length fails this.
    expect(r.ms).toBeLessThan(ideal * 1.5 + 1_000);
  }, 40_000);

  it('resumes after the reader stops reading for 2 s mid-stream', async () => {
    const r = await slowGet(`${server.url}/api/v1/sessions/${sessionId}/events`, { cookie }, {
      bytesPerSecond: 4 * RATE, stallAfterBytes: 2_000_000, stallMs: 2_000, timeoutMs: 30_000,
    });
    expect(r.body.length).toBe(expectedBytes);
    expect(r.ms).toBeGreaterThanOrEqual(2_000);
    expect(r.ms).toBeLessThan(2_000 + (expectedBytes / (4 * RATE)) * 1500 + 1_000);
  }, 40_000);
});
