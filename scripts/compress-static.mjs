// Writes `<file>.br` and `<file>.gz` beside every compressible file of a build output directory, so the
// backend serves /tracker.js, the WebRTC chunk and the dashboard compressed without compressing per
// request (backend/src/http/static-files.ts picks the sibling the request's Accept-Encoding allows).
//
//   node scripts/compress-static.mjs <dir> [<dir>...]      (also imported by tracker/build.mjs)
//
// Build time, not request time: brotli at its best quality (11) takes ~1.4 s for /tracker.js, far too
// slow for a request but free once per build, and it is 8 % smaller than quality 5 (57.3 vs 62.5 KB).
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

// Text types only: png, woff2, ico… are compressed already (the same list as the backend's COMPRESSIBLE).
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.svg', '.map', '.txt']);
// Below 256 B compression saves no more than the Content-Encoding/Vary headers it adds.
const MIN_BYTES = 256;

/** Compresses every eligible file below `dir`; returns one line per sibling written. */
export function compressDir(dir) {
  const lines = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) lines.push(...compressFile(path.join(entry.parentPath ?? entry.path, entry.name)));
  }
  return lines;
}

/** Writes `file`.br and `file`.gz when the type is compressible and they are smaller than the file. */
export function compressFile(file) {
  if (!COMPRESSIBLE.has(path.extname(file))) return [];
  const raw = readFileSync(file);
  const lines = [];
  const variants = {
    br: () =>
      brotliCompressSync(raw, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
          [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
          [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
        },
      }),
    gz: () => gzipSync(raw, { level: 9 }),
  };
  for (const [ext, compress] of Object.entries(variants)) {
    const out = `${file}.${ext}`;
    const body = raw.length >= MIN_BYTES ? compress() : null;
    // A sibling no smaller than the file is useless; one left from an earlier build would be stale.
    if (!body || body.length >= raw.length) {
      rmSync(out, { force: true });
      continue;
    }
    writeFileSync(out, body);
    lines.push(`${path.basename(out)} ${body.length} B (${raw.length} B raw)`);
  }
  return lines;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const dirs = process.argv.slice(2);
  if (!dirs.length) {
    console.error('usage: node scripts/compress-static.mjs <dir> [<dir>...]');
    process.exit(2);
  }
  for (const dir of dirs) console.log(`compress-static: ${dir}: ${compressDir(dir).length} files written`);
}
