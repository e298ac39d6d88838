/**
 * Static files, compressed and revalidated: each file's representations (identity, br, gzip) with a
 * strong content-hash ETag each, the one the request's Accept-Encoding prefers, and 304 for a matching
 * If-None-Match. Compression happens at build time (scripts/compress-static.mjs writes `.br`/`.gz`
 * beside each file); a file without fresh siblings (the demo site, which has no build, or an HTML page
 * transformed per request) is compressed once per version, off the main thread, and kept.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { Reply } from './reply.js';
import type { RequestInfo } from './request.js';

const brotliAsync = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

export const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.ico': 'image/x-icon', '.woff2': 'font/woff2', '.map': 'application/json', '.txt': 'text/plain; charset=utf-8',
};
/** Text types only: png, woff2… are compressed already (same list as scripts/compress-static.mjs). */
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.svg', '.map', '.txt']);
/** Below 256 B compression saves no more than the headers it adds (same as the build script). */
const MIN_BYTES = 256;

export type Coding = 'br' | 'gzip' | 'identity';
/** Our preference when the client weighs codings equally: br is ~10 % smaller than gzip on our JS. */
const PREFERENCE: Coding[] = ['br', 'gzip', 'identity'];
const SIBLING: Record<Exclude<Coding, 'identity'>, string> = { br: '.br', gzip: '.gz' };

interface Representation {
  body: Buffer;
  etag: string;
}
interface FileEntry {
  mtimeMs: number;
  type: string;
  compressible: boolean;
  identity: Representation;
  /** Filled from fresh build-time siblings, or compressed here once (a promise, so concurrent first requests share it). */
  coded: Promise<Partial<Record<'br' | 'gzip', Representation>>>;
  /** For a transformed file: the transformed output these representations are of. */
  transformed?: string;
}

/** Weighs each coding a client named: RFC 9110 §12.5.3, q from 0 to 1, `*` for any coding not named. */
export function parseAcceptEncoding(header: string | undefined): Map<string, number> {
  const weights = new Map<string, number>();
  for (const part of (header ?? '').split(',')) {
    const [name, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (!name) continue;
    let q = 1;
    for (const p of params) {
      const m = /^q\s*=\s*([01](?:\.\d{0,3})?)$/.exec(p);
      if (m) q = Math.min(1, Number(m[1]));
      else if (p.startsWith('q')) q = 0; // a malformed weight: treat the coding as not wanted, never as wanted
    }
    weights.set(name === 'x-gzip' ? 'gzip' : name, q);
  }
  return weights;
}

/**
 * The coding to answer with among `available` (identity is always available): the highest weight,
 * ties broken br > gzip > identity; identity the client did not name comes last. No header means identity. When the client refuses everything we
 * have (e.g. `identity;q=0` and no br/gzip), identity is sent anyway: a readable answer beats a 406
 * that no browser would ever trigger.
 */
export function chooseCoding(header: string | undefined, available: Coding[]): Coding {
  if (header === undefined) return 'identity';
  const weights = parseAcceptEncoding(header);
  const star = weights.get('*');
  // Identity the client did not name is acceptable (unless `*;q=0`) but the last choice: `br;q=0.5`
  // asks for br, even though an unnamed identity would formally weigh 1.
  const weight = (c: Coding) => weights.get(c) ?? (c === 'identity' ? (star === 0 ? 0 : 0.0001) : (star ?? 0));
  let best: Coding = 'identity';
  let bestQ = 0;
  for (const c of PREFERENCE) {
    if (c !== 'identity' && !available.includes(c)) continue;
    const q = weight(c);
    if (q > bestQ) [best, bestQ] = [c, q];
  }
  return best;
}

/** If-None-Match against one ETag: `*`, or a list compared weakly (RFC 9110 §13.1.2). */
export function noneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const opaque = etag.replace(/^W\//, '');
  return (header.match(/(?:W\/)?"[^"]*"/g) ?? []).some((tag) => tag.replace(/^W\//, '') === opaque);
}

function etagOf(body: Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}

async function readSibling(file: string, ext: string, mtimeMs: number): Promise<Buffer | null> {
  try {
    // A sibling older than its file belongs to an earlier build (the file was rebuilt without them).
    if ((await stat(file + ext)).mtimeMs < mtimeMs) return null;
    return await readFile(file + ext);
  } catch {
    return null;
  }
}

async function compressOnce(body: Buffer): Promise<Partial<Record<'br' | 'gzip', Representation>>> {
  if (body.length < MIN_BYTES) return {};
  const [br, gz] = await Promise.all([
    // Quality 9, not 11: this path serves small source files (the demo) and per-version HTML, where
    // 11 would cost tens of ms of thread-pool time for a few bytes.
    brotliAsync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 9, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } }),
    gzipAsync(body, { level: 9 }),
  ]);
  const out: Partial<Record<'br' | 'gzip', Representation>> = {};
  if (br.length < body.length) out.br = { body: br, etag: etagOf(br) };
  if (gz.length < body.length) out.gzip = { body: gz, etag: etagOf(gz) };
  return out;
}

/**
 * Representations by file (and by "file + transformed" for transformed pages), kept while the file's
 * mtime is unchanged: /tracker.js is fetched on every customer page view, and a stat is much cheaper
 * than reading and hashing 200 KB. Bounded by the files shipped.
 */
const cache = new Map<string, FileEntry>();
const MAX_ENTRIES = 500;

async function load(file: string, mtimeMs: number, transform?: (text: string) => string): Promise<FileEntry> {
  const key = transform ? `${file}\0transformed` : file;
  const cached = cache.get(key);
  const ext = path.extname(file);
  const type = TYPES[ext] ?? 'application/octet-stream';
  const compressible = COMPRESSIBLE.has(ext);
  if (!transform && cached && cached.mtimeMs === mtimeMs) return cached;

  let raw: Buffer;
  if (transform) {
    // The transform (e.g. the demo's project key) runs per request on the cached source; its output
    // is compared with the one the stored representations are of, so they are rebuilt only when it changes.
    const source = cache.get(file)?.mtimeMs === mtimeMs ? cache.get(file)!.identity.body : await readFile(file);
    const text = transform(source.toString('utf8'));
    if (cached && cached.mtimeMs === mtimeMs && cached.transformed === text) return cached;
    raw = Buffer.from(text);
    const entry: FileEntry = { mtimeMs, type, compressible, identity: { body: raw, etag: etagOf(raw) }, coded: compressible ? compressOnce(raw) : Promise.resolve({}), transformed: text };
    remember(key, entry);
    return entry;
  }
  raw = await readFile(file);
  const coded = (async () => {
    if (!compressible) return {};
    const [br, gz] = await Promise.all([readSibling(file, SIBLING.br, mtimeMs), readSibling(file, SIBLING.gzip, mtimeMs)]);
    if (!br && !gz) return compressOnce(raw);
    const out: Partial<Record<'br' | 'gzip', Representation>> = {};
    if (br) out.br = { body: br, etag: etagOf(br) };
    if (gz) out.gzip = { body: gz, etag: etagOf(gz) };
    return out;
  })();
  const entry: FileEntry = { mtimeMs, type, compressible, identity: { body: raw, etag: etagOf(raw) }, coded };
  remember(key, entry);
  return entry;
}

function remember(key: string, entry: FileEntry): void {
  if (cache.has(key) || cache.size < MAX_ENTRIES) cache.set(key, entry);
}

export interface StaticOptions {
  /** Applied to HTML files per request (its output is what is compressed and tagged). */
  transform?: (text: string) => string;
  cacheControl: string;
}

/**
 * Answers `relative` below `root` for this request, or null when there is no such file (paths that
 * climb out of `root` included).
 */
export async function staticReply(req: RequestInfo, root: string, relative: string, opts: StaticOptions): Promise<Reply | null> {
  const file = path.resolve(root, '.' + path.posix.normalize('/' + relative));
  if (!file.startsWith(path.resolve(root) + path.sep)) return null;
  let mtimeMs: number;
  try {
    const s = await stat(file);
    if (!s.isFile()) return null;
    mtimeMs = s.mtimeMs;
  } catch {
    return null;
  }
  const transform = opts.transform && file.endsWith('.html') ? opts.transform : undefined;
  const entry = await load(file, mtimeMs, transform);
  const coded = await entry.coded;
  const available = (Object.keys(coded) as Coding[]).concat('identity');
  const coding = chooseCoding(req.headers['accept-encoding'], available);
  const rep = coding === 'identity' ? entry.identity : coded[coding]!;
  const headers: Record<string, string> = { etag: rep.etag, 'cache-control': opts.cacheControl };
  // Every answer of a compressible file depends on Accept-Encoding, the identity one included.
  if (entry.compressible) headers.vary = 'Accept-Encoding';
  if (noneMatchHits(req.headers['if-none-match'], rep.etag)) return { status: 304, headers };
  headers['content-type'] = entry.type;
  if (coding !== 'identity') headers['content-encoding'] = coding;
  return { status: 200, headers, body: rep.body };
}
