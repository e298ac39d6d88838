import { describe, expect, it } from 'vitest';
import { dayRange } from '../src/search.js';
import { DAY, FIRST_WINDOW, MAX_WINDOW, nextSpan, rememberedFirstSpan, spanNeeded } from '../src/search-windows.js';

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

describe('the first window of a query asked again (rememberedFirstSpan)', () => {
  const facets = (rows: number, hasMaxDuration = false) => ({ rows, switchRows: 500_000, hasMaxDuration });
  it('keeps the first window when nothing is remembered', () => {
    expect(rememberedFirstSpan(FIRST_WINDOW, undefined, undefined)).toEqual({ span: FIRST_WINDOW, dropFacets: false });
    expect(rememberedFirstSpan(MAX_WINDOW, undefined, facets(1000))).toEqual({ span: MAX_WINDOW, dropFacets: false });
  });
  it('turns a day first into the span needed: longer for a rare needle, at least a minute for a dense one, everything past 35 days', () => {
    expect(rememberedFirstSpan(FIRST_WINDOW, 9 * DAY, undefined).span).toBe(9 * DAY);
    expect(rememberedFirstSpan(FIRST_WINDOW, 5_000, undefined).span).toBe(60_000);
    expect(rememberedFirstSpan(FIRST_WINDOW, 40 * DAY, undefined).span).toBe(Infinity);
    expect(rememberedFirstSpan(Infinity, 2 * DAY, undefined).span).toBe(Infinity); // few keys: one read of all stays
  });
  it('shrinks a facet query\'s one 35-day window, never below a day', () => {
    expect(rememberedFirstSpan(MAX_WINDOW, 20 * DAY, facets(1000)).span).toBe(20 * DAY);
    expect(rememberedFirstSpan(MAX_WINDOW, 3_000, facets(1000)).span).toBe(FIRST_WINDOW);
  });
  it('reads a common facet\'s remembered span of facet rows, or leaves the facet rows when that span would hold too many', () => {
    expect(rememberedFirstSpan(FIRST_WINDOW, 10 * DAY, facets(1_000_000))).toEqual({ span: 10 * DAY, dropFacets: false });
    expect(rememberedFirstSpan(FIRST_WINDOW, 30 * DAY, facets(1_000_000))).toEqual({ span: 30 * DAY, dropFacets: true });
    expect(rememberedFirstSpan(FIRST_WINDOW, 30 * DAY, facets(1_000_000, true))).toEqual({ span: FIRST_WINDOW, dropFacets: false });
    expect(rememberedFirstSpan(FIRST_WINDOW, 3_000, facets(1_000_000))).toEqual({ span: FIRST_WINDOW, dropFacets: false });
  });
  it('remembers a full page back to its last row a quarter over, a short page as everything', () => {
    expect(spanNeeded(10 * DAY, 2 * DAY)).toBe(10 * DAY);
    expect(spanNeeded(10 * DAY, undefined)).toBe(Infinity);
  });
});
