/**
 * Entry of /tracker-gzip.js (built by build.mjs): fflate's synchronous gzip, for the pagehide path, and the
 * compression worker's source as its `.worker` (gzip-sync.ts).
 */
import { gzipSync, strToU8 } from 'fflate';
import { COMPRESS_WORKER_SOURCE } from './compress-worker.js';
import { GZIP_GLOBAL, type SyncGzip } from './gzip-sync.js';

const g = globalThis as unknown as Record<string, unknown>;
const gzip: SyncGzip & { worker?: string } = (text) => gzipSync(strToU8(text));
gzip.worker = COMPRESS_WORKER_SOURCE;
if (!g[GZIP_GLOBAL]) g[GZIP_GLOBAL] = gzip;
