import net from 'node:net';

export interface SlowRead {
  status: number;
  headers: Record<string, string>;
  /** The decoded body (chunked transfer encoding undone). */
  body: Buffer;
  /** Bytes received on the socket (headers and chunk framing included). */
  wireBytes: number;
  ms: number;
}

/**
 * A genuinely slow HTTP/1.1 client on a raw TCP socket: it pauses the socket whenever it is ahead of
 * `bytesPerSecond`, so the kernel buffers fill and the server sees real backpressure (fetch/undici
 * would read as fast as it can). `stallMs` adds one full stop after `stallAfterBytes`.
 */
export function slowGet(
  url: string,
  headers: Record<string, string>,
  opts: { bytesPerSecond: number; stallAfterBytes?: number; stallMs?: number; timeoutMs: number },
): Promise<SlowRead> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(u.port), u.hostname);
    const parts: Buffer[] = [];
    let bytes = 0;
    let stalled = false;
    const t0 = Date.now();
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`slow read timed out after ${opts.timeoutMs} ms with ${bytes} bytes received`));
    }, opts.timeoutMs);
    sock.on('connect', () => {
      const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      sock.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: close\r\n${extra}\r\n`);
    });
    sock.on('data', (d: Buffer) => {
      parts.push(d);
      bytes += d.length;
      let wait = t0 + (bytes / opts.bytesPerSecond) * 1000 - Date.now();
      if (opts.stallMs && !stalled && bytes >= (opts.stallAfterBytes ?? 0)) (stalled = true), (wait = Math.max(wait, opts.stallMs));
      if (wait > 0) {
        sock.pause();
        setTimeout(() => sock.resume(), wait);
      }
    });
    sock.on('error', (err) => (clearTimeout(timer), reject(err)));
    sock.on('end', () => {
      clearTimeout(timer);
      try {
        resolve({ ...parseResponse(Buffer.concat(parts)), wireBytes: bytes, ms: Date.now() - t0 });
      } catch (err) {
        reject(err);
      }
    });
  });
}

function parseResponse(raw: Buffer): Omit<SlowRead, 'wireBytes' | 'ms'> {
  const headEnd = raw.indexOf('\r\n\r\n');
  if (headEnd < 0) throw new Error('no HTTP head in the response');
  const [statusLine, ...lines] = raw.subarray(0, headEnd).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
  let rest = raw.subarray(headEnd + 4);
  if (headers['transfer-encoding'] !== 'chunked') return { status: Number(statusLine.split(' ')[1]), headers, body: rest };
  const out: Buffer[] = [];
  for (;;) {
    const eol = rest.indexOf('\r\n');
    if (eol < 0) throw new Error('truncated chunked body (no terminating chunk)');
    const size = parseInt(rest.subarray(0, eol).toString('latin1'), 16);
    if (size === 0) break;
    out.push(rest.subarray(eol + 2, eol + 2 + size));
    rest = rest.subarray(eol + 2 + size + 2);
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: Buffer.concat(out) };
}
