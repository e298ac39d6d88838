import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { PROTOCOL_VERSION, type StartResponse, type TandemEvent } from '@tandem/protocol';
import { startServer, type RunningServer, type ServerConfig } from '../src/index.js';

export const ADMIN = { email: 'admin@example.com', password: 'correct horse battery staple' };
export const SECRET = 'test-secret-0123456789-abcdefghijklmnop';

export interface TestServer extends RunningServer {
  dataDir: string;
  dispose(): Promise<void>;
}

export async function startTestServer(overrides: Partial<ServerConfig> = {}, dataDir?: string): Promise<TestServer> {
  const dir = dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'tandem-test-')));
  const server = await startServer(
    { port: 0, host: '127.0.0.1', dataDir: dir, adminEmail: ADMIN.email, adminPassword: ADMIN.password, secret: SECRET, logLevel: 'silent', ...overrides },
    {},
  );
  return Object.assign(server, {
    dataDir: dir,
    async dispose() {
      await server.close();
      if (!dataDir) await rm(dir, { recursive: true, force: true });
    },
  });
}

export function startBody(projectKey: string, extra: Record<string, unknown> = {}) {
  return { v: PROTOCOL_VERSION, projectKey, url: 'http://shop.test/', clientTime: Date.now(), userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36', ...extra };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  // Bounded, naming the URL: a request that hangs under load says which one it was.
  const res = await fetch(url, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  }).catch((err: Error) => {
    throw new Error(`POST ${new URL(url).pathname} got no answer: ${err.message}`);
  });
  const text = await res.text();
  let json: any = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, json, text, headers: res.headers };
}

export async function startTab(server: RunningServer, extra: Record<string, unknown> = {}): Promise<StartResponse> {
  const r = await postJson(`${server.url}/ingest/v1/start`, startBody(server.projectKey, extra));
  if (r.status !== 200) throw new Error(`start failed: ${r.status} ${r.text}`);
  return r.json as StartResponse;
}

/** Small but real rrweb events: Meta, FullSnapshot, then incremental mutations. */
export function makeEvents(fromSeq: number, count: number, t0 = Date.now()): TandemEvent[] {
  const out: TandemEvent[] = [];
  for (let i = 0; i < count; i++) {
    const seq = fromSeq + i;
    const timestamp = t0 + seq * 10;
    if (seq === 0) out.push({ seq, type: 4, timestamp, data: { href: 'http://shop.test/', width: 1280, height: 720 } } as TandemEvent);
    else if (seq === 1)
      out.push({ seq, type: 2, timestamp, data: { node: { type: 0, childNodes: [], id: 1 }, initialOffset: { top: 0, left: 0 } } } as unknown as TandemEvent);
    else out.push({ seq, type: 3, timestamp, data: { source: 0, texts: [], attributes: [{ id: 1, attributes: { 'data-i': String(seq) } }], removes: [], adds: [] } } as unknown as TandemEvent);
  }
  return out;
}

export async function postBatch(server: RunningServer, tab: StartResponse, events: TandemEvent[], opts: { gzip?: boolean; token?: string } = {}) {
  const body = JSON.stringify({ v: PROTOCOL_VERSION, sessionId: tab.sessionId, tabId: tab.tabId, events });
  const res = await fetch(`${server.url}/ingest/v1/batch?token=${encodeURIComponent(opts.token ?? tab.token)}`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: opts.gzip ? gzipSync(body) : body,
  });
  return { status: res.status, json: (await res.json()) as any };
}

export async function login(server: RunningServer, email = ADMIN.email, password = ADMIN.password): Promise<string> {
  const r = await postJson(`${server.url}/api/v1/auth/login`, { email, password });
  if (r.status !== 200) throw new Error(`login failed: ${r.status} ${r.text}`);
  return r.headers.get('set-cookie')!.split(';')[0];
}

export async function getJson(url: string, cookie: string) {
  const res = await fetch(url, { headers: { cookie } });
  return { status: res.status, json: (await res.json()) as any };
}
