import path from 'node:path';
import type { TemplatedApp } from 'uWebSockets.js';
import { TandemError } from '@tandem/protocol';
import type { AppContext } from '../context.js';
import { json, type Reply } from '../http/reply.js';
import { staticReply } from '../http/static-files.js';
import type { RequestInfo } from '../http/request.js';
import { route } from '../http/router.js';

// Vite puts a content hash in asset names, so those can be cached for good; the rest revalidates
// (cheaply: every answer has an ETag, and a matching If-None-Match gets 304 with no body).
const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

/** A file below `root`, compressed as the request allows; null when there is none (or it climbs out). */
function fileReply(req: RequestInfo, root: string, relative: string, transform?: (text: string) => string): Promise<Reply | null> {
  return staticReply(req, root, relative, { transform, cacheControl: relative.startsWith('assets/') ? IMMUTABLE : REVALIDATE });
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

  route(app, log, 'get', '/tracker.js', async (req) => {
    const reply = (await fileReply(req, trackerDir, 'tandem.iife.js')) ?? notFound('tracker.js (run `npm run build`)');
    // Any site may load the tracker; short cache so an upgrade reaches pages within minutes.
    reply.headers = { ...reply.headers, 'access-control-allow-origin': '*', 'cache-control': 'public, max-age=300' };
    return reply;
  });

  // The tracker's lazy chunks, fetched by /tracker.js from where it came from, each asked for as
  // `?v=<content hash>` so a page never mixes builds: the live assist plugin with its socket.io client
  // and the pagehide path's sync gzip (both when the page is idle after the first snapshot), and the
  // WebRTC code (calls, canvas video, control, drawing; the first time a page needs it).
  for (const [urlPath, file] of [
    ['/tracker-assist.js', 'tandem-assist.js'],
    ['/tracker-gzip.js', 'tandem-gzip.js'],
    ['/tracker-rtc.js', 'tandem-rtc.js'],
  ] as const) {
    route(app, log, 'get', urlPath, async (req) => {
      const reply = (await fileReply(req, trackerDir, file)) ?? notFound(`${urlPath.slice(1)} (run \`npm run build\`)`);
      reply.headers = { ...reply.headers, 'access-control-allow-origin': '*', 'cache-control': 'public, max-age=300' };
      return reply;
    });
  }

  if (config.demo) {
    route(app, log, 'get', '/demo/api/items', () =>
      json({ items: [{ id: 1, name: 'Blue mug', price: 12 }, { id: 2, name: 'Notebook', price: 7 }, { id: 3, name: 'Desk lamp', price: 39 }] }),
    );
    const demo = async (req: RequestInfo, rel: string) =>
      (await fileReply(req, demoDir, rel || 'index.html', (html) => html.replaceAll('__TANDEM_PROJECT_KEY__', defaultProjectKey()))) ??
      notFound('Demo page');
    route(app, log, 'get', '/demo', () => ({ status: 302, headers: { location: '/demo/' } }));
    route(app, log, 'get', '/demo/*', (req) => demo(req, req.path.slice('/demo/'.length)));
  }

  // Watch links: the dashboard's index.html (the app picks the watch view from the path). The token is
  // in the path, so no Referer may carry it off and no cache may keep the page; /watch is never framed,
  // /embed exists to be framed.
  const watchPage = (embed: boolean) => async (req: RequestInfo): Promise<Reply> => {
    const reply = (await fileReply(req, dashboardDir, 'index.html')) ?? notFound('Dashboard (run `npm run build`)');
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
      (rel && (await fileReply(req, dashboardDir, rel))) ||
      (await fileReply(req, dashboardDir, 'index.html')) ||
      notFound('Dashboard (run `npm run build`)')
    );
  });
}
