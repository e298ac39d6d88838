import type { HttpResponse } from 'uWebSockets.js';
import { STATUS_TEXT } from './reply.js';

/** Chunks of about this size are written at once: big enough to amortise syscalls, small enough to start fast. */
const CHUNK_BYTES = 64 * 1024;

export class ClientGone extends Error {}

/**
 * Streams lines (NDJSON) to a uWS response with backpressure: when uWS reports its buffer is full we
 * wait for `onWritable` instead of buffering the whole session in memory.
 */
export async function streamLines(
  res: HttpResponse,
  headers: Record<string, string>,
  lines: AsyncIterable<string>,
  aborted: () => boolean,
): Promise<number> {
  let started = false;
  let pending: string[] = [];
  let pendingBytes = 0;
  let count = 0;

  const write = async (chunk: string) => {
    if (aborted()) throw new ClientGone();
    let ok = true;
    res.cork(() => {
      if (!started) {
        res.writeStatus(STATUS_TEXT[200]);
        for (const [k, v] of Object.entries(headers)) res.writeHeader(k, v);
        started = true;
      }
      ok = res.write(chunk);
    });
    if (!ok) {
      await new Promise<void>((resolve) =>
        res.onWritable(() => {
          resolve();
          return true;
        }),
      );
    }
  };

  for await (const line of lines) {
    pending.push(line);
    pendingBytes += line.length + 1;
    count++;
    if (pendingBytes >= CHUNK_BYTES) {
      const chunk = pending.join('\n') + '\n';
      pending = [];
      pendingBytes = 0;
      await write(chunk);
    }
  }
  const tail = pending.length ? pending.join('\n') + '\n' : '';
  if (aborted()) throw new ClientGone();
  res.cork(() => {
    if (!started) {
      res.writeStatus(STATUS_TEXT[200]);
      for (const [k, v] of Object.entries(headers)) res.writeHeader(k, v);
    }
    res.end(tail);
  });
  return count;
}
