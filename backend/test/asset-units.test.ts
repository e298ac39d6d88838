import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressPolicy, isForbiddenAddress, unmapIpv4 } from '../src/assets/address-policy.js';
import { AssetCache } from '../src/assets/cache.js';
import { rewriteStylesheet, rewriteUrls } from '../src/assets/css.js';
import { fetchAsset } from '../src/assets/fetch-asset.js';
import { AssetLinkSigner } from '../src/assets/signing.js';
import { startAssetServer, type AssetServer } from './asset-server.js';

const LIMITS = { maxBytes: 64 * 1024, timeoutMs: 1_000, maxRedirects: 3 };

describe('address policy', () => {
  it('refuses loopback, private, link-local, unique-local, multicast and reserved addresses, IPv4 and IPv6', () => {
    const forbidden = [
      '127.0.0.1', '127.1.2.3', '0.0.0.0', '10.0.0.1', '172.16.5.4', '172.31.255.255', '192.168.1.1', '169.254.169.254',
      '100.64.0.1', '224.0.0.251', '239.255.255.250', '255.255.255.255', '198.18.0.1',
      '::1', '::', 'fe80::1', 'fe80::1%eth0', 'fd00::1', 'fc12:3456::1', 'ff02::1', 'fec0::1',
      // IPv4 inside IPv6, in every spelling
      '::ffff:127.0.0.1', '::ffff:7f00:1', '0:0:0:0:0:ffff:7f00:0001', '::ffff:10.0.0.1', '::ffff:a9fe:a9fe', '[::ffff:127.0.0.1]',
      '::127.0.0.1', '64:ff9b::7f00:1', '2002:7f00:1::1',
      'not-an-ip', '',
    ];
    for (const ip of forbidden) expect({ ip, forbidden: isForbiddenAddress(ip) }).toEqual({ ip, forbidden: true });
    for (const ip of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700:4700::1111', '2a00:1450:4001::200e', '::ffff:8.8.8.8']) {
      expect({ ip, forbidden: isForbiddenAddress(ip) }).toEqual({ ip, forbidden: false });
    }
    expect(unmapIpv4('::ffff:c0a8:101')).toBe('192.168.1.1');
    expect(unmapIpv4('2001:db8::1')).toBe('2001:db8::1');
  });

  it('lets the allow-list open CIDRs, addresses and host[:port] — nothing more', () => {
    const policy = new AddressPolicy(['10.1.0.0/16', '::1', 'assets.intranet:8080', 'cdn.local']);
    const u = (s: string) => new URL(s);
    expect(policy.allows('10.1.2.3', u('http://x.test/'))).toBe(true);
    expect(policy.allows('10.2.0.1', u('http://x.test/'))).toBe(false);
    expect(policy.allows('::1', u('http://x.test/'))).toBe(true);
    expect(policy.allows('127.0.0.1', u('http://x.test/'))).toBe(false);
    expect(policy.allows('192.168.0.9', u('http://assets.intranet:8080/a.css'))).toBe(true);
    expect(policy.allows('192.168.0.9', u('http://assets.intranet:9090/a.css'))).toBe(false);
    expect(policy.allows('192.168.0.9', u('https://cdn.local/a.css'))).toBe(true);
    expect(policy.allows('8.8.8.8', u('http://x.test/'))).toBe(true);
    expect(() => new AddressPolicy(['10.0.0.0/40'])).toThrow(/prefix/);
    expect(() => new AddressPolicy(['http://a/b'])).toThrow(/host/);
  });
});

describe('stylesheet rewriting', () => {
  const link = (url: string, kind: string) => `/p?k=${kind}&u=${encodeURIComponent(url)}`;

  it('points url() and @import at the proxy, resolved against the sheet, leaving data: and fragments', () => {
    const css = `@import "a.css" print;
@import url('https://other.test/b.css');
@font-face { font-family: F; src: url(../fonts/f.woff2) format("woff2"), url("data:font/woff2;base64,AA=="); }
.x { background: url( 'img/x.png' ) , url(#paint); mask: URL(//cdn.test/m.svg); }`;
    const out = rewriteStylesheet(css, 'https://shop.test/css/site.css', link);
    expect(out).toContain(`@import url("${link('https://shop.test/css/a.css', 'css')}") print`);
    expect(out).toContain(`@import url("${link('https://other.test/b.css', 'css')}")`);
    expect(out).toContain(`url("${link('https://shop.test/fonts/f.woff2', 'asset')}") format("woff2")`);
    expect(out).toContain('url("data:font/woff2;base64,AA==")');
    expect(out).toContain(`url("${link('https://shop.test/css/img/x.png', 'asset')}")`);
    expect(out).toContain('url(#paint)');
    expect(out).toContain(`url("${link('https://cdn.test/m.svg', 'asset')}")`);
  });

  it('doubles :hover rules with the .\\:hover class rrweb puts on hovered elements', () => {
    const out = rewriteStylesheet('a:hover > b, .c { color: red } @media (min-width: 1px) { .m:hover:focus { x: y } } .n { z: 1 }', 'https://s.test/', link);
    expect(out).toContain('a:hover > b, .c,\na.\\:hover > b { color: red }');
    expect(out).toContain('.m:hover:focus,\n.m.\\:hover:focus { x: y }');
    expect(out).toContain('.n { z: 1 }');
  });

  it('still rewrites URLs in a sheet postcss cannot parse', () => {
    const out = rewriteStylesheet('.a { background: url(x.png) ', 'https://s.test/', link);
    expect(out).toContain(link('https://s.test/x.png', 'asset'));
    expect(rewriteUrls('url(javascript:alert(1)) url("")', 'https://s.test/', link)).toBe('url(javascript:alert(1)) url("")');
  });
});

describe('proxy link signing', () => {
  const signer = new AssetLinkSigner('s3cret-for-tests');
  const q = (link: string) => new URL(link, 'http://h').searchParams;

  it('verifies its own links and refuses missing, tampered, foreign and expired ones', () => {
    const now = 1_800_000_000_000;
    const link = signer.link('https://shop.test/a.css', 'p1', 'css', now);
    expect(signer.verify(q(link), now)).toMatchObject({ url: 'https://shop.test/a.css', projectId: 'p1', kind: 'css' });
    // Same link within the hour: browsers can cache it.
    expect(signer.link('https://shop.test/a.css', 'p1', 'css', now + 60_000)).toBe(link);
    for (const [name, value] of [['u', 'https://evil.test/'], ['p', 'p2'], ['k', 'asset'], ['e', '9999999999']]) {
      const t = q(link);
      t.set(name, value);
      expect(() => signer.verify(t, now)).toThrow(/signature is invalid/);
    }
    const unsigned = q(link);
    unsigned.delete('s');
    expect(() => signer.verify(unsigned, now)).toThrow(/not signed/);
    expect(() => new AssetLinkSigner('other-secret').verify(q(link), now)).toThrow(/invalid/);
    expect(() => signer.verify(q(link), now + 3 * 3600_000)).toThrow(/expired/);
  });
});

describe('fetching assets', () => {
  let site: AssetServer;
  beforeAll(async () => {
    site = await startAssetServer({ slowMs: 3_000, bigBytes: 200 * 1024 });
  });
  afterAll(() => site.close());

  it('refuses loopback and private addresses without the allow-list, by literal, by name and after a redirect', async () => {
    const none = new AddressPolicy([]);
    await expect(fetchAsset(`${site.origin}/style.css`, none, LIMITS)).rejects.toMatchObject({ code: 'asset_forbidden' });
    await expect(fetchAsset(`http://localhost:${site.port}/style.css`, none, LIMITS)).rejects.toMatchObject({ code: 'asset_forbidden' });
    await expect(fetchAsset(`http://[::ffff:127.0.0.1]:${site.port}/style.css`, none, LIMITS)).rejects.toMatchObject({ code: 'asset_forbidden' });
    await expect(fetchAsset('http://10.255.255.1/x.css', none, LIMITS)).rejects.toMatchObject({ code: 'asset_forbidden' });
    await expect(fetchAsset('file:///etc/passwd', none, LIMITS)).rejects.toMatchObject({ code: 'asset_forbidden' });
    expect(site.hits.get('/style.css') ?? 0).toBe(0);

    const onlySite = new AddressPolicy([`127.0.0.1:${site.port}`]);
    await expect(fetchAsset(`${site.origin}/to-metadata`, onlySite, LIMITS)).rejects.toMatchObject({ code: 'asset_forbidden' });
    await expect(fetchAsset(`${site.origin}/to-localhost`, onlySite, LIMITS)).rejects.toMatchObject({ code: 'asset_forbidden', message: expect.stringMatching(/localhost resolves to/) });
  });

  it('fetches an allowed asset without cookies, follows safe redirects, and enforces size, time and redirect limits', async () => {
    const policy = new AddressPolicy([`127.0.0.1:${site.port}`]);
    const got = await fetchAsset(`${site.origin}/to-style`, policy, LIMITS);
    expect([got.finalUrl, got.contentType, got.body.toString()]).toEqual([`${site.origin}/style.css`, 'text/css', (await import('./asset-server.js')).STYLE_CSS]);
    expect(site.lastHeaders.get('/style.css')?.cookie).toBeUndefined();
    await expect(fetchAsset(`${site.origin}/big-declared`, policy, LIMITS)).rejects.toMatchObject({ code: 'asset_failed', message: expect.stringMatching(/65536-byte limit/) });
    await expect(fetchAsset(`${site.origin}/big-chunked`, policy, LIMITS)).rejects.toMatchObject({ code: 'asset_failed', message: expect.stringMatching(/65536-byte limit/) });
    const t0 = Date.now();
    await expect(fetchAsset(`${site.origin}/slow`, policy, LIMITS)).rejects.toMatchObject({ code: 'asset_timeout' });
    expect(Date.now() - t0).toBeLessThan(2_500);
    await expect(fetchAsset(`${site.origin}/loop`, policy, LIMITS)).rejects.toMatchObject({ code: 'asset_failed', message: expect.stringMatching(/redirects/) });
    await expect(fetchAsset(`${site.origin}/missing`, policy, LIMITS)).rejects.toMatchObject({ code: 'asset_failed', message: expect.stringMatching(/404/) });
  });
});

describe('asset cache', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tandem-asset-cache-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('stores by content hash, evicts the least recently used past its size, and survives a reload', async () => {
    let clock = 1_000;
    const cache = new AssetCache({ dir, maxBytes: 250, retentionMs: 10_000, now: () => clock });
    const body = (c: string) => Buffer.alloc(100, c);
    await cache.put('https://a.test/1', 'https://a.test/1', 'image/png', body('a'));
    clock++;
    await cache.put('https://a.test/same', 'https://a.test/same', 'image/png', body('a')); // same bytes: one blob
    expect([cache.size, cache.totalBytes]).toEqual([2, 100]);
    clock++;
    await cache.put('https://a.test/2', 'https://a.test/2', 'image/png', body('b'));
    clock++;
    await cache.get('https://a.test/1'); // now /same is the least recently used, but shares its blob with /1
    clock++;
    await cache.put('https://a.test/3', 'https://a.test/3', 'image/png', body('c')); // 300 bytes > 250: evict
    expect(await cache.get('https://a.test/same')).toBeNull();
    expect(await cache.get('https://a.test/2')).toBeNull();
    expect((await cache.get('https://a.test/1'))?.body.equals(body('a'))).toBe(true);
    expect(cache.totalBytes).toBe(200);
    expect((await readdir(path.join(dir, 'blobs'))).length).toBe(2);

    await cache.persistUse();
    const reopened = new AssetCache({ dir, maxBytes: 250, retentionMs: 10_000, now: () => clock });
    expect((await reopened.get('https://a.test/3'))?.entry.contentType).toBe('image/png');
    expect(reopened.totalBytes).toBe(200);
  });

  it('drops entries unused for the retention', async () => {
    let clock = Date.now();
    const cache = new AssetCache({ dir: path.join(dir, 'r'), maxBytes: 1e6, retentionMs: 1_000, now: () => clock });
    await cache.put('https://a.test/old', 'https://a.test/old', 'font/woff2', Buffer.from('x'));
    clock += 500;
    await cache.put('https://a.test/new', 'https://a.test/new', 'font/woff2', Buffer.from('y'));
    clock += 700;
    expect(await cache.sweep()).toBe(1);
    expect(await cache.get('https://a.test/old')).toBeNull();
    expect(await cache.get('https://a.test/new')).not.toBeNull();
  });
});
