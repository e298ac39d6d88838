import path from 'node:path';
import { z } from 'zod';
import { ASSIST_REQUEST_TIMEOUT_MS } from '@tandem/protocol';
import { ASSET_PROXY_DEFAULTS, type AssetProxyConfig } from './assets/proxy.js';

export interface RateLimitConfig {
  /** Tokens added per second. */
  perSecond: number;
  /** Bucket size: the burst allowed at once. */
  burst: number;
}

/** One RTCIceServer as browsers take it. */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** coturn REST-style TURN: credentials minted per session from a shared secret (live/ice.ts). */
export interface TurnConfig {
  secret: string;
  urls: string[];
  ttlSeconds: number;
}

export interface ServerConfig {
  port: number;
  host: string;
  dataDir: string;
  clickhouseUrl?: string;
  projectKey?: string;
  adminEmail?: string;
  adminPassword?: string;
  /** HMAC secret for session tokens and agent cookies; generated and kept in dataDir when absent. */
  secret?: string;
  retentionDays: number;
  /**
   * Minutes before stored event JSON is recompressed with ZSTD(19) (storage migration 8; default 60):
   * inserts stay cheap at ZSTD(3), a session's data shrinks once it is at rest.
   */
  recompressAfterMinutes?: number;
  /**
   * Origins allowed to send ingest requests for the default project (empty = any). Undefined when
   * TANDEM_ALLOWED_ORIGINS is unset: then the project's stored setting (editable in Settings) stands.
   */
  allowedOrigins?: string[];
  /**
   * Public origin of this server (`https://tandem.example.com`) for links it hands out (watch links).
   * Unset: taken from the request's Host header.
   */
  publicUrl?: string;
  logLevel: string;
  /** Compressed request body limit for a batch. */
  maxBatchBytes: number;
  /** Limit after gunzip: a small gzip body can expand enormously (zip bomb). */
  maxBatchDecodedBytes: number;
  /** New sessions per client IP. */
  startRateLimit: RateLimitConfig;
  /** Batches per tab. */
  batchRateLimit: RateLimitConfig;
  /** Agent logins per IP: slows password guessing. */
  loginRateLimit: RateLimitConfig;
  /** New live (/assist) socket connections per client IP; resuming tabs with a valid token skip it. */
  liveConnectRateLimit: RateLimitConfig;
  /** New live socket connections per project, whatever the IP. */
  liveProjectConnectRateLimit: RateLimitConfig;
  /** Largest socket.io message (tab → server): a live full snapshot of a big page. */
  liveMaxMessageBytes: number;
  /** How long a disconnected tab keeps its place (and its agents) in a live session. */
  liveGraceMs: number;
  /**
   * TANDEM_REDIS_URL: live rooms shared by every backend node through Redis (socket.io's Redis
   * adapter + live/state/redis-state.ts). Unset: this process alone, nothing shared.
   */
  redisUrl?: string;
  /** This node's id among the nodes (TANDEM_NODE_ID); default host:pid:random. Only matters with redisUrl. */
  nodeId?: string;
  /** On SIGTERM with Redis, how long to wait for the sockets to move to other nodes before closing (ms). */
  drainTimeoutMs: number;
  /** Bytes queued towards one agent socket above which that agent is "behind" and gets a fresh snapshot later. */
  liveBackpressureBytes: number;
  /** Sessions one agent socket may have joined at once. */
  liveMaxSessionsPerAgent: number;
  /** How often the agents behind open live sockets are checked for having been removed or disabled. */
  liveAgentRecheckMs: number;
  /** ICE servers handed to peers (TANDEM_ICE_SERVERS); empty: host candidates only (loopback, LAN). */
  iceServers: IceServer[];
  /** TURN servers with time-limited credentials (TANDEM_TURN_SECRET, TANDEM_TURN_URLS, TANDEM_TURN_TTL_SECONDS). */
  turn?: TurnConfig;
  /** How long an assist request (call, control, drawing, recording) waits for the user's answer. */
  assistRequestTimeoutMs: number;
  /** Largest chunk of a call recording accepted in one PUT. */
  recordingMaxChunkBytes: number;
  /** Largest call recording kept (the sum of its chunks). */
  recordingMaxBytes: number;
  /** Chunks still taken this long after the user stopped a recording (the recorder's last data in flight). */
  recordingTailMs: number;
  /** How often files of recordings past retention are deleted. */
  recordingSweepMs: number;
  metricsPublic: boolean;
  /** Serve the demo site at /demo/. */
  demo: boolean;
  /** The asset proxy for replays (limits and their reasons in assets/proxy.ts). */
  assetProxy: AssetProxyConfig;
  /** Largest rrweb import (decoded JSON bytes; TANDEM_IMPORT_MAX_MB). */
  importMaxBytes: number;
  /** Directory roots (overridable for tests). */
  rootDir: string;
}

const ROOT = path.resolve(new URL('../../', import.meta.url).pathname);

function num(v: string | undefined, fallback: number): number {
  const n = v === undefined || v === '' ? NaN : Number(v);
  return Number.isFinite(n) ? n : fallback;
}

/** `https://host[:port][/prefix]` without a trailing slash; anything else is refused at start-up. */
function publicOrigin(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`TANDEM_PUBLIC_URL is not a URL: ${value}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`TANDEM_PUBLIC_URL must be http(s): ${value}`);
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

const iceServerSchema = z.strictObject({
  urls: z.union([z.string(), z.array(z.string()).min(1)]).refine(
    (u) => (Array.isArray(u) ? u : [u]).every((x) => /^(stun|stuns|turn|turns):/.test(x)),
    'every url must start with stun:, stuns:, turn: or turns:',
  ),
  username: z.string().optional(),
  credential: z.string().optional(),
});

/** TANDEM_ICE_SERVERS: a JSON list of RTCIceServer; refused at start-up with the reason when malformed. */
export function parseIceServers(value: string | undefined): IceServer[] {
  if (!value?.trim()) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch (err) {
    throw new Error(`TANDEM_ICE_SERVERS is not JSON (${(err as Error).message}); expected e.g. [{"urls":"stun:stun.example.com:3478"}]`);
  }
  const parsed = z.array(iceServerSchema).safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`TANDEM_ICE_SERVERS is malformed at [${issue.path.join('.')}]: ${issue.message}; expected a list of {urls, username?, credential?}`);
  }
  return parsed.data;
}

/** TANDEM_TURN_SECRET + TANDEM_TURN_URLS (comma-separated turn:/turns: URLs) + TANDEM_TURN_TTL_SECONDS. */
export function parseTurn(env: NodeJS.ProcessEnv): TurnConfig | undefined {
  const secret = env.TANDEM_TURN_SECRET;
  const urls = (env.TANDEM_TURN_URLS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (!secret) {
    if (urls.length) throw new Error('TANDEM_TURN_URLS is set but TANDEM_TURN_SECRET is not: TURN credentials need the shared secret');
    return undefined;
  }
  if (!urls.length) throw new Error('TANDEM_TURN_SECRET is set but TANDEM_TURN_URLS is empty: list the TURN servers, e.g. turn:turn.example.com:3478');
  const bad = urls.find((u) => !/^turns?:/.test(u));
  if (bad) throw new Error(`TANDEM_TURN_URLS: ${bad} is not a turn: or turns: URL`);
  const ttl = env.TANDEM_TURN_TTL_SECONDS === undefined || env.TANDEM_TURN_TTL_SECONDS === '' ? 86_400 : Number(env.TANDEM_TURN_TTL_SECONDS);
  // At least a minute (a call must be able to start), at most a week (a leaked credential must expire).
  if (!Number.isInteger(ttl) || ttl < 60 || ttl > 7 * 86_400) throw new Error(`TANDEM_TURN_TTL_SECONDS must be an integer from 60 to 604800, got ${env.TANDEM_TURN_TTL_SECONDS}`);
  return { secret, urls, ttlSeconds: ttl };
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<ServerConfig> {
  return {
    port: num(env.PORT, 4300),
    host: env.HOST || '127.0.0.1',
    dataDir: path.resolve(env.TANDEM_DATA_DIR || './.tandem-data'),
    clickhouseUrl: env.CLICKHOUSE_URL || undefined,
    projectKey: env.TANDEM_PROJECT_KEY || undefined,
    adminEmail: env.TANDEM_ADMIN_EMAIL || undefined,
    adminPassword: env.TANDEM_ADMIN_PASSWORD || undefined,
    secret: env.TANDEM_SECRET || undefined,
    retentionDays: num(env.TANDEM_RETENTION_DAYS, 30),
    recompressAfterMinutes: env.TANDEM_RECOMPRESS_AFTER_MINUTES ? num(env.TANDEM_RECOMPRESS_AFTER_MINUTES, 60) : undefined,
    // Set (even to a lone comma) means "these origins"; unset or empty leaves the stored setting alone.
    allowedOrigins: env.TANDEM_ALLOWED_ORIGINS ? env.TANDEM_ALLOWED_ORIGINS.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
    publicUrl: env.TANDEM_PUBLIC_URL ? publicOrigin(env.TANDEM_PUBLIC_URL) : undefined,
    logLevel: env.LOG_LEVEL || 'info',
    iceServers: parseIceServers(env.TANDEM_ICE_SERVERS),
    turn: parseTurn(env),
    // Tests shorten it to check the timeout path without waiting 30 s; unset keeps ASSIST_REQUEST_TIMEOUT_MS.
    assistRequestTimeoutMs: env.TANDEM_ASSIST_REQUEST_TIMEOUT_MS ? num(env.TANDEM_ASSIST_REQUEST_TIMEOUT_MS, ASSIST_REQUEST_TIMEOUT_MS) : undefined,
    metricsPublic: env.TANDEM_METRICS_PUBLIC !== 'false',
    importMaxBytes: env.TANDEM_IMPORT_MAX_MB ? num(env.TANDEM_IMPORT_MAX_MB, 64) * 1048576 : undefined,
    demo: env.TANDEM_DEMO !== 'false',
    redisUrl: env.TANDEM_REDIS_URL || undefined,
    nodeId: env.TANDEM_NODE_ID || undefined,
    liveBackpressureBytes: env.TANDEM_LIVE_BACKPRESSURE_KB ? num(env.TANDEM_LIVE_BACKPRESSURE_KB, 4096) * 1024 : undefined,
    assetProxy: assetProxyFromEnv(env),
  };
}

/** TANDEM_ASSET_PROXY=off, TANDEM_ASSET_PROXY_ALLOW=cidr|host[:port],..., TANDEM_ASSET_CACHE_MB, TANDEM_ASSET_MAX_MB, TANDEM_ASSET_TIMEOUT_MS. */
function assetProxyFromEnv(env: NodeJS.ProcessEnv): AssetProxyConfig {
  const d = ASSET_PROXY_DEFAULTS;
  return {
    ...d,
    enabled: !['off', 'false', '0'].includes((env.TANDEM_ASSET_PROXY ?? '').toLowerCase()),
    allow: (env.TANDEM_ASSET_PROXY_ALLOW ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    cacheMaxBytes: num(env.TANDEM_ASSET_CACHE_MB, d.cacheMaxBytes / 1048576) * 1048576,
    limits: {
      ...d.limits,
      maxBytes: num(env.TANDEM_ASSET_MAX_MB, d.limits.maxBytes / 1048576) * 1048576,
      timeoutMs: num(env.TANDEM_ASSET_TIMEOUT_MS, d.limits.timeoutMs),
    },
  };
}

export function withDefaults(partial: Partial<ServerConfig>): ServerConfig {
  return {
    port: 4300,
    host: '127.0.0.1',
    dataDir: path.resolve('./.tandem-data'),
    retentionDays: 30,
    logLevel: 'info',
    // 1 MiB compressed: a 2 s batch is typically a few KB; the first full snapshot of a heavy page
    // is the largest thing a tracker sends and compresses to well under this.
    maxBatchBytes: 1024 * 1024,
    // 16 MiB decoded: ~30x the compressed limit, the ratio rrweb JSON actually reaches.
    maxBatchDecodedBytes: 16 * 1024 * 1024,
    // A page load calls start once per tab; 5/s with a burst of 50 lets an office behind one NAT in
    // and stops a script opening thousands of sessions.
    startRateLimit: { perSecond: 5, burst: 50 },
    // A tracker flushes every ~2 s; 10/s with burst 30 leaves room for retries after an outage.
    batchRateLimit: { perSecond: 10, burst: 30 },
    loginRateLimit: { perSecond: 0.5, burst: 10 },
    // Each page load opens one tab socket (right after start, which is limited the same way); a
    // dashboard opens one agent socket. Reconnects after a network drop or a server restart present
    // `resume` with a valid token and skip this, so a restart does not lock a whole office out.
    liveConnectRateLimit: { perSecond: 5, burst: 50 },
    // Per project: a busy site's page loads from all its visitors, bounded so one project's flood
    // (or a script with many IPs) cannot take every socket slot of the process.
    liveProjectConnectRateLimit: { perSecond: 200, burst: 2000 },
    // 16 MiB like maxBatchDecodedBytes: the first full snapshot of a heavy page travels uncompressed
    // over the socket (no gzip there), and it is the largest message a tab sends.
    liveMaxMessageBytes: 16 * 1024 * 1024,
    // 15 s covers a page reload or a short network drop: agents stay in the room and get a fresh
    // snapshot when the tab is back, instead of being thrown out on every navigation.
    liveGraceMs: 15_000,
    // A closed transport makes each client reconnect at once (through the load balancer, to another
    // node); 5 s is plenty for that on loopback or a LAN, and bounds how long a deploy waits per node.
    drainTimeoutMs: 5_000,
    // 4 MiB is seconds of a busy page's events: an agent that far behind is better served by a new
    // snapshot than by a growing queue (memory per slow agent stays bounded).
    liveBackpressureBytes: 4 * 1024 * 1024,
    // The dashboard grid shows 4 live sessions; 8 leaves room for quick switching while each join
    // still makes a user's page take a snapshot.
    liveMaxSessionsPerAgent: 8,
    // A socket is authenticated once, at its handshake; an agent removed in Settings must not keep
    // watching on a socket it already had. One query per signed-in agent per minute.
    liveAgentRecheckMs: 60_000,
    // No STUN/TURN unless configured: peers on one network (and tests on loopback) need none, and
    // sending users' addresses to a third-party STUN server must be a choice.
    iceServers: [],
    assistRequestTimeoutMs: ASSIST_REQUEST_TIMEOUT_MS,
    // MediaRecorder with a 1 s timeslice makes chunks of ~100-300 KB for a call; 8 MiB leaves room
    // for a high-bitrate camera and for a client that batches several seconds after a stall.
    recordingMaxChunkBytes: 8 * 1024 * 1024,
    // 2 GiB: a few hours of a call at 1-2 Mbit/s; bounds the disk one recording can take.
    recordingMaxBytes: 2 * 1024 * 1024 * 1024,
    // MediaRecorder hands over its last data when stopped, and the previous second's upload may be
    // in flight: 10 s covers both on a slow link; later chunks are refused because the user said stop.
    recordingTailMs: 10_000,
    // Hourly: retention is counted in days, a file kept an hour longer does not matter.
    recordingSweepMs: 3_600_000,
    metricsPublic: true,
    demo: true,
    assetProxy: ASSET_PROXY_DEFAULTS,
    // 64 MiB: an hour of a busy page recorded by rrweb is ~10-30 MB of JSON. The body, its parse
    // (~3x in objects) and the rows derived from it are in memory at once, ~0.5 GB at this size.
    importMaxBytes: 64 * 1024 * 1024,
    rootDir: ROOT,
    ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)),
  } as ServerConfig;
}
