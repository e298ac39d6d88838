import { RRWEB_EVENT, type TandemEvent } from '@tandem/protocol';
import { loadChunkScript, whenIdle } from '@tandem/assist-plugin/lazy';

/**
 * The synchronous gzip the pagehide path uses (Compressor.compressSync), kept out of /tracker.js: fflate's
 * deflate is 7 KB raw / 3.3 KB brotli, the biggest cut that kept the first script under 40 KB brotli
 * (issue 8). The script-tag build fetches it as /tracker-gzip.js when the page is idle after the first
 * snapshot (gzip-chunk.ts, snippet.ts); the ES module build sets it at import (index.ts). Until it is
 * there, an unload sends its batches as plain JSON (the server takes both), and they are still copied
 * to IndexedDB and handed to the next page as before.
 */
export type SyncGzip = (text: string) => Uint8Array;

/** Where /tracker-gzip.js registers its function (versioned, like the other chunks' globals). */
export const GZIP_GLOBAL = '__tandemGzip1';

let current: SyncGzip | null = null;

export function setSyncGzip(fn: SyncGzip | null): void {
  current = fn;
}

export function syncGzip(): SyncGzip | null {
  return current;
}

/**
 * Fetches /tracker-gzip.js when the page is idle after the first full snapshot (the same moment as the
 * assist chunk: never in the snapshot's task). A failed load is tried again after the next snapshot.
 */
export function loadSyncGzipWhenIdle(
  bus: { subscribe(fn: (e: TandemEvent) => void): () => void },
  url: string,
  report: (err: unknown, where: string) => void,
): void {
  let busy = false;
  const off = bus.subscribe((e) => {
    if (busy || e.type !== RRWEB_EVENT.FullSnapshot) return;
    busy = true;
    whenIdle(() =>
      loadChunkScript<SyncGzip>(document, url, GZIP_GLOBAL, (m) => typeof m === 'function').then(
        (fn) => {
          setSyncGzip(fn);
          off();
        },
        (err) => {
          busy = false;
          report(err, 'gzip chunk');
        },
      ),
    );
  });
}
