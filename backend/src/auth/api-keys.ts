import { createHash, randomBytes } from 'node:crypto';
import { TandemError } from '@tandem/protocol';
import type { ApiKeyRecord, Store } from '@tandem/storage';
import type { AppContext } from '../context.js';
import type { RequestInfo } from '../http/request.js';

/**
 * API keys for the REST API (`Authorization: Bearer tk_...`), e.g. a helpdesk minting watch links.
 * The secret is 32 random bytes: SHA-256 of it is a safe thing to store (nobody can guess a 256-bit
 * secret from its hash, so a slow password KDF would only slow every request down).
 */
export const API_KEY_PREFIX = 'tk_';
/** Characters of the secret kept in clear to recognise a key in lists: `tk_` + 8. */
const SHOWN_CHARS = API_KEY_PREFIX.length + 8;

export function newApiKeySecret(): { secret: string; prefix: string; hash: string } {
  const secret = API_KEY_PREFIX + randomBytes(32).toString('base64url');
  return { secret, prefix: secret.slice(0, SHOWN_CHARS), hash: hashApiKey(secret) };
}

export function hashApiKey(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/**
 * Keys that authenticated are remembered for a short while (a helpdesk may mint a link per ticket
 * view), and a use is recorded at most once a minute per key. Revoking through the API forgets the
 * key at once in this process.
 */
const CACHE_MS = 30_000;
const TOUCH_EVERY_MS = 60_000;
const CACHE_MAX = 10_000;

interface Cached {
  key: ApiKeyRecord | null;
  until: number;
}

class ApiKeyCache {
  readonly byHash = new Map<string, Cached>();
  /** key id → when we last recorded a use (or found one recorded). */
  readonly touched = new Map<string, number>();
}

const caches = new WeakMap<Store, ApiKeyCache>();
function cacheOf(store: Store): ApiKeyCache {
  let c = caches.get(store);
  if (!c) caches.set(store, (c = new ApiKeyCache()));
  return c;
}

/** Drops a key from this process's cache (after a revoke). */
export function forgetApiKey(store: Store, keyId: string): void {
  const c = cacheOf(store);
  for (const [hash, hit] of c.byHash) if (hit.key?.id === keyId) c.byHash.delete(hash);
  c.touched.delete(keyId);
}

/** Authenticates `Authorization: Bearer tk_...`; `unauthorized` when missing, unknown or revoked. */
export async function requireApiKey(ctx: AppContext, req: RequestInfo): Promise<{ projectId: string; keyId: string }> {
  const auth = req.headers.authorization ?? '';
  const secret = auth.startsWith('Bearer ') ? auth.slice(7).trim() : '';
  if (!secret.startsWith(API_KEY_PREFIX)) throw new TandemError('unauthorized', 'Missing API key (Authorization: Bearer tk_...)');
  if (secret.length > 200) throw new TandemError('unauthorized', 'Unknown or revoked API key');
  const hash = hashApiKey(secret);
  const c = cacheOf(ctx.store);
  const now = Date.now();
  let hit = c.byHash.get(hash);
  if (!hit || hit.until <= now) {
    const key = await ctx.store.findApiKeyByHash(hash);
    // An unknown hash is cached too (briefly) so a client retrying a wrong key costs no query each time.
    if (c.byHash.size >= CACHE_MAX) c.byHash.clear();
    hit = { key, until: now + CACHE_MS };
    c.byHash.set(hash, hit);
    if (key?.lastUsedAt && !c.touched.has(key.id)) c.touched.set(key.id, key.lastUsedAt);
  }
  const key = hit.key;
  if (!key) throw new TandemError('unauthorized', 'Unknown or revoked API key');
  if (now - (c.touched.get(key.id) ?? 0) >= TOUCH_EVERY_MS) {
    if (c.touched.size >= CACHE_MAX) c.touched.clear();
    c.touched.set(key.id, now);
    // Not awaited: a failed bookkeeping write must not fail the request it describes.
    ctx.store.touchApiKey(key.projectId, key.id, now).catch((err) => ctx.log.warn({ err, keyId: key.id }, 'could not record API key use'));
  }
  return { projectId: key.projectId, keyId: key.id };
}
