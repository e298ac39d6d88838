import { describe, expect, it } from 'vitest';
import { dayRange, nextSpan } from '../src/search.js';

const DAY = 86_400_000;

describe('search windows (nextSpan)', () => {
  it('jumps to everything older when nothing matched yet', () => {
    expect(nextSpan(DAY, 0, 51)).toBe(Infinity);
  });
  it('sizes the next window for the missing rows at twice the density seen', () => {
    expect(nextSpan(DAY, 17, 51)).toBe(4 * DAY); // 34 missing at 17/day, twice over
    expect(nextSpan(DAY, 50, 51)).toBe(DAY); // never less than a day
  });
  it('returns whole milliseconds (they are bound as Int64)', () => {
    expect(Number.isInteger(nextSpan(DAY, 7, 51))).toBe(true);
    expect(Number.isInteger(nextSpan(DAY + 1, 3, 51))).toBe(true);
  });
  it('stops widening step by step past five weeks', () => {
    expect(nextSpan(DAY, 1, 51)).toBe(Infinity);
  });
});

describe('dayRange', () => {
  it('lists every calendar day, bounded to the newest 400', () => {
    expect(dayRange('2026-02-27', '2026-03-02')).toEqual(['2026-02-27', '2026-02-28', '2026-03-01', '2026-03-02']);
    const long = dayRange('2020-01-01', '2026-01-01');
    expect(long).toHaveLength(400);
    expect(long.at(-1)).toBe('2026-01-01');
  });
});
