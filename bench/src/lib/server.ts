/**
 * A tiny loopback HTTP server for fixtures and bundles, plus (optionally) an ingest endpoint that accepts
 * and discards batches. The discard endpoint answers like the real backend (start → token; batch → ackSeq)
 * so the tracker runs its full path (batch, compress, post) without storage behind it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';

export interface StaticRoute {
  type: string;
  body: string | Buffer | (() => string | Buffer);
}

export interface DiscardStats {
  starts: number;
  batches: number;
  events: number;
  wireBytes: number;
  rawBytes: number;
}

export interface FixtureServer {
  url: string;
  port: number;
  routes: Map<string, StaticRoute>;
  discard: DiscardStats;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function cors(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('Access-Control-Allow-Origin', req.headers.origin ?? '*');
  res.setHeader('Access-Control-Allow-Headers', 'content-type, content-encoding, authorization');
  res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
  res.setHeader('Access-Control-Allow-Credentials', 'true');
}

export function fileRoute(path: string, type: string): StaticRoute {
  return { type, body: () => readFileSync(path) };
}

export async function startFixtureServer(opts: { discardIngest?: boolean; flushIntervalMs?: number } = {}): Promise<FixtureServer> {
  const routes = new Map<string, StaticRoute>();
  const discard: DiscardStats = { starts: 0, batches: 0, events: 0, wireBytes: 0, rawBytes: 0 };
  let n = 0;
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'OPTIONS') {
        cors(req, res);
        res.writeHead(204).end();
        return;
      }
      if (opts.discardIngest && url.pathname === '/ingest/v1/start' && req.method === 'POST') {
        const body = JSON.parse((await readBody(req)).toString('utf8') || '{}');
        discard.starts++;
        n++;
        cors(req, res);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            v: 1,
            sessionId: body.sessionId ?? `bench-session-${n}`,
            tabId: body.tabId ?? `bench-tab-${n}`,
            visitorId: body.visitorId ?? `bench-visitor-${n}`,
            token: `discard-token-${n}`,
            tokenExpiresAt: Date.now() + 3600_000,
            serverTime: Date.now(),
            ackSeq: -1,
            config: { maxBatchBytes: 1_000_000, flushIntervalMs: opts.flushIntervalMs ?? 2000, checkoutEveryNms: 5 * 60_000 },
          }),
        );
        return;
      }
      if (opts.discardIngest && url.pathname === '/ingest/v1/batch' && req.method === 'POST') {
        const wire = await readBody(req);
        const raw = wire[0] === 0x1f && wire[1] === 0x8b ? gunzipSync(wire) : wire;
        const body = JSON.parse(raw.toString('utf8'));
        discard.batches++;
        discard.events += body.events?.length ?? 0;
        discard.wireBytes += wire.length;
        discard.rawBytes += raw.length;
        const ackSeq = Math.max(-1, ...(body.events ?? []).map((e: { seq: number }) => e.seq));
        cors(req, res);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ackSeq }));
        return;
      }
      const route = routes.get(url.pathname);
      if (!route) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      const body = typeof route.body === 'function' ? route.body() : route.body;
      cors(req, res);
      res.writeHead(200, { 'content-type': route.type, 'cache-control': 'no-store' });
      res.end(body);
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    routes,
    discard,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}
