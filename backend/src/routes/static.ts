import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { TemplatedApp } from 'uWebSockets.js';
import { TandemError } from '@tandem/protocol';
import type { AppContext } from '../context.js';
import { json, type Reply } from '../http/reply.js';
import type { RequestInfo } from '../http/request.js';
import { route } from '../http/router.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.ico': 'image/x-icon', '.woff2': 'font/woff2', '.map': 'application/json', '.txt': 'text/plain; charset=utf-8',
};

/**
 * File contents by path, kept while the file's mtime is unchanged: /tracker.js is fetched on every
 * customer page view, and a stat is much cheaper than reading 130 KB. Bounded by the files shipped.
 */
const fileCache = new Map<string, { mtimeMs: number; body: Buffer }>();

/** Reads a file below `root`, refusing paths that climb out of it. */
async function fileReply(root: string, relative: string, transform?: (text: string) => string): Promise<Reply | null> {
  const file = path.resolve(root, '.' + path.posix.normalize('/' + relative));
  if (!file.startsWith(path.resolve(root) + path.sep)) return null;
  let mtimeMs: number;
  try {
    const s = await stat(file);
    if (!s.isFile()) return null;
    mtimeMs = s.mtimeMs;
  } catch {
    return null;
  }
  const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
  let cached = fileCache.get(file);
  if (!cached || cached.mtimeMs !== mtimeMs) {
    cached = { mtimeMs, body: await readFile(file) };
    if (fileCache.size < 500) fileCache.set(file, cached);
  }
  let body: Buffer | string = cached.body;
  if (transform && type.startsWith('text/html')) body = transform(body.toString('utf8'));
  // Vite puts a content hash in asset names, so those can be cached for good; the rest revalidates.
  const immutable = relative.startsWith('assets/');
  return { status: 200, headers: { 'content-type': type, 'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache' }, body };
}

function notFound(what: string): never {
  throw new TandemError('not_found', `${what} not found`);
}

export function registerStaticRoutes(app: TemplatedApp, ctx: AppContext, defaultProjectKey: () => string): void {
  const { log, config } = ctx;
  const root = config.rootDir;
  const trackerDir = path.join(root, 'tracker', 'dist');
  const dashboardDir = path.join(root, 'frontend', 'dist');
  const demoDir = path.join(root, 'e2e', 'demo');

  route(app, log, 'get', '/tracker.js', async () => {
    const reply = (await fileReply(trackerDir, 'tandem.iife.js')) ?? notFound('tracker.js (run `npm run build`)');
    // Any site may load the tracker; short cache so an upgrade reaches pages within minutes.
    reply.headers = { ...reply.headers, 'access-control-allow-origin': '*', 'cache-control': 'public, max-age=300' };
    return reply;
  });

  // The assist plugin's WebRTC chunk (calls, canvas video, control, drawing), fetched by /tracker.js
  // the first time a page needs it; asked for as `?v=<content hash>`, so a page never mixes builds.
  route(app, log, 'get', '/tracker-rtc.js', async () => {
    const reply = (await fileReply(trackerDir, 'tandem-rtc.js')) ?? notFound('tracker-rtc.js (run `npm run build`)');
    reply.headers = { ...reply.headers, 'access-control-allow-origin': '*', 'cache-control': 'public, max-age=300' };
    return reply;
  });

  if (config.demo) {
    route(app, log, 'get', '/demo/api/items', () =>
      json({ items: [{ id: 1, name: 'Blue mug', price: 12 }, { id: 2, name: 'Notebook', price: 7 }, { id: 3, name: 'Desk lamp', price: 39 }] }),
    );
    const demo = async (rel: string) =>
      (await fileReply(demoDir, rel || 'index.html', (html) => html.replaceAll('__TANDEM_PROJECT_KEY__', defaultProjectKey()))) ??
      notFound('Demo page');
    route(app, log, 'get', '/demo', () => ({ status: 302, headers: { location: '/demo/' } }));
    route(app, log, 'get', '/demo/*', (req) => demo(req.path.slice('/demo/'.length)));
  }

  // Watch links: the dashboard's index.html (the app picks the watch view from the path). The token is
  // in the path, so no Referer may carry it off and no cache may keep the page; /watch is never framed,
  // /embed exists to be framed.
  const watchPage = (embed: boolean) => async (req: RequestInfo): Promise<Reply> => {
    const reply = (await fileReply(dashboardDir, 'index.html')) ?? notFound('Dashboard (run `npm run build`)');
    const framing = embed
      ? await embedFraming(req.path.slice('/embed/'.length))
      : { 'content-security-policy': "frame-ancestors 'none'", 'x-frame-options': 'DENY' };
    reply.headers = {
      ...reply.headers,
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'x-robots-tag': 'noindex, nofollow',
      ...framing,
    };
    return reply;
  };
  /**
   * /embed may be framed by the sites the link's project allows (Settings → allowed origins), so a leaked
   * link cannot be shown inside someone else's page; a project open to any origin allows any framer.
   * An invalid token gets no header: that page only shows the error.
   */
  const embedFraming = async (token: string): Promise<Record<string, string>> => {
    try {
      const claims = await ctx.signer.verifyWatch(decodeURIComponent(token));
      const origins = (await ctx.projects.byProjectId(claims.pid))?.allowedOrigins ?? [];
      return origins.length ? { 'content-security-policy': `frame-ancestors 'self' ${origins.join(' ')}` } : {};
    } catch {
      return {};
    }
  };
  route(app, log, 'get', '/watch/*', watchPage(false));
  route(app, log, 'get', '/embed/*', watchPage(true));

  // Dashboard: hash-routed single page app, so anything without a file is its index.html.
  route(app, log, 'get', '/*', async (req) => {
    if (req.path.startsWith('/api/') || req.path.startsWith('/ingest/')) notFound('Route');
    const rel = req.path.slice(1);
    return (
      (rel && (await fileReply(dashboardDir, rel))) ||
      (await fileReply(dashboardDir, 'index.html')) ||
      notFound('Dashboard (run `npm run build`)')
    );
  });
}
