import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { ERROR_CODES, ERROR_STATUS, PROTOCOL_VERSION, type ErrorCode } from '@tandem/protocol';
import type { RouteEntry } from './router.js';
import type { RouteAuth, RouteDoc } from './route-doc.js';
import { STATUS_TEXT } from './reply.js';

/**
 * The OpenAPI 3.1 document of the backend's public HTTP surface, built from the router's own table:
 * every route registered with a `doc` appears, with the zod schemas its handler validates with, and
 * every error it may answer as `{error:{code,message}}` (codes of protocol/src/errors.ts, grouped by status).
 * Success bodies: the main public routes (sessions list and detail, live list, watch links) carry a zod
 * schema of their answer (openapi-responses.ts, checked against the protocol interfaces at compile
 * time); the others are still described in words and by their protocol type name.
 */

export interface OpenApiInfo {
  version: string;
  /** Where the server is reached (TANDEM_PUBLIC_URL); absent: the document's own origin. */
  serverUrl?: string;
}

/** The cookie and tokens of RouteAuth, as OpenAPI security schemes. */
const SECURITY_SCHEMES = {
  agentCookie: { type: 'apiKey', in: 'cookie', name: 'tandem_agent', description: 'Set by POST /api/v1/auth/login (HttpOnly).' },
  apiKey: { type: 'http', scheme: 'bearer', description: 'A project API key, `tk_...` (Settings → API keys).' },
  sessionToken: { type: 'http', scheme: 'bearer', description: 'The tracker session token returned by POST /ingest/v1/start.' },
  sessionTokenQuery: { type: 'apiKey', in: 'query', name: 'token', description: 'The same session token in the query (CORS simple requests).' },
  watchLink: { type: 'http', scheme: 'bearer', description: 'The token of a watch link (`/watch/<token>`).' },
} as const;

const SCHEMES_OF: Record<RouteAuth, (keyof typeof SECURITY_SCHEMES)[]> = {
  agent: ['agentCookie'],
  admin: ['agentCookie'],
  apiKey: ['apiKey'],
  sessionToken: ['sessionToken', 'sessionTokenQuery'],
  watchLink: ['watchLink'],
  projectKey: [],
  signedLink: [],
  public: [],
};

const OPEN: readonly RouteAuth[] = ['public', 'projectKey', 'signedLink'];

export const errorCodeSchema = z.enum(ERROR_CODES);

/** `{error:{code,message}}` limited to the codes one response can carry. */
function errorBodySchema(codes: ErrorCode[]) {
  return z.object({ error: z.object({ code: z.enum(codes as [ErrorCode, ...ErrorCode[]]), message: z.string() }) });
}

/** Every code a route may answer: its own, plus those every route of its kind may. */
export function routeErrors(entry: RouteEntry & { doc: RouteDoc }): ErrorCode[] {
  const codes = new Set<ErrorCode>(entry.doc.errors);
  codes.add('internal');
  if (entry.bodyLimit !== undefined) codes.add('payload_too_large');
  if (entry.doc.auth.some((a) => !OPEN.includes(a))) codes.add('unauthorized');
  if (entry.doc.auth.includes('admin')) codes.add('forbidden');
  return ERROR_CODES.filter((c) => codes.has(c));
}

/** uWS pattern → OpenAPI path: `/sessions/:id` → `/sessions/{id}`, a trailing `*` → `{<wildcard>}`. */
export function openApiPath(pattern: string, wildcard?: string): string {
  let path = pattern.replace(/\/:([A-Za-z0-9_]+)/g, '/{$1}');
  if (path.endsWith('/*')) {
    if (!wildcard) throw new Error(`${pattern}: a documented wildcard route needs doc.wildcard`);
    path = `${path.slice(0, -1)}{${wildcard}}`;
  }
  return path;
}

const METHODS = { get: 'get', post: 'post', put: 'put', patch: 'patch', del: 'delete', options: 'options' } as const;

function register(registry: OpenAPIRegistry, entry: RouteEntry & { doc: RouteDoc }): void {
  const { doc } = entry;
  if (entry.method === 'any') throw new Error(`${entry.pattern}: 'any' routes cannot be documented`);
  const security = doc.auth.flatMap((a) => SCHEMES_OF[a]).map((name) => ({ [name]: [] as string[] }));
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of routeErrors(entry)) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  const responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }> = {};
  const ok = doc.response;
  const okType = ok.type === undefined ? 'application/json' : ok.type;
  responses[String(ok.status ?? 200)] = {
    description: ok.description,
    ...(okType ? { content: { [okType]: { schema: ok.schema ?? (okType === 'application/json' ? {} : { type: 'string' }) } } } : {}),
  };
  for (const [status, codes] of byStatus) {
    responses[String(status)] = {
      description: `${STATUS_TEXT[status] ?? status}: ${codes.join(', ')}`,
      content: { 'application/json': { schema: errorBodySchema(codes) } },
    };
  }
  const body = doc.body && {
    required: doc.body.required ?? true,
    ...(doc.body.description ? { description: doc.body.description } : {}),
    content: Object.fromEntries((doc.body.types ?? ['application/json']).map((t) => [
      t, { schema: doc.body!.schema ?? { type: 'string', contentMediaType: t } },
    ])),
  };
  registry.registerPath({
    method: METHODS[entry.method],
    path: openApiPath(entry.pattern, doc.wildcard),
    operationId: `${METHODS[entry.method]}${openApiPath(entry.pattern, doc.wildcard).replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    tags: [doc.tag],
    security: doc.auth.some((a) => OPEN.includes(a)) || security.length === 0 ? [] : security,
    request: {
      ...(doc.params ? { params: doc.params } : {}),
      ...(doc.query ? { query: doc.query } : {}),
      ...(body ? { body: body as never } : {}),
    },
    responses: responses as never,
  });
}

/** Builds the document from a router table (routes without `doc` are left out: see RouteEntry.undocumented). */
export function buildOpenApiDocument(routes: readonly RouteEntry[], info: OpenApiInfo) {
  const registry = new OpenAPIRegistry();
  for (const [name, scheme] of Object.entries(SECURITY_SCHEMES)) registry.registerComponent('securitySchemes', name, scheme);
  for (const entry of routes) if (entry.doc) register(registry, entry as RouteEntry & { doc: RouteDoc });
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Tandem',
      version: info.version,
      description: `Session replay and live co-browsing. Tracker protocol version ${PROTOCOL_VERSION}. Every error is ` +
        '`{"error":{"code","message"}}` with a code from protocol/src/errors.ts (append-only).',
    },
    ...(info.serverUrl ? { servers: [{ url: info.serverUrl }] } : {}),
  });
}
