import { syncGzip, workerSource } from './gzip-sync.js';
import type { Guard } from './safe.js';

/**
 * Below 256 bytes gzip's 18-byte frame eats most of the saving. Above it, a small batch still
 * shrinks 2-3x (it was 1 KB, which sent most quiet-page batches as plain JSON).
 */
export const MIN_COMPRESS_BYTES = 256;
/** A worker that does not answer in 10 s is considered broken; we stop using it for this page. */
const WORKER_TIMEOUT_MS = 10_000;
/** How long a batch waits for the worker's source (the idle chunk, gzip-sync.ts) before going without it. */
const WORKER_SOURCE_WAIT_MS = 5_000;
/**
 * Synchronous gzip (fflate, main thread; gzip-sync.ts) is used only during pagehide, where there is no time for
 * a worker round trip. 512 KB of JSON gzips in a few ms and typically lands far below the 64 KB
 * keepalive limit; anything larger goes to IndexedDB instead of blocking the unload.
 */
export const SYNC_GZIP_MAX_BYTES = 512 * 1024;

/**
 * A batch body longer than this goes to the worker in parts, this much per task: copying a string
 * into a message is native work in the posting task, and the first snapshot of a 60,000-node page (7 MB
 * of JSON) was one 84 ms task as a single message (CPU, measured at load ~17; issue 8). 256 K chars are
 * 0.5 MB of UTF-16, a few ms to copy.
 */
export const WORKER_PART_CHARS = 256 * 1024;

interface Job {
  resolve: (v: Uint8Array | string) => void;
  text: string;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * gzip off the main thread: a Blob-URL Worker running CompressionStream. Falls back to
 * CompressionStream on the main thread (async, streaming) when Workers are blocked (CSP without
 * blob: in worker-src) or fail, and to plain JSON when CompressionStream is missing. Never rejects.
 */
export class Compressor {
  private worker: Worker | null = null;
  private workerBroken = false;
  private nextId = 1;
  private readonly jobs = new Map<number, Job>();
  private url: string | null = null;
  /**
   * The packing version for batches (pack-source.ts; 0: none) — set from the server's start answer
   * (`config.pack`, packVersionFor), since only a server that unpacks may receive them. Only the worker packs:
   * on the main thread the parse and rewrite would cost the page what the worker exists to spare it, so
   * those paths send gzip alone.
   */
  pack = 0;

  constructor(private readonly guard: Guard) {}

  static get supported(): boolean {
    return typeof CompressionStream !== 'undefined' && typeof Blob !== 'undefined' && typeof Response !== 'undefined';
  }

  /** `parts` (batchParts): the same text in pieces, handed to the worker one per task without joining them here. */
  async compress(text: string, parts?: string[] | null): Promise<Uint8Array | string> {
    if (text.length < MIN_COMPRESS_BYTES || !Compressor.supported) return text;
    const src = this.worker || this.workerBroken ? null : await workerSource(WORKER_SOURCE_WAIT_MS);
    const worker = this.getWorker(src);
    if (worker) return this.viaWorker(worker, text, parts ?? undefined);
    return this.onMainThread(text);
  }

  /** Synchronous gzip for pagehide; plain text when too large to compress without blocking, or before /tracker-gzip.js came. */
  compressSync(text: string): Uint8Array | string {
    const gzip = syncGzip();
    if (!gzip || text.length < MIN_COMPRESS_BYTES || text.length > SYNC_GZIP_MAX_BYTES) return text;
    try {
      return gzip(text);
    } catch (err) {
      this.guard.report(err, 'gzip sync');
      return text;
    }
  }

  /** Ends the worker (tracker stopped); a later start creates a new one. */
  close(): void {
    this.breakWorker();
    this.workerBroken = false;
  }

  private getWorker(src: string | null): Worker | null {
    if (this.worker || this.workerBroken || !src) return this.worker;
    try {
      if (typeof Worker === 'undefined' || typeof URL === 'undefined' || !URL.createObjectURL) throw new Error('no Worker');
      this.url = URL.createObjectURL(new Blob([src], { type: 'text/javascript' }));
      const w = new Worker(this.url);
      w.onmessage = (ev: MessageEvent) => this.onMessage(ev.data);
      w.onerror = (ev: Event) => {
        // preventDefault keeps the error out of the page's console and window.onerror.
        ev.preventDefault?.();
        this.breakWorker();
      };
      w.onmessageerror = () => this.breakWorker();
      this.worker = w;
    } catch (err) {
      // Typically a CSP that forbids blob: workers. Not an error of the page: note it quietly.
      this.workerBroken = true;
      this.guard.report(err, 'compress worker unavailable');
    }
    return this.worker;
  }

  private viaWorker(worker: Worker, text: string, given?: string[]): Promise<Uint8Array | string> {
    return new Promise((resolve) => {
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.breakWorker();
      }, WORKER_TIMEOUT_MS);
      this.jobs.set(id, { resolve, text, timer });
      const pack = this.pack;
      // Slicing a string copies all of it first when it was built by concatenation (a batch body is): given
      // parts (an event serialised in slices) avoid that copy; a long body without them is cut here.
      const parts = given && given.length > 1 ? given : [];
      if (!parts.length) for (let at = 0; at < text.length; at += WORKER_PART_CHARS) parts.push(text.length <= WORKER_PART_CHARS ? text : text.slice(at, at + WORKER_PART_CHARS));
      let i = 0;
      // Every part but the last is held by the worker until the last one (with `text`) comes; in between,
      // the page runs its own tasks. Order is kept: one worker, messages arrive in the order posted. A task
      // posts parts up to WORKER_PART_CHARS in all (at least one), each as its own message: joining them
      // here would copy them.
      const post = () => {
        if (this.worker !== worker || !this.jobs.has(id)) return; // broken meanwhile: answered from the main thread
        try {
          let chars = 0;
          while (i < parts.length) {
            const p = parts[i];
            if (chars > 0 && chars + p.length > WORKER_PART_CHARS) break;
            chars += p.length;
            if (i === parts.length - 1) {
              worker.postMessage({ id, text: p, pack, parts: i > 0 });
              return;
            }
            worker.postMessage({ id, part: p });
            i++;
          }
          setTimeout(this.guard.wrap('compress hand-off', post), 0);
        } catch {
          this.breakWorker();
        }
      };
      post();
    });
  }

  private onMessage(data: { id: number; buf?: ArrayBuffer; error?: string }): void {
    const job = this.jobs.get(data?.id);
    if (!job) return;
    this.jobs.delete(data.id);
    clearTimeout(job.timer);
    if (data.buf) job.resolve(new Uint8Array(data.buf));
    else job.resolve(job.text); // worker could not gzip this one: send it plain
  }

  /** Stops using the worker; jobs still waiting are answered from the main-thread path. */
  private breakWorker(): void {
    this.workerBroken = true;
    try {
      this.worker?.terminate();
    } catch {
      /* ignore */
    }
    this.worker = null;
    if (this.url) {
      try {
        URL.revokeObjectURL(this.url);
      } catch {
        /* ignore */
      }
      this.url = null;
    }
    const waiting = [...this.jobs.values()];
    this.jobs.clear();
    for (const job of waiting) {
      clearTimeout(job.timer);
      this.onMainThread(job.text).then(job.resolve);
    }
  }

  private async onMainThread(text: string): Promise<Uint8Array | string> {
    try {
      const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
      return new Uint8Array(await new Response(stream).arrayBuffer());
    } catch (err) {
      this.guard.report(err, 'gzip');
      return text;
    }
  }
}
