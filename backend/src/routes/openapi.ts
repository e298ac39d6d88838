import { readFileSync } from 'node:fs';
import type { TemplatedApp } from 'uWebSockets.js';
import type { AppContext } from '../context.js';
import { buildOpenApiDocument } from '../http/openapi.js';
import { json, type Reply } from '../http/reply.js';
import { route, routeTable } from '../http/router.js';

export const OPENAPI_PATH = '/api/v1/openapi.json';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * `GET /api/v1/openapi.json`: the OpenAPI 3.1 document, built from the router's table at the first
 * request (every route is registered by then) and kept: the table does not change while running.
 */
export function registerOpenApiRoute(app: TemplatedApp, ctx: AppContext): void {
  let cached: Reply | undefined;
  route(app, ctx.log, 'get', OPENAPI_PATH, () => {
    cached ??= json(buildOpenApiDocument(routeTable(app), { version: VERSION, serverUrl: ctx.config.publicUrl }), 200,
      { 'cache-control': 'no-cache', 'access-control-allow-origin': '*' });
    return cached;
  }, { doc: {
    tag: 'meta', summary: 'This document (OpenAPI 3.1)', auth: ['public'],
    response: { description: 'The OpenAPI 3.1 document of every public route' }, errors: [],
  } });
}
