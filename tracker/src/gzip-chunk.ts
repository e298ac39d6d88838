/**
 * Entry of /tracker-gzip.js (built by build.mjs), the idle chunk: fflate's synchronous gzip, for the pagehide
 * path, the compression worker's source as its `.worker` and the IndexedDB store's opener as its `.store`
 * (gzip-sync.ts).
 */
import { gzipSync, strToU8 } from 'fflate';
import { COMPRESS_WORKER_SOURCE } from './compress-worker.js';
import { GZIP_GLOBAL, type StoreOpener, type SyncGzip } from './gzip-sync.js';
import { PendingStore } from './pending-store.js';

const g = globalThis as unknown as Record<string, unknown>;
const gzip: SyncGzip & { worker?: string; store?: StoreOpener } = (text) => gzipSync(strToU8(text));
gzip.worker = COMPRESS_WORKER_SOURCE;
gzip.store = (name) => PendingStore.open(name);
if (!g[GZIP_GLOBAL]) g[GZIP_GLOBAL] = gzip;
