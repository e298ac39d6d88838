import { batchBody, mergeBatches, type Batch, type Stream } from './batcher.js';
import { SYNC_GZIP_MAX_BYTES, type Compressor } from './compress.js';
import type { Guard } from './safe.js';
import { KEEPALIVE_MAX_BYTES, type Transport } from './transport.js';

/**
 * Keepalive request bodies in flight from this page. Browsers refuse a keepalive request once they
 * add up to more than 64 KiB (KEEPALIVE_MAX_BYTES), so each keepalive send takes its size here first.
 */
export class KeepaliveBudget {
  private used = 0;

  /** True (and counted) when `size` more bytes fit the quota. */
  take(size: number): boolean {
    if (this.used + size > KEEPALIVE_MAX_BYTES) return false;
    this.used += size;
    return true;
  }

  release(size: number): void {
    this.used -= size;
  }
}

export interface UnloadSendDeps {
  transport: Transport;
  compressor: Compressor;
  guard: Guard;
  keepalive: KeepaliveBudget;
  /** The server's batch limit now (bounds the merged request). */
  maxBatchBytes?: () => number;
  /** A merged request got a 2xx: `sent` are the batches it carried, `ackSeq` the server's answer. */
  onSent(stream: Stream, sent: Batch[], events: number, ackSeq: number): void;
}

/**
 * The pagehide send: per stream, its oldest batches merged into ONE keepalive request, gzipped on the
 * main thread (no time for the worker), if that fits the keepalive quota. Only a prefix: the body must
 * stay within what sync gzip handles quickly and the server takes, from the stream's oldest batch.
 * The server drops any seq below one it already has, so a stream's request always carries every
 * batch still unacknowledged, the one in flight and an earlier unload request's included: whichever
 * of two requests arrives first, the other's events are duplicates, none is lost. (A stream with a
 * request in flight used to be skipped, and a second unload request carried only what was new: the
 * page's last events were lost whenever the tab closed during a send or the later request overtook
 * the earlier.) Failures are left to the stored copy.
 */
export function sendAtUnload(all: Batch[], deps: UnloadSendDeps): void {
  const streams: Stream[] = [];
  for (const b of all) if (!streams.includes(b.stream)) streams.push(b.stream);
  for (const stream of streams) {
    const mine = all.filter((b) => b.stream === stream).sort((a, b) => a.events[0].seq - b.events[0].seq);
    const prefix: Batch[] = [];
    let raw = 0;
    for (const b of mine) {
      if (prefix.length > 0 && raw + b.bytes > Math.min(SYNC_GZIP_MAX_BYTES, deps.maxBatchBytes?.() ?? Infinity)) break;
      prefix.push(b);
      raw += b.bytes;
    }
    const merged = mergeBatches(prefix);
    const body = deps.compressor.compressSync(batchBody(merged));
    const size = typeof body === 'string' ? body.length : body.byteLength;
    if (!deps.keepalive.take(size)) continue;
    deps.transport
      .sendBatch(stream.token, body, true)
      .then((res) => {
        deps.keepalive.release(size);
        if (res.kind === 'ok') deps.onSent(stream, prefix, merged.events.length, res.ackSeq);
      })
      .catch((err) => deps.guard.report(err, 'unload send'));
  }
}
