import type { TemplatedApp } from 'uWebSockets.js';
import { z } from 'zod';
import { EXPORT_FORMATS, TandemError } from '@tandem/protocol';
import { parseQuery } from '../http/query.js';
import { API_KEY_PREFIX, requireApiKey } from '../auth/api-keys.js';
import type { AppContext } from '../context.js';
import type { RequestInfo } from '../http/request.js';
import { json } from '../http/reply.js';
import { route, STREAMED } from '../http/router.js';
import { JSON_ARRAY, streamLines } from '../http/stream.js';
import { decodeJsonBody } from '../ingest/decode.js';
import { htmlFraming, htmlTabLines } from '../transfer/html-export.js';
import { exportLines } from '../transfer/rrweb-export.js';
import { importSchema, importSession, parseImport } from '../transfer/rrweb-import.js';
import { requireAgent } from './auth.js';
import { SESSION_READERS, sessionReader, tabQuerySchema } from './sessions.js';

/** The project an import goes to: the API key's (CLI, scripts) or the signed-in agent's (dashboard). */
async function importer(ctx: AppContext, req: RequestInfo): Promise<string> {
  if (req.headers.authorization?.startsWith('Bearer ')) return (await requireApiKey(ctx, req)).projectId;
  if (req.headers.authorization) throw new TandemError('unauthorized', `Use an API key (Authorization: Bearer ${API_KEY_PREFIX}...) or sign in`);
  return (await requireAgent(ctx, req)).projectId;
}

/** `?format=&tabId=` of the export. */
export const exportQuerySchema = tabQuerySchema.extend({
  format: z.enum(EXPORT_FORMATS, { error: `format must be one of ${EXPORT_FORMATS.join(', ')}` }).default('rrweb'),
});

export function registerTransferRoutes(app: TemplatedApp, ctx: AppContext): void {
  const { log, store, config } = ctx;

  route(app, log, 'post', '/api/v1/sessions/import', async (req) => {
    const projectId = await importer(ctx, req);
    const events = parseImport(await decodeJsonBody(req.body, config.importMaxBytes));
    let result;
    try {
      result = await importSession(store, projectId, events);
    } catch (err) {
      if (err instanceof TandemError) throw err;
      log.error({ err }, 'import: storage write failed');
      throw new TandemError('unavailable', 'Storage is not accepting writes right now; retry the import later');
    }
    log.info({ sessionId: result.sessionId, events: result.eventCount }, 'session imported');
    return json(result, 201);
  }, { bodyLimit: config.importMaxBytes, precheck: (req) => importer(ctx, req), doc: {
    tag: 'transfer', summary: 'Import an rrweb events array as a new session', auth: ['apiKey', 'agent'],
    body: { schema: importSchema, description: 'JSON array of rrweb events (gzip allowed), e.g. from the export or @rrweb/record' },
    response: { status: 201, description: 'ImportResponse: {sessionId, eventCount, ...}' }, errors: ['bad_json', 'bad_request', 'unavailable'],
  } });

  route(app, log, 'get', '/api/v1/sessions/:id/export', async (req, client) => {
    const { projectId, sessionId } = await sessionReader(ctx, req, { apiKey: true });
    const { format, tabId } = parseQuery(req.query, exportQuerySchema);
    const session = await store.getSession(projectId, sessionId);
    if (!session) throw new TandemError('not_found', 'No such session');
    if (tabId && !session.tabs.some((t) => t.tabId === tabId)) throw new TandemError('not_found', 'No such tab in this session');
    const base = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
    if (format === 'rrweb') {
      const tabIds = tabId ? [tabId] : session.tabs.map((t) => t.tabId);
      await streamLines(client.res, {
        ...base, 'content-type': 'application/json; charset=utf-8',
        'content-disposition': `attachment; filename="tandem-${sessionId}.json"`,
      }, exportLines(store, projectId, sessionId, tabIds), client, JSON_ARRAY);
      return STREAMED;
    }
    // rrweb-player plays one document: the given tab, or every tab with buttons to switch (html-export.ts).
    const tabs = tabId ? session.tabs.filter((t) => t.tabId === tabId) : session.tabs;
    if (tabs.length === 0) throw new TandemError('not_found', 'This session has no events to play');
    const framing = htmlFraming({ sessionId, url: session.firstUrl, startedAt: session.startedAt, durationMs: session.durationMs });
    const label = (tab: (typeof tabs)[number], index: number) => {
      const page = session.pages.find((p) => p.tabId === tab.tabId);
      return `Tab ${index + 1}${page ? ` · ${page.title || page.url}` : ''}`;
    };
    await streamLines(client.res, {
      ...base, 'content-type': 'text/html; charset=utf-8',
      'content-disposition': `attachment; filename="tandem-${sessionId}.html"`,
    }, htmlTabLines(tabs.map((tab, i) => ({ label: label(tab, i), lines: exportLines(store, projectId, sessionId, [tab.tabId]) }))), client, framing);
    return STREAMED;
  }, { doc: {
    tag: 'transfer', summary: 'Download a session: rrweb JSON array (every tab) or a self-contained HTML player (one tab)',
    auth: ['apiKey', ...SESSION_READERS.auth], params: SESSION_READERS.params, query: exportQuerySchema,
    response: { description: 'An attachment: application/json (format=rrweb) or text/html (format=html)' },
    errors: ['bad_request', 'forbidden', 'not_found'],
  } });
}
