export { Tracker, type TrackerPlugin, type SessionInfo } from './tracker.js';
export type { TrackerOptions } from './options.js';
export type { PrivacyMode } from './privacy.js';
export type { BusListener, EventBus } from './bus.js';
export { installQueue, type TandemGlobal } from './queue.js';
