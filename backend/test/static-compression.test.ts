import { cp, mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseCoding, noneMatchHits } from '../src/http/static-files.js';
import { startTestServer, type TestServer } from './helpers.js';

/** GET with node:http, which (unlike fetch) hands over the body exactly as it came over the wire. */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

function decode(r: { headers: http.IncomingHttpHeaders; body: Buffer }): Buffer {
  const enc = r.headers['content-encoding'];
  if (enc === 'br') return brotliDecompressSync(r.body);
  if (enc === 'gzip') return gunzipSync(r.body);
  expect(enc).toBeUndefined();
  return r.body;
}

/** A script big enough to be worth compressing, different for each `seed`. */
function script(seed: string): string {
  return Array.from({ length: 400 }, (_, i) => `window.__fixture_${seed}_${i} = ${JSON.stringify('value ' + seed + ' ' + i)};`).join('\n');
}

// One server (chDB allows one data directory per process) on a temp root: the real build output
// (tracker/dist, frontend/dist with their build-time .br/.gz, as `npm run build` leaves them) copied in
// with their times, plus files of our own that a test may change to watch the ETag follow.
const REPO = path.resolve(import.meta.dirname, '../..');
let server: TestServer;
let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'tandem-static-'));
  // Only what is served (not the source maps): the machine is shared and slow to copy megabytes.
  const served = (src: string) => !src.endsWith('.map') && !/\/index\.js/.test(src.slice(src.indexOf('tracker/dist')));
  for (const dir of ['tracker/dist', 'frontend/dist']) {
    await cp(path.join(REPO, dir), path.join(root, dir), { recursive: true, preserveTimestamps: true, filter: served });
  }
  await mkdir(path.join(root, 'e2e', 'demo'), { recursive: true });
  await writeFile(path.join(root, 'frontend', 'dist', 'assets', 'app-abc123.js'), script('app'));
  // PNG bytes (signature + filler): a type that is compressed already, never recompressed.
  await writeFile(path.join(root, 'frontend', 'dist', 'assets', 'logo-abc123.png'), Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(4000, 7)]));
  await writeFile(path.join(root, 'e2e', 'demo', 'index.html'), `<!doctype html><script src="/tracker.js" data-project-key="__TANDEM_PROJECT_KEY__"></script>${'<li>item</li>'.repeat(200)}`);
  server = await startTestServer({ rootDir: root });
}, 60_000);
afterAll(async () => {
  await server?.dispose();
  await rm(root, { recursive: true, force: true });
});

describe('compressed static files', () => {
  for (const [name, urlPath] of [
    ['/tracker.js', '/tracker.js'],
    ['the live assist chunk', '/tracker-assist.js?v=abc'],
    ['the sync gzip chunk', '/tracker-gzip.js?v=abc'],
    ['the WebRTC chunk', '/tracker-rtc.js?v=abc'],
    ['the dashboard index', '/'],
  ] as const) {
    it(`serves ${name} as br, gzip or identity, all decoding to the same bytes, each with its own ETag`, async () => {
      const br = await get(server.url + urlPath, { 'accept-encoding': 'gzip, deflate, br' });
      const gz = await get(server.url + urlPath, { 'accept-encoding': 'gzip' });
      const plain = await get(server.url + urlPath);
      for (const r of [br, gz, plain]) {
        expect(r.status).toBe(200);
        expect(r.headers.vary).toBe('Accept-Encoding');
        expect(r.headers.etag).toMatch(/^"[A-Za-z0-9_-]{20,}"$/);
      }
      expect(br.headers['content-encoding']).toBe('br');
      expect(gz.headers['content-encoding']).toBe('gzip');
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(decode(br).equals(plain.body)).toBe(true);
      expect(decode(gz).equals(plain.body)).toBe(true);
      expect(br.body.length).toBeLessThan(gz.body.length);
      expect(gz.body.length).toBeLessThan(plain.body.length);
      expect(new Set([br.headers.etag, gz.headers.etag, plain.headers.etag]).size).toBe(3);
      // Compressed once: the same bytes and ETag on the next request.
      const again = await get(server.url + urlPath, { 'accept-encoding': 'br' });
      expect(again.headers.etag).toBe(br.headers.etag);
      expect(again.body.equals(br.body)).toBe(true);
    });
  }

  it('keeps CORS on the tracker and its chunks, also on 304', async () => {
    for (const p of ['/tracker.js', '/tracker-assist.js?v=abc', '/tracker-gzip.js?v=abc', '/tracker-rtc.js?v=abc']) {
      const first = await get(server.url + p, { 'accept-encoding': 'br' });
      expect(first.headers['access-control-allow-origin']).toBe('*');
      const again = await get(server.url + p, { 'accept-encoding': 'br', 'if-none-match': first.headers.etag! });
      expect(again.status).toBe(304);
      expect(again.headers['access-control-allow-origin']).toBe('*');
      expect(again.headers.etag).toBe(first.headers.etag);
    }
  });

  it('answers a matching If-None-Match with 304 and no body, per representation, lists and * included', async () => {
    const url = server.url + '/tracker.js';
    const br = await get(url, { 'accept-encoding': 'br' });
    const gz = await get(url, { 'accept-encoding': 'gzip' });
    const hit = await get(url, { 'accept-encoding': 'br', 'if-none-match': br.headers.etag! });
    expect(hit.status).toBe(304);
    expect(hit.body.length).toBe(0);
    expect(hit.headers['content-length']).toBeUndefined();
    expect(hit.headers.vary).toBe('Accept-Encoding');
    // The gzip ETag does not validate the br representation, and vice versa.
    const other = await get(url, { 'accept-encoding': 'br', 'if-none-match': gz.headers.etag! });
    expect(other.status).toBe(200);
    expect(other.headers['content-encoding']).toBe('br');
    const list = await get(url, { 'accept-encoding': 'gzip', 'if-none-match': `"nope", W/${gz.headers.etag}, ${br.headers.etag}` });
    expect(list.status).toBe(304);
    expect((await get(url, { 'if-none-match': '*' })).status).toBe(304);
    expect((await get(url, { 'if-none-match': '"nope"' })).status).toBe(200);
  });

  it('honours q-values: q=0 refuses a coding, the highest weight wins', async () => {
    const url = server.url + '/tracker.js';
    const enc = async (ae: string) => (await get(url, { 'accept-encoding': ae })).headers['content-encoding'] ?? 'identity';
    expect(await enc('br;q=0, gzip')).toBe('gzip');
    expect(await enc('gzip;q=0.5, br;q=0.9')).toBe('br');
    expect(await enc('br;q=0.4, gzip;q=0.8')).toBe('gzip');
    expect(await enc('*;q=0.1, br;q=0')).toBe('gzip');
    expect(await enc('br;q=0, gzip;q=0')).toBe('identity');
    expect(await enc('identity')).toBe('identity');
    expect(await enc('gzip;q=0.5, identity')).toBe('identity');
    expect(await enc('*')).toBe('br');
    expect(await enc('')).toBe('identity');
    expect(await enc('BR')).toBe('br');
  });

  it('gives a changed file a new ETag and the new bytes in every coding', async () => {
    const file = path.join(root, 'tracker', 'dist', 'tandem.iife.js');
    const before = await get(server.url + '/tracker.js', { 'accept-encoding': 'br' });
    await writeFile(file, script('b'));
    const later = new Date(Date.now() + 5_000);
    await utimes(file, later, later);
    for (const ae of ['br', 'gzip', 'identity']) {
      const r = await get(server.url + '/tracker.js', { 'accept-encoding': ae });
      expect(decode(r).toString()).toBe(script('b'));
    }
    const after = await get(server.url + '/tracker.js', { 'accept-encoding': 'br', 'if-none-match': before.headers.etag! });
    expect(after.status).toBe(200);
    expect(after.headers.etag).not.toBe(before.headers.etag);
  });

  it('serves build-time siblings as they are, and ignores one older than its file', async () => {
    const file = path.join(root, 'frontend', 'dist', 'assets', 'app-abc123.js');
    const sibling = brotliCompressSync(Buffer.from(script('app')));
    await writeFile(file + '.br', sibling);
    const r = await get(server.url + '/assets/app-abc123.js', { 'accept-encoding': 'br' });
    expect(r.body.equals(sibling)).toBe(true);
    expect(r.headers['cache-control']).toContain('immutable');
    // The file is rebuilt, its old sibling left behind: the answer is the new file, compressed here.
    await writeFile(file, script('app2'));
    const later = new Date(Date.now() + 5_000);
    await utimes(file, later, later);
    const fresh = await get(server.url + '/assets/app-abc123.js', { 'accept-encoding': 'br' });
    expect(decode(fresh).toString()).toBe(script('app2'));
  });

  it('does not compress a PNG', async () => {
    const r = await get(server.url + '/assets/logo-abc123.png', { 'accept-encoding': 'br, gzip' });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('image/png');
    expect(r.headers['content-encoding']).toBeUndefined();
    expect(r.headers.vary).toBeUndefined();
    expect(r.headers.etag).toBeTruthy();
  });

  it('compresses the transformed demo page and tags what is sent, not the file on disk', async () => {
    const br = await get(server.url + '/demo/', { 'accept-encoding': 'br' });
    const plain = await get(server.url + '/demo/');
    expect(br.headers['content-encoding']).toBe('br');
    const text = decode(br).toString();
    expect(text).toContain(`data-project-key="${server.projectKey}"`);
    expect(text).not.toContain('__TANDEM_PROJECT_KEY__');
    expect(plain.body.toString()).toBe(text);
    expect((await get(server.url + '/demo/', { 'accept-encoding': 'br', 'if-none-match': br.headers.etag! })).status).toBe(304);
  });

  it('serves the dashboard shell at /watch compressed, with its no-store and framing headers', async () => {
    const r = await get(server.url + '/watch/some-token', { 'accept-encoding': 'br' });
    expect(r.status).toBe(200);
    expect(r.headers['content-encoding']).toBe('br');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.headers['x-frame-options']).toBe('DENY');
    expect(decode(r).toString()).toContain('<html');
  });

  it('still refuses paths out of the root', async () => {
    const r = await get(server.url + '/demo/..%2f..%2fpackage.json', { 'accept-encoding': 'br' });
    expect(decode(r).toString()).not.toContain('"workspaces"');
  });
});

describe('negotiation units', () => {
  it('chooses by weight, br before gzip before identity on ties', () => {
    expect(chooseCoding(undefined, ['br', 'gzip'])).toBe('identity');
    expect(chooseCoding('gzip, br', ['br', 'gzip'])).toBe('br');
    expect(chooseCoding('gzip, br', ['gzip'])).toBe('gzip');
    expect(chooseCoding('br', [])).toBe('identity');
    expect(chooseCoding('identity;q=0, *;q=0', ['br'])).toBe('identity'); // nothing acceptable: identity anyway
    expect(chooseCoding('br;q=abc, gzip', ['br', 'gzip'])).toBe('gzip');
    expect(chooseCoding('x-gzip', ['br', 'gzip'])).toBe('gzip');
  });
  it('matches If-None-Match weakly, in lists, and *', () => {
    expect(noneMatchHits('"a"', '"a"')).toBe(true);
    expect(noneMatchHits('W/"a"', '"a"')).toBe(true);
    expect(noneMatchHits('"b", "a"', '"a"')).toBe(true);
    expect(noneMatchHits('"b"', '"a"')).toBe(false);
    expect(noneMatchHits('*', '"a"')).toBe(true);
    expect(noneMatchHits(undefined, '"a"')).toBe(false);
  });
});
