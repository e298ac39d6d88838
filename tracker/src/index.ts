import { gzipSync, strToU8 } from 'fflate';
import { COMPRESS_WORKER_SOURCE } from './compress-worker.js';
import { setStoreOpener, setSyncGzip, setWorkerSource } from './gzip-sync.js';
import { PendingStore } from './pending-store.js';

// Bundlers get the pagehide path's sync gzip, the worker's source and the IndexedDB store at once (the
// script-tag build fetches them at idle: gzip-sync.ts).
setSyncGzip((text) => gzipSync(strToU8(text)));
setWorkerSource(COMPRESS_WORKER_SOURCE);
setStoreOpener((name) => PendingStore.open(name));

export { Tracker, type TrackerPlugin, type SessionInfo } from './tracker.js';
export type { TrackerOptions } from './options.js';
export type { PrivacyMode } from './privacy.js';
export type { BusListener, EventBus } from './bus.js';
export { installQueue, type TandemGlobal, type InitOptions } from './queue.js';
// The live assist plugin (its own package): `tracker.use(assist())`, or `lazyAssist()` as /tracker.js does (its code fetched at idle).
export { assist, lazyAssist, type AssistOptions, type LazyAssistOptions, type AssistState, type AssistPlugin, type AssistHost } from '@tandem/assist-plugin';
