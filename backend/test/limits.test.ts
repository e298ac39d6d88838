import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeEvents, postBatch, postJson, startBody, startTab, startTestServer, type TestServer } from './helpers.js';

// Its own file: chDB allows one data directory per process, and vitest runs each file in its own process.
let small: TestServer;
beforeAll(async () => {
  small = await startTestServer({
    maxBatchBytes: 10_000,
    maxBatchDecodedBytes: 50_000,
    // Burst 10: the tests above use 3 starts; the flood of 20 below must still see some pass, then 429s.
    startRateLimit: { perSecond: 1, burst: 10 },
    allowedOrigins: ['https://shop.example'],
  });
});
afterAll(async () => small?.dispose());

describe('limits', () => {
  it('accepts ingest only from the project\'s allowed origins when they are set', async () => {
    const denied = await postJson(`${small.url}/ingest/v1/start`, startBody(small.projectKey), { origin: 'https://evil.example' });
    expect(denied.status).toBe(403);
    expect(denied.json.error.code).toBe('origin_not_allowed');
    const allowed = await postJson(`${small.url}/ingest/v1/start`, startBody(small.projectKey), { origin: 'https://shop.example' });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    // A token minted for an allowed origin cannot be used to post from another one.
    const r = await fetch(`${small.url}/ingest/v1/batch?token=${allowed.json.token}`, {
      method: 'POST',
      headers: { origin: 'https://evil.example' },
      body: JSON.stringify({ v: 1, sessionId: allowed.json.sessionId, tabId: allowed.json.tabId, events: makeEvents(0, 1) }),
    });
    expect(r.status).toBe(403);
  });

  it('refuses a body over the limit with 413, compressed or decompressed, and keeps accepting after', async () => {
    const tab = await startTab(small);
    // Random text so gzip cannot shrink it under the compressed limit.
    const noisy = [{ seq: 0, type: 5, timestamp: 1, data: { tag: 'x', payload: Array.from({ length: 3000 }, () => Math.random().toString(36)).join('') } }];
    const r1 = await postBatch(small, tab, noisy as any);
    expect(r1.status).toBe(413);
    expect(r1.json.error.code).toBe('payload_too_large');
    // A small gzip body that expands past the decoded limit (zip bomb).
    const bomb = [{ seq: 0, type: 5, timestamp: 1, data: { tag: 'x', payload: 'z'.repeat(200_000) } }];
    const r2 = await postBatch(small, tab, bomb as any, { gzip: true });
    expect(r2.status).toBe(413);
    expect(r2.json.error.message).toMatch(/Decompressed/);
    const ok = await postBatch(small, tab, makeEvents(0, 2));
    expect(ok.json).toEqual({ ackSeq: 1 });
  });

  it('answers 429 to a flood of new sessions from one address', async () => {
    const results = [];
    for (let i = 0; i < 20; i++) results.push(await postJson(`${small.url}/ingest/v1/start`, startBody(small.projectKey)));
    const statuses = results.map((r) => r.status);
    expect(statuses).toContain(200);
    expect(statuses).toContain(429);
    expect(results.find((r) => r.status === 429)!.json.error.code).toBe('rate_limited');
  });

  it('refuses to share its port with a second server, and says why', () => {
    // A second Tandem on the same port must fail loudly, not split the traffic (uWS's SO_REUSEPORT).
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tandem-port-'));
    const other = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: path.resolve(new URL('..', import.meta.url).pathname),
      env: { ...process.env, PORT: String(small.port), HOST: '127.0.0.1', TANDEM_DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    rmSync(dataDir, { recursive: true, force: true });
    expect(other.status).toBe(1);
    expect(other.stderr).toContain(`tandem: Cannot listen on 127.0.0.1:${small.port}: is another process using that port?`);
  });
});
