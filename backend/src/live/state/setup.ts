import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ServerConfig } from '../../config.js';
import type { Metrics } from '../../metrics.js';
import { nodeChannel } from '../cluster-bus.js';
import { relayChannel } from '../cluster-relay.js';
import type { LiveState } from './live-state.js';
import { MemoryLiveState } from './memory-state.js';
import { RedisLiveState } from './redis-state.js';

/** Start-up waits this long for Redis before refusing to start (a node without its Redis would be an island). */
const CONNECT_TIMEOUT_MS = 10_000;

export interface LiveStateSetup {
  state: LiveState;
  /** socket.io's Redis adapter (undefined: the default in-memory adapter). */
  adapter?: ReturnType<typeof createAdapter>;
  /** The adapter's publish and subscriber connections (cluster-relay.ts sends on them, for order). */
  redis?: { pub: Redis; sub: Redis };
  /** Resolves once Redis answers and this node is registered. */
  ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * The shared state of the live rooms: in memory for one process, or Redis (TANDEM_REDIS_URL) with
 * socket.io's Redis adapter so rooms span nodes. `@socket.io/redis-adapter` (pub/sub) rather than the
 * streams adapter: see docs/decisions.md (issue 9).
 */
export function setupLiveState(config: ServerConfig, log: Logger, metrics: Metrics, requestsTimeout: number): LiveStateSetup {
  const nodeId = config.nodeId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  if (!config.redisUrl) {
    return { state: new MemoryLiveState(nodeId), ready: Promise.resolve(), close: async () => {} };
  }
  const errors = (op: string) => metrics.redisErrors.inc({ op });
  // One retry, then the command fails (and is counted): a live-room decision must not hang on Redis.
  const cmd = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 2_000, lazyConnect: false });
  const sub = cmd.duplicate();
  let lastLog = 0;
  for (const [name, client] of [['cmd', cmd], ['sub', sub]] as const) {
    client.on('error', (err) => {
      errors(`connection:${name}`);
      // One line per 5 s: a Redis outage must not flood the log with reconnect errors.
      if (Date.now() - lastLog > 5_000) {
        lastLog = Date.now();
        log.warn({ err: err.message, client: name }, 'live: redis connection error');
      }
    });
  }
  // Counted so that what a node hears of rooms it has no part in can be seen (and tested: cluster-3-nodes).
  const own = new Set([nodeChannel(nodeId), relayChannel(nodeId)]);
  sub.on('messageBuffer', (channel: Buffer) => metrics.clusterMessages.inc({ channel: own.has(channel.toString()) ? 'node' : 'shared' }));
  sub.on('pmessageBuffer', () => metrics.clusterMessages.inc({ channel: 'shared' }));
  const state = new RedisLiveState(cmd, nodeId, { log, onError: errors });
  const adapter = createAdapter(cmd, sub, { key: 'tandem:sio', requestsTimeout });
  const ready = (async () => {
    await Promise.all([cmd, sub].map((c) => waitReady(c, config.redisUrl!)));
    await state.start();
    log.info({ node: nodeId }, 'live: rooms shared through redis');
  })();
  ready.catch(() => {});
  return {
    state,
    adapter,
    redis: { pub: cmd, sub },
    ready,
    async close() {
      await state.close();
      cmd.disconnect();
      sub.disconnect();
    },
  };
}

function waitReady(client: Redis, url: string): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Cannot reach Redis at ${redact(url)} (TANDEM_REDIS_URL) within ${CONNECT_TIMEOUT_MS / 1000} s`));
    }, CONNECT_TIMEOUT_MS);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      client.off('ready', onReady);
    };
    client.on('ready', onReady);
  });
}

/** A Redis URL may carry a password: never log it. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the configured URL';
  }
}
