import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type StartResponse, type TandemEvent } from '@tandem/protocol';
import { spawnChdbHttpServer, type SpawnedChdbHttpServer } from '@tandem/storage/testing';
import { ADMIN, BackendProcess, PROJECT_KEY, freePort, tempDataDir } from './support/backend-process.js';

/**
 * Issue 9, "counters stay right with two instances writing one session": two real backend processes on
 * one store (the ClickHouse-HTTP stand-in over chDB, its own process), each receiving the ingest of one
 * tab of the same session at the same time. Both answer the same counts: they are summed by ClickHouse
 * from each process's deltas, not kept in either process.
 */
let dir: string;
let store: SpawnedChdbHttpServer;
const nodes: BackendProcess[] = [];

beforeAll(async () => {
  dir = await tempDataDir();
  store = await spawnChdbHttpServer({ dataDir: path.join(dir, 'store') });
  const secret = randomBytes(32).toString('base64url');
  // One after the other: the first start creates the project and the admin in the shared store.
  for (const name of ['a', 'b']) {
    const node = new BackendProcess(await freePort(), path.join(dir, name), { TANDEM_SECRET: secret, CLICKHOUSE_URL: store.url });
    await node.start();
    nodes.push(node);
  }
}, 180_000);

afterAll(async () => {
  for (const n of nodes) await n.stop().catch(() => {});
  await store?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as any, headers: res.headers };
}

async function startTab(node: BackendProcess, extra: Record<string, unknown> = {}): Promise<StartResponse> {
  const r = await post(`${node.url}/ingest/v1/start`, {
    v: PROTOCOL_VERSION, projectKey: PROJECT_KEY, url: 'https://shop.test/', clientTime: Date.now(),
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36', ...extra,
  });
  expect(r.status).toBe(200);
  return r.json as StartResponse;
}

/** Batch n of a tab: 10 events, one click, one console error and one JS error among them. */
function events(n: number, t0: number): TandemEvent[] {
  const ev = (i: number, type: number, data: unknown) => ({ seq: n * 10 + i, type, timestamp: t0 + n * 100 + i, data }) as unknown as TandemEvent;
  return Array.from({ length: 10 }, (_, i) => {
    if (n === 0 && i === 0) return ev(i, 4, { href: 'https://shop.test/', width: 1280, height: 720 });
    if (n === 0 && i === 1) return ev(i, 2, { node: { type: 0, childNodes: [], id: 1 }, initialOffset: { top: 0, left: 0 } });
    if (i === 3) return ev(i, 3, { source: 2, type: 2, id: 5, x: 10, y: 20 });
    if (i === 5) return ev(i, 6, { plugin: 'rrweb/console@1', payload: { level: 'error', payload: ['"boom"'], trace: [] } });
    if (i === 7) return ev(i, 5, { tag: 'tandem/error@1', payload: { kind: 'error', name: 'TypeError', message: `e${n}`, stack: '', source: '', line: 1, column: 1 } });
    return ev(i, 3, { source: 1, positions: [{ x: i, y: n, id: 5, timeOffset: 0 }] });
  });
}

async function postBatch(node: BackendProcess, tab: StartResponse, batch: TandemEvent[]): Promise<number> {
  const res = await fetch(`${node.url}/ingest/v1/batch?token=${encodeURIComponent(tab.token)}`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: JSON.stringify({ v: PROTOCOL_VERSION, sessionId: tab.sessionId, tabId: tab.tabId, events: batch }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { ackSeq: number }).ackSeq;
}

describe('two backend processes on one store', () => {
  it('agree on every counter of a session whose tabs they write at the same time', async () => {
    const [a, b] = nodes;
    const first = await startTab(a);
    // The same session (the tracker kept its id), a second tab, started on the other node.
    const second = await startTab(b, { sessionId: first.sessionId, visitorId: first.visitorId });
    expect(second.sessionId).toBe(first.sessionId);
    expect(second.tabId).not.toBe(first.tabId);

    const BATCHES = 8;
    const t0 = Date.now() - 10_000;
    for (let n = 0; n < BATCHES; n++) {
      const [ackA, ackB] = await Promise.all([postBatch(a, first, events(n, t0)), postBatch(b, second, events(n, t0 + 50))]);
      expect([ackA, ackB]).toEqual([n * 10 + 9, n * 10 + 9]);
    }

    const expected = {
      sessionId: first.sessionId, eventCount: BATCHES * 10 * 2, clickCount: BATCHES * 2, consoleErrorCount: BATCHES * 2,
      errorCount: BATCHES * 2, tabCount: 2, pageCount: 2, durationMs: (BATCHES - 1) * 100 + 9 + 50,
    };
    for (const node of nodes) {
      const login = await post(`${node.url}/api/v1/auth/login`, ADMIN);
      expect(login.status).toBe(200);
      const cookie = login.headers.get('set-cookie')!.split(';')[0];
      const detail = await fetch(`${node.url}/api/v1/sessions/${first.sessionId}`, { headers: { cookie } });
      expect(detail.status).toBe(200);
      expect(await detail.json()).toMatchObject(expected);
      const list = await fetch(`${node.url}/api/v1/sessions?hasErrors=true`, { headers: { cookie } });
      const sessions = ((await list.json()) as { sessions: Array<Record<string, unknown>> }).sessions;
      expect(sessions.filter((s) => s.sessionId === first.sessionId)).toEqual([expect.objectContaining(expected)]);
    }
  });
});
