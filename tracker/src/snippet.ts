/**
 * Entry of the IIFE build served as /tracker.js:
 *   <script src="https://host/tracker.js" data-project-key="KEY" async></script>
 * Reads its own tag for the key and the server origin, then installs `window.Tandem`.
 * The live assist plugin is part of this build and in use unless the tag says `data-assist="false"`
 * (or `Tandem('init', {assist: false})`); it opens its socket once the session is known and sends
 * nothing but page info until an agent watches.
 */
import { assist } from '@tandem/assist-plugin';
import { installQueue, readScriptConfig, type TandemGlobal } from './queue.js';
import { debug } from './safe.js';
import { Tracker } from './tracker.js';

/** `…/tracker.js` → `…/tracker-rtc.js`; undefined (the plugin's default) without a script URL. */
function rtcUrlNextTo(src: string | undefined): string | undefined {
  try {
    return src ? new URL('tracker-rtc.js', src).href : undefined;
  } catch {
    return undefined;
  }
}

declare global {
  interface Window {
    Tandem?: TandemGlobal;
  }
}

try {
  // currentScript is only set while this script's top level runs (also for async scripts).
  const script = document.currentScript as HTMLScriptElement | null;
  installQueue(window, readScriptConfig(script, location.origin), (opts, extra) => {
    const tracker = new Tracker(opts);
    // The WebRTC chunk comes from where this script came from (its CSP entry already allows it).
    if (extra.assist) tracker.use(assist({ rtcUrl: rtcUrlNextTo(script?.src) }));
    return tracker;
  });
} catch (err) {
  debug('failed to load', err);
}
