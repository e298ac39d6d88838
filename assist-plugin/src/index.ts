export { assist, createAssist, PAGE_THROTTLE_MS, AGENTS_GRACE_MS, CLOCK_PING_TIMEOUT_MS } from './plugin.js';
export type { AssistOptions, AssistState, AssistPlugin, AssistDeps } from './plugin.js';
export type { AssistHost, AssistSession, AssistHostPage } from './host.js';
export { Forwarder, createMacrotask, MAX_EVENTS_PER_MESSAGE, type ForwarderDeps } from './forwarder.js';
export { bestOffset, sampleOffset, measureClock, CLOCK_PINGS, type ClockOffset, type ClockSample } from './clock.js';
export { buildTabHandshake, ResumeFlags, socketTarget, RESUME_KEY_PREFIX, type KeyValue, type SocketTarget } from './handshake.js';
export { classifyConnectError, connectErrorCode, retryDelay, FATAL_CONNECT_CODES, type ConnectFailureKind } from './retry.js';
export {
  ATTR as ASSIST_UI_ATTRIBUTES,
  HOST_TAG as ASSIST_HOST_TAG,
  HOST_CLASS as ASSIST_HOST_CLASS,
  HOST_BLOCK_ATTRIBUTE as ASSIST_HOST_BLOCK_ATTRIBUTE,
  bannerText,
  consentText,
  formatNames,
} from './ui.js';
export {
  lazyAssist,
  assistChunkUrl,
  whenIdle,
  ASSIST_GLOBAL,
  ASSIST_IDLE_TIMEOUT_MS,
  ASSIST_IDLE_FALLBACK_MS,
  ASSIST_SNAPSHOT_WAIT_MS,
  ASSIST_RETRY_MIN_MS,
  ASSIST_RETRY_MAX_MS,
  type LazyAssistOptions,
  type LazyAssistDeps,
  type AssistModule,
} from './lazy.js';
export type { ChunkState } from './types.js';
