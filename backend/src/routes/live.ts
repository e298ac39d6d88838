import type { TemplatedApp } from 'uWebSockets.js';
import { ASSIST_ROUTES, TandemError } from '@tandem/protocol';
import type { AppContext } from '../context.js';
import { json } from '../http/reply.js';
import { route } from '../http/router.js';
import { requireAgent } from './auth.js';
import { liveListResponseSchema } from '../http/openapi-responses.js';

/** `GET /api/v1/live`: the signed-in agent's project's live sessions now, on every node (the socket's `live:list` without a socket). */
export function registerLiveRoutes(app: TemplatedApp, ctx: AppContext): void {
  route(app, ctx.log, 'get', ASSIST_ROUTES.live, async (req) => {
    const agent = await requireAgent(ctx, req);
    if (!ctx.live) throw new TandemError('unavailable', 'Live rooms are not running');
    const sessions = await ctx.live.list(agent.projectId);
    return json({ sessions }, 200, { 'cache-control': 'no-store' });
  }, { doc: {
    tag: 'live', summary: 'Live sessions now, with user, page, tabs and agents present', auth: ['agent'],
    response: { description: '{sessions: LiveSession[]}', schema: liveListResponseSchema }, errors: [],
  } });
}
