import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RECORDING_ROUTES, type CallRecording, type RecordingListResponse, type StartRecordingResponse } from '@tandem/protocol';
import { recordingFile } from '../src/recordings/uploads.js';
import { sweepRecordingFiles } from '../src/recordings/sweeper.js';
import { startTestServer, type TestServer } from './helpers.js';
import { waitFor } from './live-helpers.js';
import { AssistWorld, ask, emit, join, stateWhere } from './assist-helpers.js';

// Call recordings over HTTP against the live consent (signal.ts RECORDING_ROUTES): upload in order,
// list, Range and download, and every refusal. Small limits so the size checks run on small bodies.
const MAX_CHUNK = 64 * 1024;
const MAX_TOTAL = 200 * 1024;
const TAIL_MS = 300;
let server: TestServer;
let w: AssistWorld;

beforeAll(async () => {
  server = await startTestServer({
    startRateLimit: { perSecond: 1000, burst: 1000 }, loginRateLimit: { perSecond: 100, burst: 100 },
    recordingMaxChunkBytes: MAX_CHUNK, recordingMaxBytes: MAX_TOTAL, recordingTailMs: TAIL_MS,
  });
  w = await new AssistWorld(server).init();
}, 60_000); // a loaded machine (2 cores, several suites) can take long to start chDB
afterAll(async () => server?.dispose());
afterEach(() => w.closeAll());

type Auth = { cookie?: string; token?: string };
const headersOf = (auth: Auth): Record<string, string> => ({
  ...(auth.cookie ? { cookie: auth.cookie } : {}), ...(auth.token ? { authorization: `Bearer ${auth.token}` } : {}),
});

async function http(method: string, route: string, auth: Auth, body?: BodyInit, extra: Record<string, string> = {}) {
  const res = await fetch(server.url + route, { method, headers: { ...headersOf(auth), ...extra }, body });
  const buf = Buffer.from(await res.arrayBuffer());
  let json: any;
  try {
    json = JSON.parse(buf.toString('utf8'));
  } catch {
    /* media */
  }
  return { status: res.status, json, buf, headers: res.headers };
}

/** A watched tab in a call with Admin, who asked to record; `accept` answers the prompt. */
async function callWithRecordRequest() {
  const t = await w.tab();
  const a = await w.agent();
  expect((await join(a.sock, t.tab.sessionId)).ok).toBe(true);
  await waitFor(() => t.rec.of('live:start').length > 0);
  for (const feature of ['call', 'record']) {
    const r = await ask(a.sock, t.tab.sessionId, feature);
    if (!r.ok) throw new Error(r.error.message);
    await waitFor(() => t.rec.of('assist:request').some((p: { requestId: string }) => p.requestId === r.requestId));
    emit(t.sock, 'assist:answer', { requestId: r.requestId, accepted: true });
    await waitFor(() => a.rec.of('assist:result').some((x: { requestId: string }) => x.requestId === r.requestId));
  }
  await stateWhere(t.rec, (s) => s.recording?.agent.peerId === a.peerId());
  return { t, a, sid: t.tab.sessionId };
}

async function startRecording(sid: string, auth: Auth = { cookie: w.cookie }) {
  const r = await http('POST', RECORDING_ROUTES.list(sid), auth, JSON.stringify({ mimeType: 'video/webm;codecs=vp8,opus' }), { 'content-type': 'application/json' });
  expect(r.status).toBe(200);
  return r.json as StartRecordingResponse;
}

const put = (id: string, index: number | string, body: Buffer, auth: Auth = { cookie: w.cookie }) =>
  http('PUT', RECORDING_ROUTES.chunk(id, index as number), auth, new Uint8Array(body), { 'content-type': 'video/webm' });

describe('starting a recording needs the live consent', () => {
  it('refused without the grant, for a watch link without `record`, and for a link of another session', async () => {
    const t = await w.tab();
    const sid = t.tab.sessionId;
    const a = await w.agent();
    expect((await join(a.sock, sid)).ok).toBe(true);
    const noGrant = await http('POST', RECORDING_ROUTES.list(sid), { cookie: w.cookie });
    expect(noGrant.status).toBe(403);
    expect(noGrant.json.error).toMatchObject({ code: 'forbidden', message: expect.stringContaining('consent') });
    const { token: viewOnly } = await w.signer.signWatch({ pid: server.projectId, sid, vid: t.tab.visitorId, agent: { id: 'v', name: 'V' }, caps: ['view', 'call'] }, 60);
    expect((await http('POST', RECORDING_ROUTES.list(sid), { token: viewOnly })).json.error.code).toBe('forbidden');
    const { token: elsewhere } = await w.signer.signWatch({ pid: server.projectId, sid: 'another-session-1', vid: t.tab.visitorId, agent: { id: 'v', name: 'V' }, caps: ['view', 'record'] }, 60);
    expect((await http('POST', RECORDING_ROUTES.list(sid), { token: elsewhere })).json.error.code).toBe('forbidden');
    expect((await http('POST', RECORDING_ROUTES.list(sid), {})).status).toBe(401);
  });

  it('with the grant: a recording id that everyone sees in assist:state; a second start for the same consent is refused', async () => {
    const { t, a, sid } = await callWithRecordRequest();
    const started = await startRecording(sid);
    expect(started).toEqual({ recordingId: expect.stringMatching(/^[0-9a-f-]{36}$/), maxChunkBytes: MAX_CHUNK });
    await stateWhere(t.rec, (s) => s.recording?.recordingId === started.recordingId);
    await stateWhere(a.rec, (s) => s.recording?.recordingId === started.recordingId);
    const again = await http('POST', RECORDING_ROUTES.list(sid), { cookie: w.cookie });
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe('busy');
    // Another agent of the project (not the one the user said yes to) may not start one either.
    const bob = await w.secondLogin('Bob');
    expect((await http('POST', RECORDING_ROUTES.list(sid), { cookie: bob })).json.error.code).toBe('forbidden');
  });
});

describe('uploading, listing and playing', () => {
  it('chunks in order make the file; bad chunks are refused; list, Range and download serve it', async () => {
    const { sid } = await callWithRecordRequest();
    const { recordingId } = await startRecording(sid);
    const chunks = [randomBytes(30_000), randomBytes(20_000), randomBytes(10_000)];
    expect((await put(recordingId, 0, chunks[0])).json).toEqual({ index: 0, bytes: 30_000 });
    // Out of order, empty, too big, not a number, someone else's: refused with a reason.
    const skip = await put(recordingId, 2, chunks[2]);
    expect(skip.status).toBe(400);
    expect(skip.json.error.message).toContain('Chunk 1 is expected');
    expect((await put(recordingId, 1, Buffer.alloc(0))).status).toBe(400);
    const big = await put(recordingId, 1, randomBytes(MAX_CHUNK + 1));
    expect([big.status, big.json?.error?.code]).toEqual([413, 'payload_too_large']);
    expect((await put(recordingId, 'x' as unknown as number, chunks[1])).status).toBe(400);
    const bob = await w.secondLogin('Bob');
    expect((await put(recordingId, 1, chunks[1], { cookie: bob })).status).toBe(403);
    expect((await put(randomUUID(), 0, chunks[1])).status).toBe(404);
    expect((await put(recordingId, 1, chunks[1])).json).toEqual({ index: 1, bytes: 50_000 });
    // A retry of the last chunk (lost answer) is not appended twice.
    expect((await put(recordingId, 1, chunks[1])).json).toEqual({ index: 1, bytes: 50_000 });
    expect((await put(recordingId, 2, chunks[2])).json).toEqual({ index: 2, bytes: 60_000 });
    const fin = await http('POST', RECORDING_ROUTES.finish(recordingId), { cookie: w.cookie }, JSON.stringify({ durationMs: 2500 }));
    expect(fin.json).toMatchObject({ recordingId, sessionId: sid, bytes: 60_000, durationMs: 2500, complete: true, agentName: 'Admin', mimeType: 'video/webm;codecs=vp8,opus' });
    expect((await put(recordingId, 3, chunks[2])).status).toBe(404);

    const list = await http('GET', RECORDING_ROUTES.list(sid), { cookie: bob });
    expect(list.status).toBe(200);
    const items = (list.json as RecordingListResponse).items;
    expect(items).toEqual([expect.objectContaining({ recordingId, bytes: 60_000, durationMs: 2500, complete: true })]);
    expect(Math.abs((items[0] as CallRecording).startedAt - Date.now())).toBeLessThan(60_000);

    const whole = Buffer.concat(chunks);
    const all = await http('GET', RECORDING_ROUTES.media(recordingId), { cookie: bob });
    expect(all.status).toBe(200);
    expect(all.headers.get('content-type')).toBe('video/webm;codecs=vp8,opus');
    expect(all.headers.get('accept-ranges')).toBe('bytes');
    expect(all.headers.get('content-length')).toBe('60000');
    expect(all.buf.equals(whole)).toBe(true);
    const part = await http('GET', RECORDING_ROUTES.media(recordingId), { cookie: bob }, undefined, { range: 'bytes=100-199' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 100-199/60000');
    expect(part.buf.equals(whole.subarray(100, 200))).toBe(true);
    const tail = await http('GET', RECORDING_ROUTES.media(recordingId), { cookie: bob }, undefined, { range: 'bytes=-10' });
    expect([tail.status, tail.buf.equals(whole.subarray(59_990))]).toEqual([206, true]);
    const open = await http('GET', RECORDING_ROUTES.media(recordingId), { cookie: bob }, undefined, { range: 'bytes=59000-' });
    expect([open.status, open.buf.length, open.headers.get('content-range')]).toEqual([206, 1000, 'bytes 59000-59999/60000']);
    const past = await http('GET', RECORDING_ROUTES.media(recordingId), { cookie: bob }, undefined, { range: 'bytes=60000-' });
    expect([past.status, past.headers.get('content-range')]).toEqual([416, 'bytes */60000']);
    const dl = await http('GET', `${RECORDING_ROUTES.media(recordingId)}?download=1`, { cookie: bob });
    expect(dl.headers.get('content-disposition')).toBe(`attachment; filename="tandem-recording-${recordingId}.webm"`);
    expect(dl.buf.equals(whole)).toBe(true);

    // Nobody else: no login, or an agent of another project.
    expect((await http('GET', RECORDING_ROUTES.media(recordingId), {})).status).toBe(401);
    const pid = `proj_${randomUUID().slice(0, 8)}`;
    await server.store.createProject({ id: pid, name: 'B', key: `pk_${randomUUID().replaceAll('-', '')}`, allowedOrigins: [], createdAt: Date.now() });
    const bea = await w.secondLogin('Bea', pid);
    expect((await http('GET', RECORDING_ROUTES.media(recordingId), { cookie: bea })).status).toBe(404);
    expect((await http('GET', RECORDING_ROUTES.list(sid), { cookie: bea })).json).toEqual({ items: [] });
  });

  it('a recording is capped in total size', async () => {
    const { sid } = await callWithRecordRequest();
    const { recordingId } = await startRecording(sid);
    for (let i = 0; i < 3; i++) expect((await put(recordingId, i, randomBytes(MAX_CHUNK))).status).toBe(200);
    const over = await put(recordingId, 3, randomBytes(MAX_CHUNK));
    expect([over.status, over.json.error.code]).toEqual([413, 'payload_too_large']);
  });

  it('after the user stops the recording, chunks are taken for the short tail only', async () => {
    const { t, a, sid } = await callWithRecordRequest();
    const { recordingId } = await startRecording(sid);
    expect((await put(recordingId, 0, randomBytes(1000))).status).toBe(200);
    emit(t.sock, 'assist:end', { feature: 'record' });
    await waitFor(() => a.rec.of('assist:ended').some((e: { feature: string }) => e.feature === 'record'));
    expect((await put(recordingId, 1, randomBytes(1000))).status).toBe(200); // in flight when stopped
    await new Promise((r) => setTimeout(r, TAIL_MS + 100));
    const late = await put(recordingId, 2, randomBytes(1000));
    expect([late.status, late.json.error.code]).toEqual([403, 'forbidden']);
    // Finishing still records what was taken.
    const fin = await http('POST', RECORDING_ROUTES.finish(recordingId), { cookie: w.cookie }, JSON.stringify({ durationMs: 1200 }));
    expect(fin.json).toMatchObject({ bytes: 2000, complete: true });
    const bad = await http('POST', RECORDING_ROUTES.finish(randomUUID()), { cookie: w.cookie }, JSON.stringify({ durationMs: -1 }));
    expect(bad.status).toBe(400);
  });
});

describe('a recorder that never finishes', () => {
  it('is closed by the server after the tail: its metadata has the bytes stored; a late finish still completes it', async () => {
    const { t, sid } = await callWithRecordRequest();
    const { recordingId } = await startRecording(sid);
    expect((await put(recordingId, 0, randomBytes(700))).status).toBe(200);
    expect((await put(recordingId, 1, randomBytes(300))).status).toBe(200);
    emit(t.sock, 'assist:end', { feature: 'call' }); // hanging up ends the recording too
    // The server writes metadata every 5 s while chunks arrive, and once more when it closes the upload
    // (tail + 5 s after the grant ended).
    let stored = null;
    for (let i = 0; !stored && i < 120; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const r = await server.store.getCallRecording(server.projectId, recordingId);
      if (r?.bytes === 1000) stored = r;
    }
    expect(stored).toMatchObject({ bytes: 1000, complete: false });
    expect((await put(recordingId, 2, randomBytes(10))).status).toBe(404);
    const fin = await http('POST', RECORDING_ROUTES.finish(recordingId), { cookie: w.cookie }, JSON.stringify({ durationMs: 900 }));
    expect(fin.json).toMatchObject({ recordingId, bytes: 1000, durationMs: 900, complete: true });
  });
});

describe('retention', () => {
  it('the sweeper deletes files past retention and keeps newer ones; the media route then says gone', async () => {
    const { sid } = await callWithRecordRequest();
    const { recordingId } = await startRecording(sid);
    expect((await put(recordingId, 0, randomBytes(500))).status).toBe(200);
    const file = recordingFile(server.dataDir, server.projectId, recordingId);
    const fresh = path.join(path.dirname(file), 'fresh-one.webm');
    await writeFile(fresh, 'x');
    const old = (Date.now() - (server.config.retentionDays + 1) * 86_400_000) / 1000;
    await utimes(file, old, old);
    expect(await sweepRecordingFiles(server.dataDir, server.config.retentionDays)).toBe(1);
    await expect(stat(file)).rejects.toThrow();
    expect((await stat(fresh)).size).toBe(1);
    const gone = await http('GET', RECORDING_ROUTES.media(recordingId), { cookie: w.cookie });
    expect([gone.status, gone.json.error.code]).toEqual([404, 'not_found']);
    await mkdir(path.join(server.dataDir, 'recordings', 'empty-project'), { recursive: true });
    expect(await sweepRecordingFiles(server.dataDir, server.config.retentionDays)).toBe(0);
  });
});

describe('streaming big media', () => {
  it('a file of many MiB reaches a slow reader whole (backpressure), and a Range from its middle too', async () => {
    const recordingId = randomUUID();
    const size = 12 * 1024 * 1024 + 123;
    const data = randomBytes(size);
    const file = recordingFile(server.dataDir, server.projectId, recordingId);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, data);
    await server.store.saveCallRecording({
      projectId: server.projectId, sessionId: 'big-session-1', recordingId, agentId: 'a', agentName: 'A',
      startedAt: Date.now(), durationMs: 1000, bytes: size, mimeType: 'video/webm', complete: true,
    });
    const res = await fetch(server.url + RECORDING_ROUTES.media(recordingId), { headers: { cookie: w.cookie } });
    expect(res.headers.get('content-length')).toBe(String(size));
    const reader = res.body!.getReader();
    const hash = createHash('sha256');
    let got = 0;
    let reads = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      hash.update(value);
      got += value.length;
      // Slow at first, so the server's send buffer fills and it must wait for the socket to drain.
      if (++reads < 40) await new Promise((r) => setTimeout(r, 10));
    }
    expect(got).toBe(size);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    const mid = await http('GET', RECORDING_ROUTES.media(recordingId), { cookie: w.cookie }, undefined, { range: 'bytes=5000000-9000000' });
    expect(mid.status).toBe(206);
    expect(mid.buf.equals(data.subarray(5_000_000, 9_000_001))).toBe(true);
  });
});
