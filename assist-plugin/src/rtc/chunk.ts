/**
 * Entry of /tracker-rtc.js (built by tracker/build.mjs as an IIFE next to /tracker.js): registers
 * the WebRTC module where the core's loader (rtc-bridge.ts) looks for it. A classic script rather
 * than an ES module so it loads from any page the way /tracker.js does.
 */
import { RTC_GLOBAL } from '../rtc-api.js';
import { rtcModule } from './index.js';

const g = globalThis as unknown as Record<string, unknown>;
if (!g[RTC_GLOBAL]) g[RTC_GLOBAL] = rtcModule;
