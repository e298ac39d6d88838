import type { SessionOpenHead, TandemEvent } from '@tandem/protocol';
import { NdjsonSplitter, type StreamProgress } from '../api/ndjson';

/**
 * Reads the open route's answer (`GET /api/v1/sessions/:id/open`): its first line, the head (session
 * detail, tab, offset, window), is handed over as soon as it arrives, so the page lays itself out
 * while the window's events are still streaming in behind it.
 */
export interface OpenStream {
  head: Promise<SessionOpenHead>;
  /** the window's events, in timestamp order (as readWindow returns them) */
  events: Promise<TandemEvent[]>;
  /** how far the events are (for the progress bar) */
  progress: StreamProgress;
  /** told of every step of `progress` */
  onProgress: ((progress: StreamProgress) => void) | null;
}

export function readOpenStream(body: ReadableStream<Uint8Array>): OpenStream {
  let resolveHead!: (head: SessionOpenHead) => void;
  let rejectHead!: (err: unknown) => void;
  const head = new Promise<SessionOpenHead>((resolve, reject) => ((resolveHead = resolve), (rejectHead = reject)));
  const stream: OpenStream = { head, events: Promise.resolve([]), progress: { items: 0, bytes: 0 }, onProgress: null };
  let gotHead = false;
  const events: TandemEvent[] = [];
  const take = (lines: string[]) => {
    for (const line of lines) {
      if (!gotHead) {
        gotHead = true;
        resolveHead(JSON.parse(line) as SessionOpenHead);
      } else {
        events.push(JSON.parse(line) as TandemEvent);
      }
    }
  };
  const report = (bytes: number) => {
    stream.progress = { items: events.length, bytes };
    stream.onProgress?.(stream.progress);
  };
  stream.events = (async () => {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    const splitter = new NdjsonSplitter();
    let bytes = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.byteLength;
        take(splitter.push(decoder.decode(value, { stream: true })));
        if (gotHead) report(bytes);
      }
      take(splitter.push(decoder.decode()));
      take(splitter.end());
    } finally {
      reader.releaseLock();
    }
    if (!gotHead) throw new Error('The server ended the answer before the session.');
    report(bytes);
    // rrweb replays in timestamp order; a stable sort keeps seq order for ties.
    return events.sort((a, b) => a.timestamp - b.timestamp);
  })();
  stream.events.catch((err: unknown) => {
    if (!gotHead) rejectHead(err);
  });
  return stream;
}
