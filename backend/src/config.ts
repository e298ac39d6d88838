import path from 'node:path';

export interface RateLimitConfig {
  /** Tokens added per second. */
  perSecond: number;
  /** Bucket size: the burst allowed at once. */
  burst: number;
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
  metricsPublic: boolean;
  /** Serve the demo site at /demo/. */
  demo: boolean;
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
    // Set (even to a lone comma) means "these origins"; unset or empty leaves the stored setting alone.
    allowedOrigins: env.TANDEM_ALLOWED_ORIGINS ? env.TANDEM_ALLOWED_ORIGINS.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
    publicUrl: env.TANDEM_PUBLIC_URL ? publicOrigin(env.TANDEM_PUBLIC_URL) : undefined,
    logLevel: env.LOG_LEVEL || 'info',
    metricsPublic: env.TANDEM_METRICS_PUBLIC !== 'false',
    demo: env.TANDEM_DEMO !== 'false',
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
    metricsPublic: true,
    demo: true,
    rootDir: ROOT,
    ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)),
  } as ServerConfig;
}
