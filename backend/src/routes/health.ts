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
  });

  route(app, log, 'get', '/metrics', async (req) => {
    if (!config.metricsPublic) await requireAgent(ctx, req);
    return { status: 200, headers: { 'content-type': metrics.registry.contentType }, body: await metrics.registry.metrics() };
  });

  // Unknown API routes answer JSON, not the dashboard.
  for (const prefix of ['/api/*', '/ingest/*']) {
    route(app, log, 'any', prefix, () => {
      throw new TandemError('not_found', 'No such route');
    });
  }
}
