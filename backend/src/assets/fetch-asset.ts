import http from 'node:http';
import https from 'node:https';
import dns from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { TandemError } from '@tandem/protocol';
import type { AddressPolicy } from './address-policy.js';

export interface FetchLimits {
  /** Largest body accepted, bytes. */
  maxBytes: number;
  /** The whole fetch, every redirect included, ms. */
  timeoutMs: number;
  /** Redirects followed; each hop is checked like the first URL. */
  maxRedirects: number;
}

export interface FetchedAsset {
  /** The URL that answered (after redirects): relative `url()`s in a stylesheet resolve against it. */
  finalUrl: string;
  /** The origin's Content-Type, as sent (the route decides what to serve it as). */
  contentType: string;
  body: Buffer;
}

/** Thrown when `address` is not one the policy allows; carried out of the lookup callback. */
class ForbiddenAddress extends Error {}

/**
 * The DNS step of every connection: resolves, drops the addresses the policy refuses, and hands the
 * socket only the checked ones, so the address connected to is the address checked (no second lookup
 * an attacker's DNS could answer differently: DNS rebinding).
 */
function checkedLookup(policy: AddressPolicy, url: URL): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { all: true, verbatim: true, family: options.family }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const ok = addresses.filter((a) => policy.allows(a.address, url));
      if (!ok.length) {
        const seen = addresses.map((a) => a.address).join(', ');
        return callback(new ForbiddenAddress(`${hostname} resolves to ${seen}, which the asset proxy may not reach`), '', 0);
      }
      if (options.all) (callback as unknown as (e: null, all: dns.LookupAddress[]) => void)(null, ok);
      else callback(null, ok[0].address, ok[0].family);
    });
  };
}

function checkUrl(raw: string, policy: AddressPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TandemError('bad_request', 'Not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TandemError('asset_forbidden', `Only http and https assets are proxied, not ${url.protocol}`);
  if (url.username || url.password) throw new TandemError('asset_forbidden', 'URLs with credentials are not proxied');
  // An address literal never goes through the lookup: check it here.
  const literal = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(literal) && !policy.allows(literal, url)) {
    throw new TandemError('asset_forbidden', `${literal} is a loopback, private or reserved address; the asset proxy may not reach it`);
  }
  return url;
}

interface Hop {
  status: number;
  location?: string;
  contentType: string;
  body?: Buffer;
}

/** One GET, no redirect following; the body is read only for 2xx answers. */
function getOnce(url: URL, policy: AddressPolicy, limits: FetchLimits, signal: AbortSignal): Promise<Hop> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(url, {
      method: 'GET',
      // No cookies, no Authorization, no Referer: the proxy fetches as an anonymous visitor would.
      headers: { accept: '*/*', 'accept-encoding': 'identity', 'user-agent': 'TandemAssetProxy/1 (+session replay)' },
      lookup: checkedLookup(policy, url),
      agent: false, // no pooled sockets: each connection goes through the checked lookup
      signal,
    });
    req.on('error', (err) => {
      if (err instanceof ForbiddenAddress) reject(new TandemError('asset_forbidden', err.message));
      else if (signal.aborted) reject(new TandemError('asset_timeout', `No complete answer from ${url.host} within ${limits.timeoutMs} ms`));
      else reject(new TandemError('asset_failed', `Fetching from ${url.host} failed: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
    });
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const contentType = String(res.headers['content-type'] ?? '');
      if (status < 200 || status >= 300) {
        res.resume();
        resolve({ status, location: res.headers.location, contentType });
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (declared > limits.maxBytes) {
        req.destroy();
        reject(new TandemError('asset_failed', `Asset is ${declared} bytes, over the proxy's ${limits.maxBytes}-byte limit`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limits.maxBytes) {
          req.destroy();
          reject(new TandemError('asset_failed', `Asset is over the proxy's ${limits.maxBytes}-byte limit`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => resolve({ status, contentType, body: Buffer.concat(chunks, size) }));
      res.on('error', () => {
        /* reported through req's error */
      });
    });
    req.end();
  });
}

/**
 * Fetches one asset for the proxy: GET only, http(s) only, every hop's address checked (redirects
 * included), at most `maxBytes`, everything within `timeoutMs`. Errors are TandemErrors with
 * `asset_forbidden`, `asset_failed` or `asset_timeout`.
 */
export async function fetchAsset(raw: string, policy: AddressPolicy, limits: FetchLimits): Promise<FetchedAsset> {
  const signal = AbortSignal.timeout(limits.timeoutMs);
  let url = checkUrl(raw, policy);
  for (let redirects = 0; ; redirects++) {
    const hop = await getOnce(url, policy, limits, signal);
    if (hop.body) return { finalUrl: url.href, contentType: hop.contentType, body: hop.body };
    if (hop.status >= 300 && hop.status < 400 && hop.location) {
      if (redirects >= limits.maxRedirects) throw new TandemError('asset_failed', `More than ${limits.maxRedirects} redirects`);
      url = checkUrl(new URL(hop.location, url).href, policy);
      continue;
    }
    throw new TandemError('asset_failed', `The origin answered ${hop.status} for ${url.host}${url.pathname}`);
  }
}
