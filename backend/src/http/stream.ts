import type { HttpResponse } from 'uWebSockets.js';
import { STATUS_TEXT } from './reply.js';

/** Chunks of about this size are written at once: big enough to amortise syscalls, small enough to start fast. */
const CHUNK_BYTES = 64 * 1024;

export class ClientGone extends Error {}

/** What a streaming handler knows about its client (given by the router). */
export interface ClientState {
  aborted: () => boolean;
  /** Calls `cb` once when the client goes away (at once if it already has). */
  onAborted: (cb: () => void) => void;
}

/** How lines are framed around and between them. */
export interface Framing {
  open: string;
  separator: string;
  close: string;
  /** The whole body when there is no line. */
  empty: string;
}

/**
 * Yielded between lines: what is pending goes out now instead of waiting for a full chunk (the open route's
 * window is complete before it reads the session's detail; the page should not wait for that read).
 */
export const FLUSH: unique symbol = Symbol('flush');

export const NDJSON: Framing = { open: '', separator: '\n', close: '\n', empty: '' };
/** Lines that are JSON values, as one JSON array. */
export const JSON_ARRAY: Framing = { open: '[', separator: ',', close: ']', empty: '[]' };

/**
 * Streams lines to a uWS response with backpressure: when uWS reports its buffer is full we wait for
 * the socket to drain instead of buffering the whole session in memory.
 *
 * The drain handler is registered ONCE per response, never again. uWS (20.30) runs a response's
 * onWritable handler as a borrowed copy and puts that copy back when the handler returns, even when
 * the handler (or the microtasks uWS.js runs right after it) registered a new one. Registering a new
 * handler per wait therefore lost every second wait whenever the buffer filled again at once, i.e.
 * with any client slower than the server: the stream stopped until the client gave up (issue 10:
 * 7.7 MB of 12.4 MB, then nothing for 40 s). One handler that wakes whoever waits now has nothing
 * to lose.
 */
export async function streamLines(
  res: HttpResponse,
  headers: Record<string, string>,
  lines: AsyncIterable<string | typeof FLUSH>,
  client: ClientState,
  framing: Framing = NDJSON,
  opts: { writeAtOnce?: number } = {},
): Promise<number> {
  const { open, separator, close, empty } = framing;
  // The first `writeAtOnce` lines go out as soon as each is produced instead of waiting for a full chunk
  // (the open route's head: the page lays itself out while the events behind it are still being read).
  // A line can only be complete on the wire with what follows it, so this needs framings whose separator
  // is also their close (NDJSON): each line then carries its own terminator and the bytes are the same.
  const suffixed = separator === close;
  const writeAtOnce = suffixed ? (opts.writeAtOnce ?? 0) : 0;
  let started = false;
  let pending: string[] = [];
  let pendingBytes = 0;
  let count = 0;
  let wake: (() => void) | null = null;
  const wakeUp = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  client.onAborted(wakeUp);

  const start = () => {
    if (started) return;
    res.writeStatus(STATUS_TEXT[200]);
    for (const [k, v] of Object.entries(headers)) res.writeHeader(k, v);
    res.onWritable(() => {
      wakeUp();
      return true; // nothing written here: the waiting writer continues (and uWS drains on its write)
    });
    started = true;
  };

  const write = async (chunk: string) => {
    if (client.aborted()) throw new ClientGone();
    let ok = true;
    res.cork(() => {
      start();
      ok = res.write(chunk);
    });
    if (!ok) {
      await new Promise<void>((resolve) => (wake = resolve));
      if (client.aborted()) throw new ClientGone();
    }
  };

  let first = true;
  for await (const line of lines) {
    if (line === FLUSH) {
      if (pending.length && suffixed) {
        const chunk = pending.join('');
        pending = [];
        pendingBytes = 0;
        await write(chunk);
      }
      continue;
    }
    if (suffixed) pending.push(first ? open + line + separator : line + separator);
    else pending.push(first ? open + line : separator + line);
    first = false;
    pendingBytes += line.length + 1;
    count++;
    if (pendingBytes >= CHUNK_BYTES || count <= writeAtOnce) {
      const chunk = pending.join('');
      pending = [];
      pendingBytes = 0;
      await write(chunk);
    }
  }
  const tail = count > 0 ? pending.join('') + (suffixed ? '' : close) : empty;
  if (tail) await write(tail);
  if (client.aborted()) throw new ClientGone();
  // The last write left nothing buffered, so this end only adds the terminating chunk.
  res.cork(() => {
    start();
    res.end();
  });
  return count;
}
