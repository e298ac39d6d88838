import { describe, expect, it } from 'vitest';
import { BACKOFF_BASE_MS, BACKOFF_MAX_MS, RETRY_AFTER_MAX_MS, backoffDelay, parseRetryAfter } from '../src/backoff.js';

describe('backoffDelay', () => {
  it('doubles from 1 s and stays within [d/2, d]', () => {
    for (let attempt = 0; attempt < 6; attempt++) {
      const d = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt);
      expect(backoffDelay(attempt, () => 0)).toBe(d / 2);
      expect(backoffDelay(attempt, () => 1)).toBe(d);
      const mid = backoffDelay(attempt, () => 0.5);
      expect(mid).toBeGreaterThan(d / 2);
      expect(mid).toBeLessThan(d);
    }
    expect(backoffDelay(0, () => 1)).toBe(1_000);
    expect(backoffDelay(1, () => 1)).toBe(2_000);
  });

  it('never exceeds 30 s however many attempts', () => {
    for (const attempt of [5, 10, 50, 1_000, Number.MAX_SAFE_INTEGER]) {
      for (const r of [0, 0.3, 0.99, 1]) {
        const v = backoffDelay(attempt, () => r);
        expect(v).toBeLessThanOrEqual(BACKOFF_MAX_MS);
        expect(v).toBeGreaterThanOrEqual(BACKOFF_MAX_MS / 2);
      }
    }
  });

  it('tolerates a random source outside [0, 1] and negative attempts', () => {
    expect(backoffDelay(-3, () => 5)).toBe(1_000);
    expect(backoffDelay(0, () => -1)).toBe(500);
  });

  it('has jitter: different random values give different delays', () => {
    expect(backoffDelay(3, () => 0.1)).not.toBe(backoffDelay(3, () => 0.9));
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and clamps to [1 s, 5 min]', () => {
    expect(parseRetryAfter('5')).toBe(5_000);
    expect(parseRetryAfter('0')).toBe(BACKOFF_BASE_MS);
    expect(parseRetryAfter('100000')).toBe(RETRY_AFTER_MAX_MS);
  });

  it('reads an HTTP date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:10 GMT', now)).toBe(10_000);
  });

  it('ignores absent or invalid values', () => {
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});
