import { RRWEB_EVENT, type TandemEvent } from '@tandem/protocol';
import { loadChunkScript, whenIdle } from '@tandem/assist-plugin/lazy';
import type { PendingStore } from './pending-store.js';

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

/** A value the idle chunk brings: each waiter gets it when it comes, or what there is (null) at its deadline. */
function late<T>() {
  let value: T | null = null;
  let waiters: ((v: T | null) => void)[] = [];
  return {
    /** null: the chunk could not be loaded; whoever waits goes on without it. */
    set(v: T | null): void {
      if (v !== null) value = v;
      for (const w of waiters.splice(0)) w(value);
    },
    get(waitMs: number): Promise<T | null> {
      if (value || waitMs <= 0) return Promise.resolve(value);
      return new Promise((resolve) => {
        waiters.push(resolve);
        setTimeout(() => {
          waiters = waiters.filter((w) => w !== resolve);
          resolve(value);
        }, waitMs);
      });
    },
  };
}

/**
 * The compression worker's source (compress-worker.ts, with the packing) comes with the same chunk, as
 * `.worker` of its function: 1.3 KB brotli out of /tracker.js, which the sliced serialiser of issue 8 had
 * pushed past 40 KB. The first batch leaves after the first snapshot, when the chunk is being fetched:
 * compress() waits for it (WORKER_SOURCE_WAIT_MS) and without it compresses on the main thread, unpacked.
 */
const source = late<string>();
export const setWorkerSource = (s: string): void => source.set(s);
export const workerSource = (waitMs: number): Promise<string | null> => source.get(waitMs);

/**
 * The IndexedDB store of unsent batches (pending-store.ts with idb, 2.2 KB brotli) comes with it too, as
 * `.store`: the first moments of a page need none of it (nothing waits to be stored before the first
 * flush, and the sender reads what earlier pages left only once it sends). An unload before the chunk
 * has come sends by keepalive and hands over to the tab's next page through sessionStorage, without
 * the IndexedDB copy.
 */
export type StoreOpener = (name: string) => Promise<PendingStore | null>;
const storeOpener = late<StoreOpener>();
export const setStoreOpener = (open: StoreOpener | null): void => storeOpener.set(open);
export const storeOpenerWithin = (waitMs: number): Promise<StoreOpener | null> => storeOpener.get(waitMs);

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
          const { worker, store } = fn as SyncGzip & { worker?: unknown; store?: unknown };
          if (typeof worker === 'string') setWorkerSource(worker);
          setStoreOpener(typeof store === 'function' ? (store as StoreOpener) : null);
          off();
        },
        (err) => {
          busy = false;
          setStoreOpener(null); // unsent batches stay in memory (a later retry brings the rest)
          report(err, 'gzip chunk');
        },
      ),
    );
  });
}
