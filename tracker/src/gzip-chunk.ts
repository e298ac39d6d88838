/** Entry of /tracker-gzip.js (built by build.mjs): fflate's synchronous gzip, for the pagehide path (gzip-sync.ts). */
import { gzipSync, strToU8 } from 'fflate';
import { GZIP_GLOBAL, type SyncGzip } from './gzip-sync.js';

const g = globalThis as unknown as Record<string, unknown>;
const gzip: SyncGzip = (text) => gzipSync(strToU8(text));
if (!g[GZIP_GLOBAL]) g[GZIP_GLOBAL] = gzip;
