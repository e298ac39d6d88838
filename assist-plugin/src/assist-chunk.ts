/**
 * Entry of /tracker-assist.js (built by tracker/build.mjs as an IIFE next to /tracker.js): the live
 * assist plugin with its socket.io client, registered where the stand-in in /tracker.js (lazy.ts)
 * looks for it. It loads the WebRTC chunk (/tracker-rtc.js) itself when a call or control needs it.
 */
import { ASSIST_GLOBAL, type AssistModule } from './lazy.js';
import { assist } from './plugin.js';

const g = globalThis as unknown as Record<string, unknown>;
const mod: AssistModule = { assist };
if (!g[ASSIST_GLOBAL]) g[ASSIST_GLOBAL] = mod;
