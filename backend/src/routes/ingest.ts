import { randomUUID } from 'node:crypto';
import type { TemplatedApp } from 'uWebSockets.js';
import {
  PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
  TandemError,
  type BatchResponse,
  type StartResponse,
  type TandemEvent,
} from '@tandem/protocol';
import type { AppContext } from '../context.js';
import type { RequestInfo } from '../http/request.js';
import { json } from '../http/reply.js';
import { route } from '../http/router.js';
import { decodeJsonBody } from '../ingest/decode.js';
import { batchRequestSchema, describeIssues, startRequestSchema } from '../ingest/schemas.js';
import { PACK_VERSION, unpackBatch } from '../ingest/unpack.js';

/** Server-chosen tracker settings; the reason for each value is next to it. */
const TRACKER_CONFIG = {
  // Matches the body limit minus headroom for the envelope.
  maxBatchBytes: 512 * 1024,
  // 10 s: batches are gzipped one by one, and bigger ones compress better (2 s → 5 s measured
  // 12.7 → 9.5 KB/min; 5 s → 10 s 9.0 → 7.2 KB/min on the bytes bench's minute, target 8). The session
  // row exists from `start`, so it is listed at once; pagehide sends what is pending; live viewers get
  // events over the assist socket, not from storage.
  flushIntervalMs: 10_000,
  // 2 min: keyframes for fast seeking; measured +24% bytes at 1 min, less at 2 (DESIGN.md §9).
  checkoutEveryNms: 2 * 60_000,
  // Batches may come packed (ingest/unpack.ts): 0.134× → 0.098× of the raw JSON on the wire.
  pack: PACK_VERSION,
};

/** Trackers post `text/plain` (a CORS simple request, no preflight); other clients may say JSON. */
const INGEST_TYPES = ['text/plain', 'application/json'];

function newId(): string {
  return randomUUID().replaceAll('-', '');
}

/** Ingest is called from customers' sites: any origin may call it, the project decides which are allowed. */
export function corsHeaders(origin: string | undefined): Record<string, string> {
  return {
    'access-control-allow-origin': origin || '*',
    'access-control-allow-methods': 'POST, OPTIONS',
    'access-control-allow-headers': 'content-type, authorization, content-encoding',
    'access-control-max-age': '86400',
    vary: 'Origin',
  };
}

function checkVersion(v: number): void {
  if (!SUPPORTED_PROTOCOL_VERSIONS.includes(v)) {
    throw new TandemError(
      'unsupported_version',
      `Protocol version ${v} is not supported; this server speaks ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`,
    );
  }
}

export function checkOrigin(allowed: string[], origin: string | undefined): void {
  if (allowed.length && origin && !allowed.includes(origin)) {
    throw new TandemError('origin_not_allowed', `Origin ${origin} is not allowed for this project`);
  }
}

export function bearer(req: RequestInfo): string {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  const q = req.query.get('token');
  if (q) return q;
  throw new TandemError('unauthorized', 'Missing session token (Authorization: Bearer or ?token=)');
}

export function registerIngestRoutes(app: TemplatedApp, ctx: AppContext): void {
  const { config, log, store, signer, metrics, limits, projects } = ctx;
  const onDone = (r: RequestInfo, status: number) => metrics.httpRequests.inc({ route: r.path, status });

  route(app, log, 'options', '/ingest/*', (req) => ({ status: 204, headers: corsHeaders(req.headers.origin) }),
    { undocumented: 'CORS preflight of the ingest routes' });

  route(app, log, 'post', '/ingest/v1/start', async (req) => {
    if (!(await limits.start.take(req.ip))) throw new TandemError('rate_limited', 'Too many new sessions from this address');
    const parsed = startRequestSchema.safeParse(await decodeJsonBody(req.body, 64 * 1024));
    if (!parsed.success) throw new TandemError('bad_request', describeIssues(parsed.error));
    const body = parsed.data;
    checkVersion(body.v);
    const project = await projects.byProjectKey(body.projectKey);
    if (!project) throw new TandemError('unknown_project', 'Unknown project key');
    checkOrigin(project.allowedOrigins, req.headers.origin);

    // The ids come from the visitor's own storage; they are random and scoped by project, so
    // accepting them resumes that visitor's session (and tab, on reload) without a lookup.
    const sessionId = body.sessionId ?? newId();
    const tabId = body.tabId ?? newId();
    const visitorId = body.visitorId ?? newId();
    const now = Date.now();
    await store.startSession({
      projectId: project.id, sessionId, tabId, visitorId,
      userId: body.userId ?? '',
      startedAt: now,
      url: body.url,
      referrer: body.referrer ?? '',
      userAgent: body.userAgent || req.headers['user-agent'] || '',
      screen: body.screen ? `${body.screen.width}x${body.screen.height}` : '',
      language: body.language ?? '',
      timezone: body.timezone ?? '',
      ip: req.ip,
    });
    const ackSeq = await store.getAckSeq(project.id, sessionId, tabId);
    const { token, expiresAt } = await signer.signSession({ pid: project.id, sid: sessionId, tid: tabId, vid: visitorId });
    metrics.sessionsStarted.inc();
    const response: StartResponse = {
      v: PROTOCOL_VERSION, sessionId, tabId, visitorId, token, tokenExpiresAt: expiresAt, serverTime: now, ackSeq,
      // The project cache keeps settings 30 s: a changed canvas level reaches new page loads within that.
      config: { ...TRACKER_CONFIG, canvas: project.canvasRecording ?? 'off' },
    };
    return json(response);
  }, { bodyLimit: 64 * 1024, headers: (r) => corsHeaders(r.headers.origin), onDone, doc: {
    tag: 'ingest', summary: 'Open or resume a recorded session (the tracker calls this first)', auth: ['projectKey'],
    body: { schema: startRequestSchema, types: INGEST_TYPES, description: 'JSON, optionally gzipped (detected by its magic bytes)' },
    response: { description: 'StartResponse: sessionId, tabId, visitorId, the session token, ackSeq and tracker settings' },
    errors: ['bad_json', 'bad_request', 'unsupported_version', 'unknown_project', 'origin_not_allowed', 'rate_limited'],
  } });

  route(app, log, 'post', '/ingest/v1/batch', async (req) => {
    const claims = await signer.verifySession(bearer(req));
    if (!limits.batch.take(`${claims.sid}:${claims.tid}`)) throw new TandemError('rate_limited', 'Too many batches for this tab');
    const project = await projects.byProjectId(claims.pid);
    if (!project) throw new TandemError('unauthorized', 'Project no longer exists');
    checkOrigin(project.allowedOrigins, req.headers.origin);
    const receivedAt = performance.now();
    const parsed = batchRequestSchema.safeParse(unpackBatch(await decodeJsonBody(req.body, config.maxBatchDecodedBytes), { sessionId: claims.sid, tabId: claims.tid }));
    if (!parsed.success) throw new TandemError('bad_request', describeIssues(parsed.error));
    const batch = parsed.data;
    checkVersion(batch.v);
    if (batch.sessionId !== claims.sid || batch.tabId !== claims.tid) {
      throw new TandemError('session_mismatch', 'Batch sessionId/tabId do not match the session token');
    }
    // The writer orders events by seq itself (and only when they are out of order).
    const events = batch.events as unknown as TandemEvent[];
    let ackSeq: number;
    try {
      ackSeq = await store.writeBatch({ projectId: claims.pid, sessionId: claims.sid, tabId: claims.tid, events });
    } catch (err) {
      log.error({ err, sessionId: claims.sid }, 'storage write failed');
      throw new TandemError('unavailable', 'Storage is not accepting writes right now; retry later');
    }
    metrics.ingestEvents.inc(events.length);
    metrics.ingestAck.observe((performance.now() - receivedAt) / 1000);
    const response: BatchResponse = { ackSeq };
    return json(response);
  }, { bodyLimit: config.maxBatchBytes, headers: (r) => corsHeaders(r.headers.origin), onDone, doc: {
    tag: 'ingest', summary: 'Store a batch of events; answers once they are durable', auth: ['sessionToken'],
    body: { schema: batchRequestSchema, types: INGEST_TYPES, description: 'JSON, optionally gzip- or zlib-compressed (detected by its first bytes), optionally packed (`pack: 1` or `2`, see backend/src/ingest/unpack.ts)' },
    response: { description: 'BatchResponse: {ackSeq}, the highest seq stored for the tab' },
    errors: ['bad_json', 'bad_request', 'unsupported_version', 'origin_not_allowed', 'session_mismatch', 'rate_limited', 'unavailable'],
  } });
}
