import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AssetSignResponse } from '@tandem/protocol';
import { ASSET_PROXY_DEFAULTS } from '../src/assets/proxy.js';
import { AssetLinkSigner } from '../src/assets/signing.js';
import { SECRET, login, postJson, startTestServer, type TestServer } from './helpers.js';
import { startAssetServer, type AssetServer } from './asset-server.js';

// One server for the file (chDB opens one data directory per process). Its allow-list names the
// asset server's host:port only, so every other loopback address stays refused.
let site: AssetServer;
let server: TestServer;
let admin: string;

beforeAll(async () => {
  site = await startAssetServer({ slowMs: 3_000, bigBytes: 200 * 1024 });
  server = await startTestServer({
    assetProxy: {
      ...ASSET_PROXY_DEFAULTS,
      allow: [`127.0.0.1:${site.port}`],
      limits: { maxBytes: 64 * 1024, timeoutMs: 800, maxRedirects: 3 },
    },
  });
  admin = await login(server);
}, 60_000); // a backend start on a loaded 2-core machine can take longer than the 10 s hook default
afterAll(async () => {
  await server?.dispose();
  await site?.close();
});

async function sign(urls: { url: string; kind: 'css' | 'asset' }[], cookie = admin) {
  return postJson(`${server.url}/api/v1/assets/sign`, { urls }, cookie ? { cookie } : {});
}

async function signed(url: string, kind: 'css' | 'asset' = 'asset'): Promise<string> {
  const r = await sign([{ url, kind }]);
  expect(r.status).toBe(200);
  return `${server.url}${(r.json as AssetSignResponse).urls[0]}`;
}

describe('POST /api/v1/assets/sign', () => {
  it('signs http(s) URLs for agents only and leaves others alone', async () => {
    expect((await sign([{ url: 'https://a.test/x.css', kind: 'css' }], '')).status).toBe(401);
    const r = await sign([
      { url: 'https://a.test/x.css', kind: 'css' },
      { url: 'data:image/png;base64,AA==', kind: 'asset' },
      { url: `https://a.test/${'x'.repeat(5000)}`, kind: 'asset' },
    ]);
    expect(r.json.enabled).toBe(true);
    expect(r.json.urls[0]).toMatch(/^\/api\/v1\/assets\/proxy\?u=https%3A%2F%2Fa\.test%2Fx\.css&k=css&p=\w+&e=\d+&s=[\w-]+$/);
    expect(r.json.urls.slice(1)).toEqual([null, null]);
    const bad = await sign([{ url: 'https://a.test/', kind: 'script' as 'css' }]);
    expect([bad.status, bad.json.error.code]).toEqual([400, 'bad_request']);
  });
});

describe('GET /api/v1/assets/proxy', () => {
  it('serves a cross-origin stylesheet as text/css with url(), @import and :hover rewritten, and safe headers', async () => {
    const res = await fetch(await signed(`${site.origin}/style.css`, 'css'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toMatch(/^sandbox; default-src 'none'/);
    const css = await res.text();
    expect(css).toContain('a.link:hover, .plain,\na.link.\\:hover');
    const fontLink = css.match(/url\("(\/api\/v1\/assets\/proxy\?[^"]+)"\) format\("woff2"\)/)?.[1];
    expect(new URL(fontLink!, 'http://h').searchParams.get('u')).toBe(`${site.origin}/fonts/probe.woff2`);
    expect(css).toMatch(/@import url\("\/api\/v1\/assets\/proxy\?u=http%3A%2F%2F127\.0\.0\.1%3A\d+%2Fmore\.css&k=css[^"]+"\) screen/);
    // The links inside the sheet work: the font comes through with its type.
    const font = await fetch(`${server.url}${fontLink}`);
    expect([font.status, font.headers.get('content-type'), await font.text()]).toEqual([200, 'font/woff2', 'wOF2-not-really-a-font']);
  });

  it('caches by content hash on disk: a second request does not reach the origin', async () => {
    const link = await signed(`${site.origin}/fonts/probe.woff2`);
    await (await fetch(link)).arrayBuffer();
    const before = site.hits.get('/fonts/probe.woff2');
    expect((await fetch(link)).status).toBe(200);
    expect(site.hits.get('/fonts/probe.woff2')).toBe(before);
    const blobs = await readdir(path.join(server.dataDir, 'assets', 'blobs'));
    const { createHash } = await import('node:crypto');
    expect(blobs).toContain(createHash('sha256').update('wOF2-not-really-a-font').digest('hex'));
    expect(blobs.every((b) => /^[0-9a-f]{64}$/.test(b))).toBe(true);
  });

  it('never serves HTML as HTML', async () => {
    const res = await fetch(await signed(`${site.origin}/page.html`));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('content-disposition')).toBe('attachment');
    expect(res.headers.get('content-security-policy')).toContain('sandbox');
  });

  it('refuses unsigned, tampered and expired links (401)', async () => {
    const good = new URL(await signed(`${site.origin}/style.css`, 'css'));
    const unsigned = new URL(good);
    unsigned.searchParams.delete('s');
    const tampered = new URL(good);
    tampered.searchParams.set('u', `${site.origin}/page.html`);
    const expired = new URL(`${server.url}${new AssetLinkSigner(SECRET).link(`${site.origin}/style.css`, server.projectId, 'css', Date.now() - 3 * 3600_000)}`);
    const bare = new URL(`${server.url}/api/v1/assets/proxy?u=${encodeURIComponent(`${site.origin}/style.css`)}`);
    for (const [name, url] of [['unsigned', unsigned], ['tampered', tampered], ['expired', expired], ['bare', bare]] as const) {
      const res = await fetch(url);
      const body = await res.json();
      expect({ name, status: res.status, code: body.error.code }).toEqual({ name, status: 401, code: 'unauthorized' });
    }
    expect((await fetch(expired)).status).toBe(401);
  });

  it('refuses loopback and private addresses outside the allow-list, also behind a redirect (403)', async () => {
    for (const url of [
      `http://localhost:${site.port}/style.css`, // loopback by name
      `${server.url}/api/v1/health`, // the server itself: another port
      'http://169.254.169.254/latest/meta-data/',
      'http://[::1]:9/x',
      'http://192.168.0.1/',
      `${site.origin}/to-metadata`,
      `${site.origin}/to-localhost`,
    ]) {
      const res = await fetch(await signed(url));
      const body = await res.json();
      expect({ url, status: res.status, code: body.error.code }).toEqual({ url, status: 403, code: 'asset_forbidden' });
    }
  });

  it('refuses an oversize asset (502) and a slow one (504) with clear messages', async () => {
    const big = await fetch(await signed(`${site.origin}/big-chunked`));
    expect(big.status).toBe(502);
    expect((await big.json()).error).toMatchObject({ code: 'asset_failed', message: expect.stringMatching(/65536-byte limit/) });
    const t0 = Date.now();
    const slow = await fetch(await signed(`${site.origin}/slow`, 'css'));
    expect(slow.status).toBe(504);
    expect((await slow.json()).error).toMatchObject({ code: 'asset_timeout', message: expect.stringMatching(/within 800 ms/) });
    expect(Date.now() - t0).toBeLessThan(2_500);
  });

  it('answers GET only', async () => {
    const res = await fetch(await signed(`${site.origin}/style.css`, 'css'), { method: 'POST' });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe('bad_request');
  });
});
