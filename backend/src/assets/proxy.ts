import path from 'node:path';
import type { Logger } from 'pino';
import { TandemError } from '@tandem/protocol';
import { AddressPolicy } from './address-policy.js';
import { AssetCache, type CacheEntry } from './cache.js';
import { fetchAsset, type FetchLimits } from './fetch-asset.js';

export interface AssetProxyConfig {
  /** Off: the sign endpoint answers `enabled: false` and the player leaves recorded URLs alone. */
  enabled: boolean;
  /** TANDEM_ASSET_PROXY_ALLOW entries (CIDRs, addresses, host[:port]) that may be reached though not public. */
  allow: string[];
  limits: FetchLimits;
  /** Disk the cached assets may use. */
  cacheMaxBytes: number;
  /** A cached asset older than this is fetched again when next asked for (a site's CSS changes on deploys). */
  freshMs: number;
}

/**
 * Defaults, each with its reason:
 * - 10 MiB per asset: web fonts are 20–200 KB, big hero images a few MB; more is not a page asset.
 * - 10 s for the whole fetch: a replay waits on its stylesheets; a slower origin is better skipped.
 * - 5 redirects: CDNs chain one or two (http→https, bare→www); more is a loop or an attack.
 * - 1 GiB of cache: thousands of sites' stylesheets, fonts and images, bounded on a small server.
 * - 24 h freshness: a redeployed stylesheet shows in new replays the next day at the latest, while
 *   a day's replays of one page share one fetch.
 */
export const ASSET_PROXY_DEFAULTS: AssetProxyConfig = {
  enabled: true,
  allow: [],
  limits: { maxBytes: 10 * 1024 * 1024, timeoutMs: 10_000, maxRedirects: 5 },
  cacheMaxBytes: 1024 * 1024 * 1024,
  freshMs: 24 * 60 * 60 * 1000,
};

/** Sweeping the cache for assets past the retention: hourly is plenty for a retention counted in days. */
const SWEEP_EVERY_MS = 60 * 60 * 1000;

export interface ProxiedAsset {
  entry: CacheEntry;
  body: Buffer;
}

/** Fetch-through cache: one fetch per URL at a time, served from disk afterwards. */
export class AssetProxy {
  readonly policy: AddressPolicy;
  readonly cache: AssetCache;
  private readonly inFlight = new Map<string, Promise<ProxiedAsset>>();
  private readonly sweeper: ReturnType<typeof setInterval>;

  constructor(readonly config: AssetProxyConfig, dataDir: string, retentionDays: number, private readonly log: Logger) {
    this.policy = new AddressPolicy(config.allow);
    this.cache = new AssetCache({ dir: path.join(dataDir, 'assets'), maxBytes: config.cacheMaxBytes, retentionMs: retentionDays * 86_400_000 });
    this.sweeper = setInterval(() => void this.maintain(), SWEEP_EVERY_MS);
    this.sweeper.unref();
  }

  async get(url: string): Promise<ProxiedAsset> {
    const cached = await this.cache.get(url);
    if (cached && Date.now() - cached.entry.storedAt < this.config.freshMs) return cached;
    let pending = this.inFlight.get(url);
    if (!pending) {
      pending = this.fetchAndStore(url, cached).finally(() => this.inFlight.delete(url));
      this.inFlight.set(url, pending);
    }
    return pending;
  }

  private async fetchAndStore(url: string, stale: ProxiedAsset | null): Promise<ProxiedAsset> {
    try {
      const fetched = await fetchAsset(url, this.policy, this.config.limits);
      const entry = await this.cache.put(url, fetched.finalUrl, fetched.contentType, fetched.body);
      return { entry, body: fetched.body };
    } catch (err) {
      // An origin that is down now still has yesterday's copy: better than a broken replay.
      if (stale && err instanceof TandemError && err.code !== 'asset_forbidden') return stale;
      throw err;
    }
  }

  private async maintain(): Promise<void> {
    try {
      const dropped = await this.cache.sweep();
      await this.cache.persistUse();
      if (dropped) this.log.info({ dropped }, 'asset cache: dropped assets past the retention');
    } catch (err) {
      this.log.warn({ err }, 'asset cache maintenance failed');
    }
  }

  close(): Promise<void> {
    clearInterval(this.sweeper);
    return this.cache.persistUse();
  }
}
