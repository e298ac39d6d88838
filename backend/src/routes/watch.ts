import type { TemplatedApp } from 'uWebSockets.js';
import { z } from 'zod';
import {
  ASSIST_ROUTES,
  CAPABILITIES,
  TandemError,
  type Capability,
  type WatchInfo,
  type WatchTokenClaims,
  type WatchUrlResponse,
} from '@tandem/protocol';
import type { AppContext } from '../context.js';
import type { RequestInfo } from '../http/request.js';
import { json } from '../http/reply.js';
import { route } from '../http/router.js';
import { decodeJsonBody } from '../ingest/decode.js';
import { describeIssues, idSchema } from '../ingest/schemas.js';
import { requireApiKey } from '../auth/api-keys.js';
import { bearer, checkOrigin, corsHeaders } from './ingest.js';
import { watchInfoSchema, watchUrlResponseSchema } from '../http/openapi-responses.js';

/**
 * Watch links: a signed token (audience `watch`) naming one session, the agent shown to the user, the
 * link's capabilities and an expiry. Holders open `/watch/<token>` (or `/embed/<token>`) without a login;
 * the token also reads that one session's stored data over HTTP (see `watchTokenOf`).
 */

export const WATCH_TTL_DEFAULT_S = 3600;
export const WATCH_TTL_MIN_S = 60;
export const WATCH_TTL_MAX_S = 7 * 24 * 3600;

const HEX_COLOR = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$/;

export const watchUrlRequestSchema = z.object({
  agent: z.object({
    id: z.string().trim().min(1).max(200),
    name: z.string().trim().min(1).max(200),
  }),
  capabilities: z.array(z.enum(CAPABILITIES)).max(CAPABILITIES.length * 2).optional(),
  ttlSeconds: z.number().int().min(WATCH_TTL_MIN_S).max(WATCH_TTL_MAX_S).optional(),
  branding: z.object({
    name: z.string().trim().min(1).max(80).optional(),
    color: z.string().regex(HEX_COLOR, 'color must be a hex color like #0a7').optional(),
  }).optional(),
});

/** `:visitorId`: any string; one that is not a tracker id names no visitor (404). */
export const visitorParamsSchema = z.object({ visitorId: z.string().max(200) });

/** Unique, in CAPABILITIES order, always with `view` (every other capability acts on what is viewed). */
export function normaliseCapabilities(caps: readonly Capability[] | undefined): Capability[] {
  const wanted = new Set<Capability>(['view', ...(caps ?? [])]);
  return CAPABILITIES.filter((c) => wanted.has(c));
}

/** Where links point: TANDEM_PUBLIC_URL, else the origin the caller reached us at. */
function publicOrigin(ctx: AppContext, req: RequestInfo): string {
  if (ctx.config.publicUrl) return ctx.config.publicUrl;
  const host = req.headers.host ?? '';
  if (!/^[A-Za-z0-9.-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/.test(host)) {
    throw new TandemError('bad_request', 'Cannot tell this server\'s address from the Host header; set TANDEM_PUBLIC_URL');
  }
  const proto = req.headers['x-forwarded-proto'] === 'https' ? 'https' : 'http';
  return `${proto}://${host}`;
}

async function mintLink(ctx: AppContext, req: RequestInfo, claims: WatchTokenClaims, ttlSeconds: number): Promise<WatchUrlResponse> {
  const { token, expiresAt } = await ctx.signer.signWatch(claims, ttlSeconds);
  const origin = publicOrigin(ctx, req);
  return {
    watch_url: origin + ASSIST_ROUTES.watchPage(token),
    embed_url: origin + ASSIST_ROUTES.embedPage(token),
    sessionId: claims.sid,
    expiresAt,
  };
}

/**
 * The watch-link claims of `Authorization: Bearer <watch token>`, or null when the request carries no
 * Bearer token at all. A Bearer token that is not a valid, unexpired watch token is `unauthorized`.
 */
export async function watchTokenOf(ctx: AppContext, req: RequestInfo): Promise<(WatchTokenClaims & { expiresAt: number }) | null> {
  const auth = req.headers.authorization;
  if (!auth?.startsWith('Bearer ')) return null;
  return ctx.signer.verifyWatch(auth.slice(7).trim());
}

export function registerWatchRoutes(app: TemplatedApp, ctx: AppContext): void {
  const { log, store, signer, limits, projects, metrics } = ctx;
  const onDone = (r: RequestInfo, status: number) => metrics.httpRequests.inc({ route: r.path.startsWith('/api/v1/visitors/') ? '/api/v1/visitors/:id/watch_url' : r.path, status });

  // An integrator's server (API key) asks for a link to a visitor's session: live now, else the latest stored.
  route(app, log, 'post', '/api/v1/visitors/:visitorId/watch_url', async (req) => {
    const { projectId } = await requireApiKey(ctx, req);
    const visitorId = req.params[0];
    const parsed = watchUrlRequestSchema.safeParse(await decodeJsonBody(req.body, 16 * 1024));
    if (!parsed.success) throw new TandemError('bad_request', describeIssues(parsed.error));
    const body = parsed.data;
    // Visitor ids are the tracker's own random ids: anything else cannot name a visitor.
    const sessionId = idSchema.safeParse(visitorId).success
      ? (await ctx.live?.sessionOfVisitor(projectId, visitorId)) ?? (await store.latestSessionOfVisitor(projectId, visitorId))
      : null;
    if (!sessionId) throw new TandemError('not_found', 'No session of this visitor in this project');
    const branding = body.branding && (body.branding.name || body.branding.color) ? body.branding : undefined;
    const claims: WatchTokenClaims = {
      pid: projectId, sid: sessionId, vid: visitorId, agent: body.agent,
      caps: normaliseCapabilities(body.capabilities), ...(branding ? { branding } : {}),
    };
    return json(await mintLink(ctx, req, claims, body.ttlSeconds ?? WATCH_TTL_DEFAULT_S));
  }, { bodyLimit: 16 * 1024, onDone, doc: {
    tag: 'watch links', summary: "Mint a signed, expiring watch link to a visitor's session (live now, else the latest stored)",
    auth: ['apiKey'], params: visitorParamsSchema, body: { schema: watchUrlRequestSchema },
    response: { description: 'WatchUrlResponse: watch_url, embed_url, sessionId, expiresAt', schema: watchUrlResponseSchema },
    errors: ['bad_json', 'bad_request', 'not_found'],
  } });

  // The tracker's own `Tandem('getWatchLink')`: the user shares a view-only link to their session.
  // A CORS simple request like a batch (token in ?token=, text/plain); the body is ignored.
  route(app, log, 'post', ASSIST_ROUTES.trackerWatchUrl, async (req) => {
    const claims = await signer.verifySession(bearer(req));
    if (!limits.batch.take(`watch:${claims.sid}:${claims.tid}`)) throw new TandemError('rate_limited', 'Too many watch links for this tab');
    const project = await projects.byProjectId(claims.pid);
    if (!project) throw new TandemError('unauthorized', 'Project no longer exists');
    checkOrigin(project.allowedOrigins, req.headers.origin);
    const link: WatchTokenClaims = {
      pid: claims.pid, sid: claims.sid, vid: claims.vid, agent: { id: 'visitor-link', name: 'Shared link' }, caps: ['view'],
    };
    return json(await mintLink(ctx, req, link, WATCH_TTL_DEFAULT_S));
  }, { bodyLimit: 4 * 1024, headers: (r) => corsHeaders(r.headers.origin), onDone, doc: {
    tag: 'watch links', summary: "The tracker's own view-only link to its session (Tandem('getWatchLink'))", auth: ['sessionToken'],
    body: { required: false, types: ['text/plain'], description: 'Ignored (a CORS simple request like a batch)' },
    response: { description: 'WatchUrlResponse', schema: watchUrlResponseSchema }, errors: ['bad_request', 'origin_not_allowed', 'rate_limited'],
  } });

  // What the watch view needs to start.
  route(app, log, 'get', ASSIST_ROUTES.watchInfo, async (req) => {
    const claims = await watchTokenOf(ctx, req);
    if (!claims) throw new TandemError('unauthorized', 'Missing watch link token (Authorization: Bearer)');
    const info: WatchInfo = {
      sessionId: claims.sid, agent: claims.agent, capabilities: claims.caps,
      ...(claims.branding ? { branding: claims.branding } : {}), expiresAt: claims.expiresAt,
    };
    return json(info, 200, { 'cache-control': 'no-store' });
  }, { doc: {
    tag: 'watch links', summary: 'What the watch view needs to start: session, agent shown, capabilities, expiry', auth: ['watchLink'],
    response: { description: 'WatchInfo', schema: watchInfoSchema }, errors: [],
  } });
}
