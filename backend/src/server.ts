import { join } from 'node:path';
import type { us_listen_socket } from 'uWebSockets.js';
import { openStore, type Store } from '@tandem/storage';
import { configFromEnv, withDefaults, type ServerConfig } from './config.js';
import { loadUws } from './uws.js';
import { createLogger } from './log.js';
import { createMetrics } from './metrics.js';
import { RateLimiter } from './rate-limit.js';
import { TokenSigner } from './auth/tokens.js';
import { loadOrCreateSecret } from './auth/secret.js';
import { ProjectCache, type AppContext } from './context.js';
import { bootstrap, type BootstrapResult } from './bootstrap.js';
import { registerIngestRoutes } from './routes/ingest.js';
import { registerAuthRoutes } from './routes/auth.js';
import { registerSessionSearchRoutes } from './routes/session-search.js';
import { registerSessionRoutes } from './routes/sessions.js';
import { registerTransferRoutes } from './routes/transfer.js';
import { registerSettingsRoutes } from './routes/settings.js';
import { registerWatchRoutes } from './routes/watch.js';
import { registerRecordingRoutes } from './routes/recordings.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerOpenApiRoute } from './routes/openapi.js';
import { routeTable, type RouteEntry } from './http/router.js';
import { registerStaticRoutes } from './routes/static.js';
import { registerLiveRoutes } from './routes/live.js';
import { attachLive } from './live/index.js';
import { registerAssetRoutes } from './routes/assets.js';
import { AssetProxy } from './assets/proxy.js';
import { AssetLinkSigner } from './assets/signing.js';
import { createRedisSeqClaimer } from './ingest/seq-claims.js';

/** uWS.js accepts (host, port, options, cb) though its typings list options only without a host. */
/** uWS's ListenOptions.LIBUS_LISTEN_EXCLUSIVE_PORT (an enum in its typings, not exported as a value). */
const LIBUS_LISTEN_EXCLUSIVE_PORT = 1;
type ListenWithOptions = (host: string, port: number, options: number, cb: (socket: us_listen_socket | false) => void) => void;

export interface RunningServer {
  url: string;
  port: number;
  host: string;
  store: Store;
  config: ServerConfig;
  projectKey: string;
  projectId: string;
  admin: { email: string; generatedPassword?: string };
  bootstrap: BootstrapResult;
  /** The router's table: every HTTP route this server answers (GET /api/v1/openapi.json documents them). */
  routes: readonly RouteEntry[];
  /** Stops accepting connections, flushes pending writes, closes storage. */
  close(): Promise<void>;
}

/** Starts the backend. Options override the environment (tests pass port 0 and a temp dataDir). */
export async function startServer(options: Partial<ServerConfig> = {}, env: NodeJS.ProcessEnv = process.env): Promise<RunningServer> {
  const config = withDefaults({ ...configFromEnv(env), ...options });
  const uws = loadUws();
  const log = createLogger(config.logLevel);
  const store = await openStore({ dataDir: config.dataDir, clickhouseUrl: config.clickhouseUrl, retentionDays: config.retentionDays,
    recompressAfterMinutes: config.recompressAfterMinutes,
    // Counter rows waiting for ClickHouse survive a kill -9 here (storage/src/writer.ts, carried rows).
    carryFile: join(config.dataDir, 'storage-carried-deltas.json') });
  let closeLive: (() => Promise<void>) | undefined;
  let seqClaims: ReturnType<typeof createRedisSeqClaimer> | undefined;
  try {
    const boot = await bootstrap(store, config);
    const secret = await loadOrCreateSecret(config.dataDir, config.secret);
    const ctx: AppContext = {
      config,
      log,
      store,
      signer: new TokenSigner(secret),
      metrics: createMetrics(),
      limits: {
        start: new RateLimiter(config.startRateLimit),
        batch: new RateLimiter(config.batchRateLimit),
        login: new RateLimiter(config.loginRateLimit),
      },
      projects: new ProjectCache(store),
      assets: {
        proxy: new AssetProxy(config.assetProxy, config.dataDir, config.retentionDays, log),
        signer: new AssetLinkSigner(secret),
      },
    };

    const app = uws.App();
    const live = attachLive(app, ctx);
    closeLive = () => live.close();
    await live.ready;
    ctx.live = live.directory;
    ctx.assist = live.assistDirectory;
    ctx.agents = live.agents;
    if (live.clustered) {
      // One budget for the cluster (per-tab batch budgets stay per node: a tab writes through one node at a time).
      ctx.limits.start = live.limiter('start-ip', config.startRateLimit);
      ctx.limits.login = live.limiter('login-ip', config.loginRateLimit);
      // Two nodes storing one tab's seq at the same moment: exactly one counts it (storage/src/writer.ts).
      seqClaims = createRedisSeqClaimer(config.redisUrl!, (op) => ctx.metrics.redisErrors.inc({ op }));
      store.setSeqClaimer(seqClaims.claim);
    }
    registerLiveRoutes(app, ctx);
    registerIngestRoutes(app, ctx);
    registerAuthRoutes(app, ctx);
    registerSessionSearchRoutes(app, ctx); // before /api/v1/sessions/:id: `stats` is not a session id
    registerSessionRoutes(app, ctx);
    registerTransferRoutes(app, ctx);
    registerSettingsRoutes(app, ctx);
    registerWatchRoutes(app, ctx);
    const recordings = registerRecordingRoutes(app, ctx);
    registerAssetRoutes(app, ctx);
    registerOpenApiRoute(app, ctx);
    registerHealthRoutes(app, ctx);
    registerStaticRoutes(app, ctx, () => boot.projectKey);

    // Exclusive: uWS otherwise binds with SO_REUSEPORT, and a second Tandem started by mistake on the
    // same port would silently take half the traffic into its own storage.
    const listenSocket = await new Promise<us_listen_socket>((resolve, reject) =>
      (app.listen as unknown as ListenWithOptions)(config.host, config.port, LIBUS_LISTEN_EXCLUSIVE_PORT, (socket) =>
        socket ? resolve(socket) : reject(new Error(`Cannot listen on ${config.host}:${config.port}`)),
      ),
    );
    const port = uws.us_socket_local_port(listenSocket);
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    log.info({ url, storage: store.driver.kind, dataDir: config.dataDir }, 'tandem backend listening');

    let closed = false;
    return {
      url, port, host: config.host, store, config,
      projectKey: boot.projectKey,
      projectId: boot.projectId,
      admin: { email: boot.adminEmail, generatedPassword: boot.generatedPassword },
      bootstrap: boot,
      routes: routeTable(app),
      async close() {
        if (closed) return;
        closed = true;
        uws.us_listen_socket_close(listenSocket);
        // In a cluster, the live sockets move to the other nodes first (the load balancer sends their
        // reconnects elsewhere now that this node neither listens nor reports ready).
        if (live.clustered) await live.drain();
        // Live sockets first: they keep the process alive and their handlers may still read the store.
        recordings.close();
        await live.close();
        await ctx.assets?.proxy.close();
        // Flushed with its claims still answering, then the claimer goes.
        await store.close();
        seqClaims?.close();
        log.info('tandem backend stopped');
      },
    };
  } catch (err) {
    await closeLive?.().catch(() => {});
    await store.close().catch(() => {});
    seqClaims?.close();
    throw err;
  }
}
