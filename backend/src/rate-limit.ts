import type { RateLimitConfig } from './config.js';

/**
 * Token buckets keyed by a string (IP, project, tab). Buckets idle long enough to be full again are
 * forgotten, so memory stays bounded by the number of recently active keys.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private sweepAt = 0;

  constructor(private readonly config: RateLimitConfig, private readonly now: () => number = Date.now) {}

  /** Takes one token; false when the key is over its rate. */
  take(key: string): boolean {
    const now = this.now();
    this.sweep(now);
    const { perSecond, burst } = this.config;
    const b = this.buckets.get(key) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSecond);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  private sweep(now: number): void {
    if (now < this.sweepAt) return;
    this.sweepAt = now + 60_000;
    const refillMs = (this.config.burst / Math.max(this.config.perSecond, 1e-9)) * 1000;
    for (const [k, b] of this.buckets) if (now - b.at > refillMs) this.buckets.delete(k);
  }
}
