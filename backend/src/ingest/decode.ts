import { gunzip } from 'node:zlib';
import { TandemError } from '@tandem/protocol';

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

/**
 * Decodes a request body to a JSON value. Gzip is detected by its magic bytes rather than by
 * Content-Encoding, so trackers can send CORS "simple" requests (no custom headers, no preflight).
 */
export async function decodeJsonBody(body: Buffer | undefined, maxDecodedBytes: number): Promise<unknown> {
  if (!body || body.length === 0) throw new TandemError('bad_json', 'Request body is empty');
  let raw = body;
  if (body[0] === GZIP_MAGIC_0 && body[1] === GZIP_MAGIC_1) {
    raw = await new Promise<Buffer>((resolve, reject) =>
      gunzip(body, { maxOutputLength: maxDecodedBytes }, (err, out) => {
        if (!err) return resolve(out);
        if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
          reject(new TandemError('payload_too_large', `Decompressed body exceeds ${maxDecodedBytes} bytes`));
        } else reject(new TandemError('bad_json', `Body is not valid gzip: ${err.message}`));
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
