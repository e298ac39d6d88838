import { gzipSync, strToU8 } from 'fflate';
import { setSyncGzip } from './gzip-sync.js';

// Bundlers get the pagehide path's sync gzip at once (the script-tag build fetches it at idle: gzip-sync.ts).
setSyncGzip((text) => gzipSync(strToU8(text)));

export { Tracker, type TrackerPlugin, type SessionInfo } from './tracker.js';
export type { TrackerOptions } from './options.js';
export type { PrivacyMode } from './privacy.js';
export type { BusListener, EventBus } from './bus.js';
export { installQueue, type TandemGlobal, type InitOptions } from './queue.js';
// The live assist plugin (its own package): `tracker.use(assist())`, or `lazyAssist()` as /tracker.js does (its code fetched at idle).
export { assist, lazyAssist, type AssistOptions, type LazyAssistOptions, type AssistState, type AssistPlugin, type AssistHost } from '@tandem/assist-plugin';
