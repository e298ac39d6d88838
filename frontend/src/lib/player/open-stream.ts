import type { SessionOpenFrame, SessionOpenHead, SessionOpenRest, SessionOpenWindowEnd, TandemEvent } from '@tandem/protocol';
import { NdjsonSplitter, type StreamProgress } from '../api/ndjson';

/**
 * Reads the open route's answer (`GET /api/v1/sessions/:id/open`, protocol SessionOpenFrame): its first
 * line, the frame (tab, moment, window, the tabs and keyframes it was planned from), is handed over as soon
 * as it arrives, so the early frame plans its window while the events stream in behind it; the session's
 * detail comes after a small window's events (the first frame waits for neither) and before a big one's (the
 * page then shows their progress).
 */
export interface OpenStream {
  frame: Promise<SessionOpenFrame>;
  /** the window's events, in timestamp order (as readWindow returns them) */
  events: Promise<TandemEvent[]>;
  /** the frame's choice with the session's detail, once its line is in (after a small window's events, before a big one's); rejects if the answer ends without it */
  head: Promise<SessionOpenHead>;
  /** how far the events are (for the progress bar) */
  progress: StreamProgress;
  /** told of every step of `progress` */
  onProgress: ((progress: StreamProgress) => void) | null;
}

export function readOpenStream(body: ReadableStream<Uint8Array>): OpenStream {
  let resolveFrame!: (frame: SessionOpenFrame) => void;
  let rejectFrame!: (err: unknown) => void;
  const frame = new Promise<SessionOpenFrame>((resolve, reject) => ((resolveFrame = resolve), (rejectFrame = reject)));
  let resolveHead!: (head: SessionOpenHead) => void;
  let rejectHead!: (err: unknown) => void;
  const head = new Promise<SessionOpenHead>((resolve, reject) => ((resolveHead = resolve), (rejectHead = reject)));
  let gotFrame: SessionOpenFrame | null = null;
  let gotRest = false;
  const events: TandemEvent[] = [];
  const take = (lines: string[]) => {
    for (const line of lines) {
      const value = JSON.parse(line) as TandemEvent | SessionOpenFrame | SessionOpenRest | SessionOpenWindowEnd;
      if (!gotFrame) resolveFrame((gotFrame = value as SessionOpenFrame));
      // Every event has a numeric `type`; the window's end and the detail have none.
      else if (typeof (value as { type?: unknown }).type === 'number') events.push(value as TandemEvent);
      // The window is complete: the detail may still be read behind it.
      else if (typeof (value as SessionOpenWindowEnd).windowEvents === 'number') eventsDone();
      else if (!gotRest && (value as SessionOpenRest).session) {
        gotRest = true;
        const { tabId, offset, window } = gotFrame;
        resolveHead({ session: (value as SessionOpenRest).session, tabId, offset, window });
      }
    }
  };
  const stream = { frame, head, progress: { items: 0, bytes: 0 }, onProgress: null } as Omit<OpenStream, 'events'> as OpenStream;
  const report = (bytes: number) => {
    stream.progress = { items: events.length, bytes };
    stream.onProgress?.(stream.progress);
  };
  let resolveEvents!: (events: TandemEvent[]) => void;
  let rejectEvents!: (err: unknown) => void;
  const complete = new Promise<TandemEvent[]>((resolve, reject) => ((resolveEvents = resolve), (rejectEvents = reject)));
  let bytesIn = 0;
  let settled = false;
  const eventsDone = () => {
    if (settled) return;
    settled = true;
    report(bytesIn);
    // rrweb replays in timestamp order; a stable sort keeps seq order for ties.
    resolveEvents(events.sort((a, b) => a.timestamp - b.timestamp));
  };
  const read = (async () => {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    const splitter = new NdjsonSplitter();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytesIn += value.byteLength;
        take(splitter.push(decoder.decode(value, { stream: true })));
        if (gotFrame && !settled) report(bytesIn);
      }
      take(splitter.push(decoder.decode()));
      take(splitter.end());
    } finally {
      reader.releaseLock();
    }
    if (!gotFrame) throw new Error('The server ended the answer before the session.');
  })();
  stream.events = complete;
  read.then(
    () => {
      eventsDone();
      rejectHead(new Error('The server ended the answer before the session.'));
    },
    (err: unknown) => {
      if (!gotFrame) rejectFrame(err);
      rejectEvents(err);
      rejectHead(err);
    },
  );
  // Read by the page once it loads (or never: an early frame on a page that went elsewhere).
  stream.head.catch(() => {});
  return stream;
}
