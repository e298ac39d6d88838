import path from 'node:path';
import type { TemplatedApp } from 'uWebSockets.js';
import { z } from 'zod';
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

/** Routes of the demo shop, served with TANDEM_DEMO only: not part of the product's surface. */
const DEMO = 'demo site (TANDEM_DEMO only)';

/** `/watch/<token>`: the token is the rest of the path. */
const watchPageParams = z.object({ token: z.string().min(1) });

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
  }, { doc: {
    tag: 'static', summary: 'The tracker (IIFE); the snippet reads data-project-key', auth: ['public'],
    response: { description: 'JavaScript (br/gzip per Accept-Encoding, ETag)', type: 'text/javascript' }, errors: ['not_found'],
  } });

  // The tracker's lazy chunks, fetched by /tracker.js from where it came from, each asked for as
  // `?v=<content hash>` so a page never mixes builds: the live assist plugin with its socket.io client
  // and the pagehide path's sync gzip (both when the page is idle after the first snapshot), and the
  // WebRTC code (calls, canvas video, control, drawing; the first time a page needs it).
  for (const [urlPath, file, summary] of [
    ['/tracker-assist.js', 'tandem-assist.js', 'The live assist plugin and its socket.io client, loaded by /tracker.js when the page is idle'],
    ['/tracker-gzip.js', 'tandem-gzip.js', "The pagehide path's sync gzip, loaded by /tracker.js when the page is idle"],
    ['/tracker-rtc.js', 'tandem-rtc.js', 'The WebRTC chunk (calls, canvas video, control, drawing), loaded when first needed'],
  ] as const) {
    route(app, log, 'get', urlPath, async (req) => {
      const reply = (await fileReply(req, trackerDir, file)) ?? notFound(`${urlPath.slice(1)} (run \`npm run build\`)`);
      reply.headers = { ...reply.headers, 'access-control-allow-origin': '*', 'cache-control': 'public, max-age=300' };
      return reply;
    }, { doc: {
      tag: 'static', summary, auth: ['public'], response: { description: 'JavaScript', type: 'text/javascript' }, errors: ['not_found'],
    } });
  }

  if (config.demo) {
    route(app, log, 'get', '/demo/api/items', () =>
      json({ items: [{ id: 1, name: 'Blue mug', price: 12 }, { id: 2, name: 'Notebook', price: 7 }, { id: 3, name: 'Desk lamp', price: 39 }] }),
    { undocumented: DEMO });
    const demo = async (req: RequestInfo, rel: string) =>
      (await fileReply(req, demoDir, rel || 'index.html', (html) => html.replaceAll('__TANDEM_PROJECT_KEY__', defaultProjectKey()))) ??
      notFound('Demo page');
    route(app, log, 'get', '/demo', () => ({ status: 302, headers: { location: '/demo/' } }), { undocumented: DEMO });
    route(app, log, 'get', '/demo/*', (req) => demo(req, req.path.slice('/demo/'.length)), { undocumented: DEMO });
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
  const linkPage = (summary: string) => ({ doc: {
    tag: 'watch links', summary, auth: ['public'] as const, wildcard: 'token', params: watchPageParams,
    response: { description: "The dashboard's page; the token is checked by the API calls it makes", type: 'text/html' },
    errors: ['not_found'] as const,
  } });
  route(app, log, 'get', '/watch/*', watchPage(false), linkPage('The live view of a watch link, without login (never framed)'));
  route(app, log, 'get', '/embed/*', watchPage(true), linkPage("The same view for iframes (framing allowed for the project's origins)"));

  // Dashboard: hash-routed single page app, so anything without a file is its index.html.
  route(app, log, 'get', '/*', async (req) => {
    if (req.path.startsWith('/api/') || req.path.startsWith('/ingest/')) notFound('Route');
    const rel = req.path.slice(1);
    return (
      (rel && (await fileReply(req, dashboardDir, rel))) ||
      (await fileReply(req, dashboardDir, 'index.html')) ||
      notFound('Dashboard (run `npm run build`)')
    );
  }, { undocumented: "the dashboard's files (a hash-routed single page app)" });
}
