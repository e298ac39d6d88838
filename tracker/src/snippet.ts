/**
 * Entry of the IIFE build served as /tracker.js:
 *   <script src="https://host/tracker.js" data-project-key="KEY" async></script>
 * Reads its own tag for the key and the server origin, then installs `window.Tandem`.
 */
import { installQueue, readScriptConfig, type TandemGlobal } from './queue.js';
import { debug } from './safe.js';

declare global {
  interface Window {
    Tandem?: TandemGlobal;
  }
}

try {
  // currentScript is only set while this script's top level runs (also for async scripts).
  const script = document.currentScript as HTMLScriptElement | null;
  installQueue(window, readScriptConfig(script, location.origin));
} catch (err) {
  debug('failed to load', err);
}
