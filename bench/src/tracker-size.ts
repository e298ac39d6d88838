/**
 * `tracker-size`: what the tracker costs a customer's page to download.
 *
 * - Each chunk AS SERVED by a running backend (startServer, in this process): /tracker.js, the chunks it
 *   fetches when the page is idle after the first snapshot (/tracker-assist.js: the live assist plugin and
 *   its socket.io client; /tracker-gzip.js: the pagehide path's sync gzip and the compression worker's source) and the WebRTC chunk
 *   (/tracker-rtc.js, only when a call or control needs it), requested with `Accept-Encoding: br`, `gzip`
 *   and none, the wire body measured as it came (node:http does not decode), and checked to decode to
 *   the identity bytes.
 * - What a real page downloads before the first event is sent: a customer page in Chromium (another
 *   origin, the snippet's script tag pointing at the backend) records every response's encoded body
 *   until the first POST /ingest/v1/batch leaves (Chromium's own Accept-Encoding; it offers br on
 *   loopback http), then what follows until the assist socket is open (the idle-time chunks).
 * Anchors printed beside: OpenReplay's tracker ≈ 26 KB br, Sentry's SDK with replay ≈ 36 KB gzip
 * (DESIGN.md §10; not re-measured here: no network).
 *
 *   node --import tsx bench/src/tracker-size.ts
 */
import http from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { launchChromium } from './lib/browser.js';
import { startBenchBackend } from './lib/backend.js';
import { isMain } from './lib/main.js';
import { loadAverage } from './lib/sysload.js';
import { atMost, recordResults, type ResultRow } from './lib/report.js';
import { startFixtureServer } from './lib/server.js';

const BENCH = 'tracker-size';
const TARGET = 'first script ≤ 40 KB brotli, served compressed; assist and WebRTC code in lazy chunks';
const LIMIT_KB = 40;
const ANCHORS = 'anchors: OpenReplay ≈ 26 KB br, Sentry+replay ≈ 36 KB gz';
const CHUNKS = [
  { path: '/tracker.js', what: 'first script' },
  { path: '/tracker-assist.js', what: 'assist plugin + socket.io-client, at idle after the first snapshot' },
  { path: '/tracker-gzip.js', what: "sync gzip for pagehide + the compression worker's source + the IndexedDB store, at idle after the first snapshot" },
  { path: '/tracker-rtc.js', what: 'WebRTC chunk, when a call or control needs it' },
];

interface Wire {
  status: number;
  encoding: string;
  bytes: number;
  decoded: Buffer;
}

function getWire(url: string, acceptEncoding?: string): Promise<Wire> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: acceptEncoding ? { 'accept-encoding': acceptEncoding } : {} }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const encoding = String(res.headers['content-encoding'] ?? 'identity');
          const decoded = encoding === 'br' ? brotliDecompressSync(body) : encoding === 'gzip' ? gunzipSync(body) : body;
          resolve({ status: res.statusCode ?? 0, encoding, bytes: body.length, decoded });
        });
      })
      .on('error', reject);
  });
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

interface PageResponse {
  path: string;
  /** Encoded body bytes, as they came over the wire. */
  bytes: number;
  encoding: string;
  /** Requested before the first batch left. */
  beforeBatch: boolean;
  /** ms since the navigation started, when it was requested. */
  at: number;
}

interface PageDownload {
  responses: PageResponse[];
  /** Script bytes before the first batch: what the page pays before anything is sent. */
  scriptBytes: number;
  /** Script bytes that came after it, up to the open assist socket. */
  laterScriptBytes: number;
  acceptEncoding: string;
  batchAt: number;
  socketAt: number | null;
}

/** A customer page loading the snippet; every response body until the first batch request. */
async function pageDownload(browser: Browser, backendUrl: string, projectKey: string): Promise<PageDownload> {
  const site = await startFixtureServer();
  site.routes.set('/shop.html', {
    type: 'text/html',
    body: `<!doctype html><html><head><title>shop</title><script src="${backendUrl}/tracker.js" data-project-key="${projectKey}" data-ingest-url="${backendUrl}"></script></head>
<body><h1>Shop</h1>${Array.from({ length: 50 }, (_, i) => `<p>Item ${i} <button>Add</button></p>`).join('')}</body></html>`,
  });
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const responses: PageResponse[] = [];
    const pending: Promise<void>[] = [];
    let acceptEncoding = '';
    let navStart = 0;
    let batchAt = 0;
    let socketAt: number | null = null;
    const firstBatch = new Promise<void>((resolve) =>
      page.on('request', (req) => {
        if (req.url().includes('/ingest/v1/batch') && !batchAt) {
          batchAt = Date.now() - navStart;
          resolve();
        }
      }),
    );
    const socketOpen = new Promise<void>((resolve) =>
      page.on('websocket', (ws) => {
        if (!ws.url().includes('/socket.io/')) return;
        // The socket is open once a frame went either way (socket.io's open packet comes first).
        const opened = () => {
          socketAt ??= Date.now() - navStart;
          resolve();
        };
        ws.once('framereceived', opened);
        ws.once('framesent', opened);
      }),
    );
    page.on('requestfinished', (req) => {
      if (!req.url().startsWith(backendUrl) || req.url().includes('/socket.io/')) return;
      const at = Date.now() - navStart;
      const beforeBatch = !batchAt;
      pending.push(
        (async () => {
          const res = await req.response();
          const sizes = await req.sizes();
          const headers = await req.allHeaders();
          const path = new URL(req.url()).pathname;
          if (path === '/tracker.js') acceptEncoding = headers['accept-encoding'] ?? '';
          responses.push({ path, bytes: sizes.responseBodySize, encoding: (await res?.allHeaders())?.['content-encoding'] ?? 'identity', beforeBatch, at });
        })(),
      );
    });
    navStart = Date.now();
    await page.goto(`${site.url}/shop.html`);
    const within = (p: Promise<void>, what: string) =>
      Promise.race([p, new Promise((_, reject) => setTimeout(() => reject(new Error(`no ${what} within 20 s`)), 20_000))]);
    await within(firstBatch, 'batch');
    await within(socketOpen, 'assist socket');
    await new Promise((r) => setTimeout(r, 300)); // the chunks' requestfinished events
    await Promise.all(pending);
    const scripts = (before: boolean) => responses.filter((r) => r.path.endsWith('.js') && r.beforeBatch === before).reduce((s, r) => s + r.bytes, 0);
    return { responses, scriptBytes: scripts(true), laterScriptBytes: scripts(false), acceptEncoding, batchAt, socketAt };
  } finally {
    await context.close();
    await site.close();
  }
}

export async function runTrackerSize(opts: { browser?: Browser } = {}): Promise<ResultRow[]> {
  const backend = await startBenchBackend();
  const rows: ResultRow[] = [];
  let browser = opts.browser;
  try {
    const parts: string[] = [];
    let firstBr = NaN;
    let socketInFirst = false;
    for (const chunk of CHUNKS) {
      const url = backend.url + chunk.path;
      const [raw, gz, br] = [await getWire(url), await getWire(url, 'gzip'), await getWire(url, 'br')];
      for (const w of [raw, gz, br]) {
        if (w.status !== 200) throw new Error(`${chunk.path}: HTTP ${w.status} (run \`npm run build\`)`);
        if (!w.decoded.equals(raw.decoded)) throw new Error(`${chunk.path}: the ${w.encoding} answer does not decode to the file`);
      }
      if (gz.encoding !== 'gzip' || br.encoding !== 'br') throw new Error(`${chunk.path} is not served compressed (got ${gz.encoding}/${br.encoding})`);
      if (chunk.path === '/tracker.js') {
        firstBr = br.bytes;
        // socket.io-client's docs link survives minification: the live assist client is in this script.
        socketInFirst = raw.decoded.includes('socket.io/docs');
      }
      parts.push(`${chunk.path} (${chunk.what}) ${kb(raw.bytes)} raw, ${kb(gz.bytes)} gzip, ${kb(br.bytes)} br`);
      console.log(`${chunk.path}: ${raw.bytes} B raw, ${gz.bytes} B gzip, ${br.bytes} B br (${chunk.what})`);
    }

    let page = 'page download not measured';
    try {
      browser ??= await launchChromium();
      const d = await pageDownload(browser, backend.url, backend.projectKey);
      const list = d.responses.map((r) => `${r.path} ${kb(r.bytes)} ${r.encoding} at ${r.at} ms`).join(', ');
      const first = d.responses.find((r) => r.path === '/tracker.js');
      page =
        `a customer page in Chromium (Accept-Encoding "${d.acceptEncoding}") downloaded ${kb(first?.bytes ?? NaN)} of script before recording ` +
        `(/tracker.js), ${kb(d.scriptBytes)} of script before its first batch left at ${d.batchAt} ms and ${kb(d.scriptBytes + d.laterScriptBytes)} ` +
        `by the time the assist socket was open at ${d.socketAt} ms (ms since navigation): ${list}`;
      console.log(page);
    } catch (err) {
      page = `page download not measured (${(err as Error).message.split('\n')[0]})`;
      console.log(page);
    }

    rows.push(
      atMost(
        BENCH,
        `first script /tracker.js ${kb(firstBr)} brotli as served (${parts.join('; ')}); ${page}; ${ANCHORS}; ` +
          (socketInFirst ? 'the socket.io client is inside /tracker.js' : 'no socket.io client in /tracker.js') +
          ` (load avg ${loadAverage()}: the sizes do not depend on it, the page's times do)`,
        firstBr / 1024,
        LIMIT_KB,
        TARGET,
        ' KB',
      ),
    );
  } finally {
    if (!opts.browser) await browser?.close();
    await backend.close();
  }
  return rows;
}

if (isMain(import.meta.url)) {
  recordResults(await runTrackerSize());
}
