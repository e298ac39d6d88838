import type { TandemEvent } from '@tandem/protocol';
import { NdjsonSplitter, type StreamProgress } from '../api/ndjson';
import type { ReplayWindow } from './windows';

/**
 * Reads one window's events from an NDJSON stream. The server sends the tab in seq order and honours
 * `fromSeq`/`toSeq`; the seq range is also checked here, and the read stops at the first event past
 * `toSeq`, so a server that ignores the range costs time but never shows the wrong events.
 * Events come back in timestamp order (rrweb replays in that order; a stable sort keeps seq order for ties).
 */
export async function readWindow(
  body: ReadableStream<Uint8Array>,
  window: Pick<ReplayWindow, 'fromSeq' | 'toSeq'>,
  onProgress?: (progress: StreamProgress) => void,
): Promise<TandemEvent[]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const splitter = new NdjsonSplitter();
  const events: TandemEvent[] = [];
  const toSeq = window.toSeq ?? Infinity;
  let bytes = 0;
  let past = false;
  const take = (lines: string[]) => {
    for (const line of lines) {
      const event = JSON.parse(line) as TandemEvent;
      const seq = typeof event.seq === 'number' ? event.seq : 0;
      if (seq > toSeq) {
        past = true;
        return;
      }
      if (seq >= window.fromSeq) events.push(event);
    }
  };
  try {
    while (!past) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      take(splitter.push(decoder.decode(value, { stream: true })));
      onProgress?.({ items: events.length, bytes });
    }
    if (!past) {
      take(splitter.push(decoder.decode()));
      take(splitter.end());
    }
  } finally {
    if (past) void reader.cancel().catch(() => {});
    else reader.releaseLock();
  }
  onProgress?.({ items: events.length, bytes });
  events.sort((a, b) => a.timestamp - b.timestamp);
  return events;
}
