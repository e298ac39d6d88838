export { Tracker, type TrackerPlugin, type SessionInfo } from './tracker.js';
export type { TrackerOptions } from './options.js';
export type { PrivacyMode } from './privacy.js';
export type { BusListener, EventBus } from './bus.js';
export { installQueue, type TandemGlobal, type InitOptions } from './queue.js';
// The live assist plugin (its own package, bundled in /tracker.js): `tracker.use(assist())`.
export { assist, type AssistOptions, type AssistState, type AssistPlugin, type AssistHost } from '@tandem/assist-plugin';
