import type { RtcContext, RtcController, RtcModule } from '../rtc-api.js';
import { createRegistry } from './registry.js';

/** The WebRTC chunk's module (/tracker-rtc.js sets it on `window[RTC_GLOBAL]`; see chunk.ts). */
export const rtcModule: RtcModule = {
  createRtc(ctx: RtcContext): RtcController {
    return createRegistry(ctx);
  },
};

export { createRegistry, FEATURES, type RegistryOptions } from './registry.js';
export type { UserFeature, FeatureContext, FeatureFactory, FeatureHandlers } from './feature.js';
export { Peers, type PeerFactory } from './peers.js';
export { RTC_ATTR } from './ui-kit.js';
