import { stat } from 'node:fs/promises';
import type { TemplatedApp } from 'uWebSockets.js';
import { z } from 'zod';
import {
  CAPABILITIES, TandemError, type Capability, type RecordingListResponse,
} from '@tandem/protocol';
import { publicRecording, type StoredCallRecording } from '@tandem/storage';
import type { AppContext, RecordingCall } from '../context.js';
import { parseRange, sendFileRange } from '../http/file-range.js';
import type { RequestInfo } from '../http/request.js';
import { json, type Reply } from '../http/reply.js';
import { parseQuery } from '../http/query.js';
import { route, STREAMED } from '../http/router.js';
import { decodeJsonBody } from '../ingest/decode.js';
import { describeIssues, idSchema } from '../ingest/schemas.js';
import { startRecordingSweeper } from '../recordings/sweeper.js';
import { RecordingUploads, recordingFile, type Uploader } from '../recordings/uploads.js';
import { requireAgent } from './auth.js';
import { watchTokenOf } from './watch.js';

/**
 * Call recordings (RECORDING_ROUTES in signal.ts). Uploading needs the `record` capability AND the
 * user's live consent: the session's `assist:state.recording` must name this agent (the server's own
 * state, not the client's word). Reading is for the project's agents, or a watch link of that
 * session that may record.
 */

/** Who is calling: a signed-in agent (every capability) or a watch link (its own, for one session). */
interface Caller extends Uploader {
  caps: readonly Capability[];
  /** Watch links only: the one session they may touch. */
  linkSessionId?: string;
}

async function caller(ctx: AppContext, req: RequestInfo): Promise<Caller> {
  const link = await watchTokenOf(ctx, req);
  if (link) {
    return { projectId: link.pid, agentId: link.agent.id, via: 'watch-link', name: link.agent.name, caps: link.caps, linkSessionId: link.sid };
  }
  const agent = await requireAgent(ctx, req);
  return { projectId: agent.projectId, agentId: agent.id, via: 'login', name: agent.name || agent.email, caps: CAPABILITIES };
}

function checkSession(who: Caller, sessionId: string): void {
  if (who.linkSessionId !== undefined && who.linkSessionId !== sessionId) throw new TandemError('forbidden', 'This watch link is for another session');
  if (!who.caps.includes('record')) throw new TandemError('forbidden', 'This watch link may not record (no "record" capability)');
}

const param = (req: RequestInfo, i: number, what: string): string => {
  const v = req.params[i];
  if (!idSchema.safeParse(v).success) throw new TandemError('not_found', `No such ${what}`);
  return v;
};

/** Path parameters (ids of our own format: anything else names nothing, 404). */
const sessionParams = z.object({ id: idSchema });
const recordingParams = z.object({ id: idSchema });
const chunkIndexSchema = z.string().regex(/^\d{1,9}$/, 'The chunk index must be a whole number (0, 1, 2, ...)');
const chunkParams = recordingParams.extend({ index: chunkIndexSchema });
const mediaQuerySchema = z.object({ download: z.literal('1', { error: 'download must be 1 (or absent)' }).optional() });

/** Signed-in agents, or a watch link of the session with the `record` capability. */
const RECORDERS = ['agent', 'watchLink'] as const;

/** Clock slack allowed on a client-given start time (its clock corrected to ours is still a guess). */
const START_SLACK_MS = 5_000;
const startSchema = z.strictObject({
  startedAt: z.number().finite().optional(),
  mimeType: z.string().max(128).regex(/^(video|audio)\/webm(;[\w\s=.,"-]*)?$/i, 'mimeType must be video/webm or audio/webm (with codecs)').optional(),
});
const finishSchema = z.strictObject({ durationMs: z.number().finite().min(0) });

/** uWS patterns of RECORDING_ROUTES (those helpers encode their arguments, so they cannot make `:id`). */
const PATTERNS = {
  list: '/api/v1/sessions/:id/recordings',
  chunk: '/api/v1/recordings/:id/chunks/:index',
  finish: '/api/v1/recordings/:id/finish',
  media: '/api/v1/recordings/:id/media',
} as const;

export function registerRecordingRoutes(app: TemplatedApp, ctx: AppContext): { close(): void } {
  const { log, store, config, metrics } = ctx;
  const uploads = new RecordingUploads(config.dataDir, store,
    { maxChunkBytes: config.recordingMaxChunkBytes, maxBytes: config.recordingMaxBytes, tailMs: config.recordingTailMs }, metrics, log);
  ctx.assist?.onRecordingEnded((recordingId) => uploads.grantEnded(recordingId));
  // On a cluster, the chunks and finish of an upload held here that the balancer sent to another node.
  ctx.assist?.serveRecordings?.((call: RecordingCall) => call.op === 'chunk'
    ? uploads.chunk(call.uploader, call.recordingId, call.index, Buffer.from(call.body, 'base64'))
    : uploads.finish(call.uploader, call.recordingId, call.durationMs));
  /**
   * The node holding the upload answers (null: none other does, this node handles it). The call is built
   * only when it is forwarded: a chunk held here (every chunk on one node) is not base64-encoded.
   */
  const forwarded = (recordingId: string, call: () => RecordingCall) =>
    uploads.holds(recordingId) || !ctx.assist?.forwardRecording ? Promise.resolve(null) : ctx.assist.forwardRecording(recordingId, call());
  const uploaderOf = (who: Caller): Uploader => ({ projectId: who.projectId, agentId: who.agentId, via: who.via, name: who.name });
  const sweeper = startRecordingSweeper(config.dataDir, config.retentionDays, config.recordingSweepMs, log);

  // Start: only while the user's consent for this agent is live.
  route(app, log, 'post', PATTERNS.list, async (req) => {
    const who = await caller(ctx, req);
    const sessionId = param(req, 0, 'session');
    checkSession(who, sessionId);
    const grant = await ctx.assist?.recordingGrant(who.projectId, sessionId, { id: who.agentId, via: who.via });
    if (!grant) throw new TandemError('forbidden', 'No recording consent: the user must accept your recording request in this live session first');
    if (grant.recordingId) throw new TandemError('busy', `This consent already has a recording (${grant.recordingId}); ask again for another`);
    const raw = req.body?.length ? await decodeJsonBody(req.body, 4 * 1024) : {};
    const parsed = startSchema.safeParse(raw);
    if (!parsed.success) throw new TandemError('bad_request', describeIssues(parsed.error));
    const now = Date.now();
    const startedAt = parsed.data.startedAt ?? now;
    if (startedAt < grant.startedAt - START_SLACK_MS || startedAt > now + START_SLACK_MS) {
      throw new TandemError('bad_request', 'startedAt must be between the consent and now (server clock, epoch ms)');
    }
    const started = await uploads.start(who, sessionId, Math.round(startedAt), parsed.data.mimeType ?? 'video/webm');
    await ctx.assist?.recordingStarted(who.projectId, sessionId, started.recordingId);
    // The consent may have ended while the file was being created: then only the tail is taken.
    if ((await ctx.assist?.recordingGrant(who.projectId, sessionId, { id: who.agentId, via: who.via }))?.recordingId !== started.recordingId) {
      uploads.grantEnded(started.recordingId);
    }
    return json(started);
  }, { bodyLimit: 4 * 1024, doc: {
    tag: 'recordings', summary: "Start a call recording (needs the user's live consent for this agent)", auth: RECORDERS,
    params: sessionParams, body: { schema: startSchema, required: false },
    response: { description: 'StartRecordingResponse: {recordingId, maxChunkBytes}' },
    errors: ['bad_json', 'bad_request', 'forbidden', 'not_found', 'busy'],
  } });

  route(app, log, 'put', PATTERNS.chunk, async (req) => {
    const who = await caller(ctx, req);
    const recordingId = param(req, 0, 'recording');
    const index = req.params[1];
    const checked = chunkIndexSchema.safeParse(index);
    if (!checked.success) throw new TandemError('bad_request', checked.error.issues[0].message);
    if (!who.caps.includes('record')) throw new TandemError('forbidden', 'This watch link may not record (no "record" capability)');
    const body = req.body ?? Buffer.alloc(0);
    const remote = await forwarded(recordingId, () => ({ op: 'chunk', uploader: uploaderOf(who), recordingId, index: Number(index), body: body.toString('base64') }));
    return json(remote ?? await uploads.chunk(who, recordingId, Number(index), body));
  }, { bodyLimit: config.recordingMaxChunkBytes, doc: {
    tag: 'recordings', summary: 'Append chunk `index` (0, 1, 2, ... in order) of the webm', auth: RECORDERS, params: chunkParams,
    body: { types: ['video/webm', 'application/octet-stream'], description: "MediaRecorder's bytes" },
    response: { description: '{index, bytes}: the chunk taken and the bytes stored so far' }, errors: ['bad_request', 'forbidden', 'not_found', 'unavailable'],
  } });

  route(app, log, 'post', PATTERNS.finish, async (req) => {
    const who = await caller(ctx, req);
    const recordingId = param(req, 0, 'recording');
    const parsed = finishSchema.safeParse(await decodeJsonBody(req.body, 4 * 1024));
    if (!parsed.success) throw new TandemError('bad_request', describeIssues(parsed.error));
    const remote = await forwarded(recordingId, () => ({ op: 'finish', uploader: uploaderOf(who), recordingId, durationMs: parsed.data.durationMs }));
    return json(publicRecording((remote as StoredCallRecording | null) ?? await uploads.finish(who, recordingId, parsed.data.durationMs)));
  }, { bodyLimit: 4 * 1024, doc: {
    tag: 'recordings', summary: 'The recording ended', auth: RECORDERS, params: recordingParams, body: { schema: finishSchema },
    response: { description: 'CallRecording' }, errors: ['bad_json', 'bad_request', 'forbidden', 'not_found', 'unavailable'],
  } });

  route(app, log, 'get', PATTERNS.list, async (req) => {
    const who = await caller(ctx, req);
    const sessionId = param(req, 0, 'session');
    if (who.via === 'watch-link') checkSession(who, sessionId);
    const items = (await store.listCallRecordings(who.projectId, sessionId)).map(publicRecording);
    const body: RecordingListResponse = { items };
    return json(body, 200, { 'cache-control': 'no-store' });
  }, { doc: {
    tag: 'recordings', summary: "The session's call recordings, oldest first", auth: RECORDERS, params: sessionParams,
    response: { description: 'RecordingListResponse' }, errors: ['forbidden', 'not_found'],
  } });

  route(app, log, 'get', PATTERNS.media, async (req, client): Promise<Reply> => {
    const who = await caller(ctx, req);
    const recordingId = param(req, 0, 'recording');
    const rec = await store.getCallRecording(who.projectId, recordingId);
    if (!rec || (who.linkSessionId !== undefined && rec.sessionId !== who.linkSessionId)) throw new TandemError('not_found', 'No such recording');
    if (who.via === 'watch-link') checkSession(who, rec.sessionId);
    const file = recordingFile(config.dataDir, who.projectId, recordingId);
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch {
      throw new TandemError('not_found', 'The media of this recording is gone (past retention)');
    }
    const headers: Record<string, string> = {
      'content-type': rec.mimeType,
      'accept-ranges': 'bytes',
      'cache-control': 'private, no-store',
      'x-content-type-options': 'nosniff',
    };
    if (parseQuery(req.query, mediaQuerySchema).download) headers['content-disposition'] = `attachment; filename="tandem-recording-${recordingId}.webm"`;
    const range = parseRange(req.headers.range, size);
    if (range.kind === 'unsatisfiable') {
      return json({ error: { code: 'bad_request', message: `Range not satisfiable: the recording has ${size} bytes` } }, 416,
        { 'content-range': `bytes */${size}` });
    }
    if (client.aborted()) return STREAMED;
    if (range.kind === 'whole') await sendFileRange(client.res, client, file, 0, size - 1, 200, headers);
    else {
      headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`;
      await sendFileRange(client.res, client, file, range.start, range.end, 206, headers);
    }
    return STREAMED;
  }, { doc: {
    tag: 'recordings', summary: 'The webm (one Range per request)', auth: RECORDERS, params: recordingParams, query: mediaQuerySchema,
    response: { description: 'The media; 206 for a Range, 416 (code bad_request) for one past the end', type: 'video/webm' }, errors: ['bad_request', 'forbidden', 'not_found'],
  } });

  return { close: () => sweeper.stop() };
}
