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

/**
 * The compression worker's source (compress-worker.ts, with the packing) comes with the same chunk, as
 * `.worker` of its function: 1.3 KB brotli out of /tracker.js, which the sliced serialiser of issue 8 had
 * pushed past 40 KB. The first batch leaves after the first snapshot, when the chunk is being fetched:
 * compress() waits for it (WORKER_SOURCE_WAIT_MS) and without it compresses on the main thread, unpacked.
 */
let source: string | null = null;
let sourceWaiters: ((s: string) => void)[] = [];

export function setWorkerSource(s: string): void {
  source = s;
  for (const w of sourceWaiters.splice(0)) w(s);
}

export function workerSource(waitMs: number): Promise<string | null> {
  if (source || waitMs <= 0) return Promise.resolve(source);
  return new Promise((resolve) => {
    sourceWaiters.push(resolve);
    setTimeout(() => {
      sourceWaiters = sourceWaiters.filter((w) => w !== resolve);
      resolve(source);
    }, waitMs);
  });
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
          const src = (fn as SyncGzip & { worker?: unknown }).worker;
          if (typeof src === 'string') setWorkerSource(src);
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
