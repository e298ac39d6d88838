import { gunzip, inflate } from 'node:zlib';
import { TandemError } from '@tandem/protocol';

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

/**
 * A zlib stream (RFC 1950, CompressionStream's 'deflate'): CM 8 in the first byte's low nibble and a header
 * check (the two bytes as a number are a multiple of 31). JSON starts with `{`, `[`, a quote or whitespace,
 * none of which has low nibble 8, so the two cannot be mistaken for each other. Trackers use it once the
 * server announces pack 2: 12 bytes less than gzip's frame on every batch.
 */
const isZlib = (b: Buffer) => b.length > 2 && (b[0] & 0x0f) === 8 && (b[0] >> 4) <= 7 && ((b[0] << 8) | b[1]) % 31 === 0;

/**
 * Decodes a request body to a JSON value. Gzip and zlib are detected by their first bytes rather than by
 * Content-Encoding, so trackers can send CORS "simple" requests (no custom headers, no preflight).
 */
export async function decodeJsonBody(body: Buffer | undefined, maxDecodedBytes: number): Promise<unknown> {
  if (!body || body.length === 0) throw new TandemError('bad_json', 'Request body is empty');
  let raw = body;
  const gzip = body[0] === GZIP_MAGIC_0 && body[1] === GZIP_MAGIC_1;
  if (gzip || isZlib(body)) {
    const format = gzip ? 'gzip' : 'zlib';
    raw = await new Promise<Buffer>((resolve, reject) =>
      (gzip ? gunzip : inflate)(body, { maxOutputLength: maxDecodedBytes }, (err, out) => {
        if (!err) return resolve(out);
        if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
          reject(new TandemError('payload_too_large', `Decompressed body exceeds ${maxDecodedBytes} bytes`));
        } else reject(new TandemError('bad_json', `Body is not valid ${format}: ${err.message}`));
      }),
    );
  }
  if (raw.length > maxDecodedBytes) throw new TandemError('payload_too_large', `Body exceeds ${maxDecodedBytes} bytes`);
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new TandemError('bad_json', `Body is not valid JSON: ${(err as Error).message}`);
  }
}
