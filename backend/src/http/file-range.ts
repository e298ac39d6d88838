import { createReadStream } from 'node:fs';
import type { HttpResponse } from 'uWebSockets.js';
import { STATUS_TEXT } from './reply.js';
import { ClientGone, type ClientState } from './stream.js';

/** A single byte range of a file of `size` bytes, inclusive, or why it cannot be served. */
export type RangeResult = { kind: 'whole' } | { kind: 'range'; start: number; end: number } | { kind: 'unsatisfiable' };

/**
 * `Range: bytes=a-b | a- | -n` (RFC 9110 §14.1.2), one range only: a media element asks for one at a
 * time, and multipart/byteranges answers are not worth their complexity. Anything unparsable is
 * ignored (the whole file is sent), as the RFC allows; a range past the end is unsatisfiable.
 */
export function parseRange(header: string | undefined, size: number): RangeResult {
  const m = header && /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'whole' };
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return { kind: 'unsatisfiable' };
  return { kind: 'range', start, end };
}

/** Read-ahead per chunk: a few network writes' worth, little memory per stream. */
const CHUNK_BYTES = 256 * 1024;

/**
 * Streams bytes `start..end` (inclusive) of a file with backpressure and a Content-Length (uWS's
 * tryEnd), as the uWS VideoStreamer example does. One onWritable handler per response (see
 * stream.ts for why registering one per wait loses data). Rejects with ClientGone when the client
 * leaves; an empty range ends at once.
 */
export function sendFileRange(
  res: HttpResponse, client: ClientState, file: string, start: number, end: number, status: number, headers: Record<string, string>,
): Promise<void> {
  const total = Math.max(0, end - start + 1);
  const head = () => {
    res.writeStatus(STATUS_TEXT[status] ?? String(status));
    for (const [k, v] of Object.entries(headers)) res.writeHeader(k, v);
  };
  if (total === 0) {
    if (client.aborted()) return Promise.reject(new ClientGone());
    res.cork(() => {
      head();
      res.end();
    });
    return Promise.resolve();
  }
  return new Promise<void>((resolve, reject) => {
    const stream = createReadStream(file, { start, end, highWaterMark: CHUNK_BYTES });
    let started = false;
    let finished = false;
    let pending: { ab: ArrayBuffer; offset: number } | null = null;
    const finish = (err?: Error) => {
      if (finished) return;
      finished = true;
      stream.destroy();
      if (err) reject(err);
      else resolve();
    };
    client.onAborted(() => finish(new ClientGone()));
    const begin = () => {
      if (started) return;
      started = true;
      head();
      res.onWritable((offset) => {
        if (!pending || finished) return true;
        const [ok, done] = res.tryEnd(pending.ab.slice(offset - pending.offset), total);
        if (done) finish();
        else if (ok) {
          pending = null;
          stream.resume();
        }
        return ok;
      });
    };
    stream.on('data', (chunk) => {
      if (finished) return;
      if (client.aborted()) return finish(new ClientGone());
      const buf = chunk as Buffer;
      const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
      let ok = false;
      let done = false;
      res.cork(() => {
        begin();
        const offset = res.getWriteOffset();
        [ok, done] = res.tryEnd(ab, total);
        if (!ok && !done) pending = { ab, offset };
      });
      if (done) finish();
      else if (!ok) stream.pause();
    });
    stream.on('end', () => {
      // The file was shorter than announced (cut while we read): the response cannot be completed.
      if (!finished && !pending) {
        if (!client.aborted()) res.close();
        finish(new ClientGone());
      }
    });
    stream.on('error', (err) => {
      if (started && !client.aborted()) res.close();
      finish(started ? new ClientGone() : err);
    });
  });
}
