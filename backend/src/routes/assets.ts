import type { TemplatedApp } from 'uWebSockets.js';
import { z } from 'zod';
import {
  ASSET_PROXY_PATH,
  ASSET_SIGN_MAX_URLS,
  ASSET_URL_MAX_LENGTH,
  TandemError,
  type AssetSignResponse,
} from '@tandem/protocol';
import type { AppContext } from '../context.js';
import type { RequestInfo } from '../http/request.js';
import { errorReply, json, type Reply } from '../http/reply.js';
import { route } from '../http/router.js';
import { decodeJsonBody } from '../ingest/decode.js';
import { describeIssues } from '../ingest/schemas.js';
import { rewriteStylesheet } from '../assets/css.js';
import { requireAgent } from './auth.js';
import { watchTokenOf } from './watch.js';

/** 1,000 URLs of up to 4 KB, JSON-quoted: well under this. */
const SIGN_BODY_LIMIT = 5 * 1024 * 1024;

/**
 * A proxy link's query, as AssetLinkSigner.link writes it: URL, kind, project, expiry (epoch seconds)
 * and the MAC over them. A link missing any of them is not one of ours (401, as a bad signature).
 */
export const assetLinkQuerySchema = z.object({
  u: z.string().min(1).max(ASSET_URL_MAX_LENGTH),
  k: z.enum(['css', 'asset']),
  p: z.string().min(1),
  e: z.string().regex(/^\d+$/),
  s: z.string().min(1),
});

const signSchema = z.strictObject({
  urls: z.array(z.strictObject({ url: z.string(), kind: z.enum(['css', 'asset']) })).max(ASSET_SIGN_MAX_URLS),
});

/**
 * Every proxy answer carries these. `nosniff` keeps browsers to the type we say; the CSP applies when
 * a proxied file is opened as a document (a link to an SVG, an HTML page sent as an image): sandboxed,
 * no scripts, nothing loaded — it can never run in the dashboard's origin.
 */
const SAFE_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:",
  'cross-origin-resource-policy': 'same-origin',
  'referrer-policy': 'no-referrer',
};

/** Types served as they are; anything else (HTML, scripts, JSON, unknown) goes out as an opaque download. */
const PASS_TYPES = /^(image\/(png|jpeg|gif|webp|avif|svg\+xml|x-icon|vnd\.microsoft\.icon|bmp)|font\/[a-z0-9.+-]+|application\/(font-woff2?|x-font-[a-z0-9]+|vnd\.ms-fontobject|font-sfnt))$/;

function servedType(kind: 'css' | 'asset', upstream: string): { type: string; download: boolean } {
  if (kind === 'css') return { type: 'text/css; charset=utf-8', download: false };
  const base = upstream.split(';')[0].trim().toLowerCase();
  if (PASS_TYPES.test(base)) return { type: base, download: false };
  return { type: 'application/octet-stream', download: true };
}

/** Who may sign: a signed-in agent (their project) or a watch-link holder (the link's project). */
async function projectOf(ctx: AppContext, req: RequestInfo): Promise<string> {
  const link = await watchTokenOf(ctx, req);
  if (link) return link.pid;
  return (await requireAgent(ctx, req)).projectId;
}

export function registerAssetRoutes(app: TemplatedApp, ctx: AppContext): void {
  const { log, assets } = ctx;

  route(app, log, 'post', '/api/v1/assets/sign', async (req) => {
    const projectId = await projectOf(ctx, req);
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json') throw new TandemError('bad_request', 'Send the body as Content-Type: application/json');
    const parsed = signSchema.safeParse(await decodeJsonBody(req.body, SIGN_BODY_LIMIT));
    if (!parsed.success) throw new TandemError('bad_request', describeIssues(parsed.error));
    const enabled = !!assets && assets.proxy.config.enabled;
    const body: AssetSignResponse = {
      enabled,
      urls: parsed.data.urls.map(({ url, kind }) => {
        if (!enabled || url.length > ASSET_URL_MAX_LENGTH || !/^https?:\/\//i.test(url)) return null;
        try {
          return assets!.signer.link(new URL(url).href, projectId, kind);
        } catch {
          return null;
        }
      }),
    };
    return json(body);
  }, { bodyLimit: SIGN_BODY_LIMIT, doc: {
    tag: 'assets', summary: 'Sign asset URLs of a replay for the proxy (null where a URL is not proxied)',
    auth: ['agent', 'watchLink'], body: { schema: signSchema }, response: { description: 'AssetSignResponse: {enabled, urls}' },
    errors: ['bad_json', 'bad_request'],
  } });

  route(app, log, 'get', ASSET_PROXY_PATH, async (req): Promise<Reply> => {
    if (!assets?.proxy.config.enabled) throw new TandemError('not_found', 'The asset proxy is switched off on this server');
    if (!assetLinkQuerySchema.safeParse(Object.fromEntries(req.query)).success) {
      throw new TandemError('unauthorized', 'Asset link is not signed (u, k, p, e and s are required)');
    }
    const link = assets.signer.verify(req.query);
    const { entry, body } = await assets.proxy.get(link.url);
    const { type, download } = servedType(link.kind, entry.contentType);
    const maxAge = Math.max(0, Math.floor((link.expiresAt - Date.now()) / 1000));
    const headers: Record<string, string> = {
      ...SAFE_HEADERS,
      'content-type': type,
      'cache-control': `private, max-age=${maxAge}`,
      ...(download ? { 'content-disposition': 'attachment' } : {}),
    };
    if (link.kind === 'css') {
      const css = rewriteStylesheet(body.toString('utf8'), entry.finalUrl, (url, kind) => assets.signer.link(url, link.projectId, kind));
      return { status: 200, headers, body: css };
    }
    return { status: 200, headers, body };
  }, {
    // Errors are JSON like everywhere else, with the same protective headers.
    headers: () => SAFE_HEADERS,
    doc: {
      tag: 'assets', summary: 'A stylesheet, image or font of a replayed page, fetched through the server', auth: ['signedLink'],
      query: assetLinkQuerySchema,
      response: { description: 'The asset (CSS rewritten to proxy links; other types sent as downloads)', type: '*/*' },
      errors: ['unauthorized', 'not_found', 'asset_forbidden', 'asset_failed', 'asset_timeout'],
    },
  });

  // Only GET reaches an origin through the proxy.
  route(app, log, 'any', ASSET_PROXY_PATH, () => errorReply('bad_request', 'The asset proxy answers GET only'),
    { undocumented: 'other methods of the asset proxy answer 400' });
}
