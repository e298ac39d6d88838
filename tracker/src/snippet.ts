/**
 * Entry of the IIFE build served as /tracker.js:
 *   <script src="https://host/tracker.js" data-project-key="KEY" async></script>
 * Reads its own tag for the key and the server origin, then installs `window.Tandem`.
 * The live assist plugin is in use unless the tag says `data-assist="false"` (or `Tandem('init',
 * {assist: false})`), but only its ~1 KB stand-in is in this file: the plugin and its socket.io client
 * come from /tracker-assist.js, fetched when the page is idle after the first snapshot; it opens its
 * socket then and sends nothing but page info until an agent watches. The WebRTC code is a third
 * chunk, /tracker-rtc.js, which the assist chunk loads the first time a call or control needs it.
 */
import { lazyAssist } from '@tandem/assist-plugin/lazy';
import { installQueue, readScriptConfig, type TandemGlobal } from './queue.js';
import { loadSyncGzipWhenIdle } from './gzip-sync.js';
import { debug } from './safe.js';
import { Tracker } from './tracker.js';

/** Set by build.mjs to the chunks' content hashes (`?v=`): a cached chunk of another build is never used. */
declare const __TANDEM_ASSIST_VERSION__: string | undefined;
declare const __TANDEM_GZIP_VERSION__: string | undefined;

/** `…/tracker.js` → `…/<name>`; undefined (the plugin's default, next to the ingest URL) without a script URL. */
function urlNextTo(src: string | undefined, name: string): string | undefined {
  try {
    return src ? new URL(name, src).href : undefined;
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
    // fflate's sync gzip for the pagehide path: a chunk of its own, at idle after the first snapshot (gzip-sync.ts).
    const gzipUrl = urlNextTo(script?.src, 'tracker-gzip.js') ?? `${tracker.ingestUrl}/tracker-gzip.js`;
    const gzipVersion = typeof __TANDEM_GZIP_VERSION__ === 'string' ? __TANDEM_GZIP_VERSION__ : '';
    loadSyncGzipWhenIdle(tracker.bus, gzipVersion ? `${gzipUrl}?v=${gzipVersion}` : gzipUrl, (err, where) => tracker.reportError(err, where));
    // Both chunks come from where this script came from (its CSP entry already allows them).
    if (extra.assist) {
      tracker.use(
        lazyAssist({
          chunkUrl: urlNextTo(script?.src, 'tracker-assist.js'),
          chunkVersion: typeof __TANDEM_ASSIST_VERSION__ === 'string' ? __TANDEM_ASSIST_VERSION__ : '',
          rtcUrl: urlNextTo(script?.src, 'tracker-rtc.js'),
        }),
      );
    }
    return tracker;
  });
} catch (err) {
  debug('failed to load', err);
}
