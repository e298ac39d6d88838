import type { TemplatedApp } from 'uWebSockets.js';
import { TandemError } from '@tandem/protocol';
import type { AppContext } from '../context.js';
import { errorReply, json } from '../http/reply.js';
import { route } from '../http/router.js';
import { requireAgent } from './auth.js';

export function registerHealthRoutes(app: TemplatedApp, ctx: AppContext): void {
  const { log, store, metrics, config } = ctx;

  route(app, log, 'get', '/healthz', async () => {
    try {
      await store.driver.query('SELECT 1 AS ok');
      return json({ ok: true });
    } catch {
      return errorReply('unavailable', 'Storage does not answer');
    }
  }, { doc: {
    tag: 'meta', summary: 'Liveness: storage answers', auth: ['public'], response: { description: '{"ok":true}' }, errors: ['unavailable'],
  } });

  // Load balancers ask this: 200 only if this node can serve (storage answers, Redis answers when
  // configured, not draining). /healthz stays "is the process alive and its storage reachable".
  route(app, log, 'get', '/readyz', async () => {
    const storage = await store.driver.query('SELECT 1 AS ok').then(() => 'ok' as const, () => 'down' as const);
    const live = (await ctx.live?.status()) ?? { redis: 'off' as const, draining: false, node: '' };
    const ready = storage === 'ok' && live.redis !== 'down' && !live.draining;
    const body = { ok: ready, storage, redis: live.redis, draining: live.draining, node: live.node };
    return json(body, ready ? 200 : 503, { 'cache-control': 'no-store' });
  }, { doc: {
    tag: 'meta', summary: 'Readiness for load balancers: storage, Redis (when configured), not draining', auth: ['public'],
    response: { description: '{ok, storage, redis, draining, node}; the same body with status 503 when not ready' }, errors: [],
  } });

  route(app, log, 'get', '/metrics', async (req) => {
    if (!config.metricsPublic) await requireAgent(ctx, req);
    return { status: 200, headers: { 'content-type': metrics.registry.contentType }, body: await metrics.registry.metrics() };
  }, { doc: {
    tag: 'meta', summary: 'Prometheus metrics', description: 'Public unless TANDEM_METRICS_PUBLIC=false; then agents only.',
    auth: ['public', 'agent'], response: { description: 'Prometheus text exposition format', type: 'text/plain' }, errors: ['unauthorized'],
  } });

  // Unknown API routes answer JSON, not the dashboard.
  for (const prefix of ['/api/*', '/ingest/*']) {
    route(app, log, 'any', prefix, () => {
      throw new TandemError('not_found', 'No such route');
    }, { undocumented: 'fallback: unknown API routes answer JSON 404' });
  }
}
