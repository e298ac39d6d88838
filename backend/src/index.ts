export { startServer, type RunningServer } from './server.js';
export type { ServerConfig, RateLimitConfig } from './config.js';
export { PACK_VERSION, unpackBatch } from './ingest/unpack.js';
