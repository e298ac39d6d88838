import { describe, expect, it } from 'vitest';
import {
  DEFAULT_FILTERS,
  filtersFromParams,
  filtersToParams,
  filtersToQuery,
  hasActiveFilters,
  toQueryString,
} from '../src/lib/filters';

describe('filters in the hash query', () => {
  it('round-trips every field', () => {
    const filters = {
      ...DEFAULT_FILTERS, range: 'custom', from: '2026-11-01', to: '2026-11-30', q: 'firefox', userId: 'u-42', url: '/checkout',
      browser: 'Chrome', os: 'macOS', device: 'mobile', console: 'card declined', event: 'purchase', page: 'Cart', hasErrors: true,
      minDurationSec: 30, maxDurationSec: 600,
    } as const;
    const params = filtersToParams(filters);
    expect(params.toString()).toBe(
      'range=custom&from=2026-11-01&to=2026-11-30&q=firefox&user=u-42&url=%2Fcheckout&browser=Chrome&os=macOS&device=mobile'
      + '&console=card+declined&event=purchase&page=Cart&errors=1&minDuration=30&maxDuration=600',
    );
    expect(filtersFromParams(params)).toEqual(filters);
  });
  it('writes nothing for the defaults', () => {
    expect(filtersToParams(DEFAULT_FILTERS).toString()).toBe('');
    expect(hasActiveFilters(DEFAULT_FILTERS)).toBe(false);
  });
  it('ignores malformed values, and dates unless the range is custom', () => {
    expect(filtersFromParams(new URLSearchParams('range=1y&minDuration=abc&errors=yes&from=2026-01-01'))).toEqual(DEFAULT_FILTERS);
    expect(filtersFromParams(new URLSearchParams('range=custom&from=yesterday&to=2026-02-30x'))).toEqual({ ...DEFAULT_FILTERS, range: 'custom' });
  });
});

describe('filters to the API query', () => {
  const now = 1_700_000_000_000;
  it('turns a relative range into from and seconds into ms', () => {
    const query = filtersToQuery({ ...DEFAULT_FILTERS, range: '24h', userId: ' bob ', hasErrors: true, minDurationSec: 5, maxDurationSec: 60 }, now);
    expect(query).toEqual({ from: now - 86_400_000, userId: 'bob', hasErrors: true, minDuration: 5_000, maxDuration: 60_000 });
  });
  it('turns a custom range into whole local days', () => {
    const query = filtersToQuery({ ...DEFAULT_FILTERS, range: 'custom', from: '2026-03-01', to: '2026-03-02' }, now);
    expect(query.from).toBe(new Date(2026, 2, 1).getTime());
    expect(query.to).toBe(new Date(2026, 2, 3).getTime() - 1);
  });
  it('passes every text filter under its API name', () => {
    const query = filtersToQuery({ ...DEFAULT_FILTERS, browser: 'Safari', console: 'oops', event: 'signup', page: '/cart', q: 'x' }, now);
    expect(query).toEqual({ browser: 'Safari', console: 'oops', event: 'signup', page: '/cart', q: 'x' });
  });
  it('builds a query string with only the set fields', () => {
    const query = filtersToQuery({ ...DEFAULT_FILTERS, url: 'a b&c' }, now);
    expect(toQueryString({ ...query, limit: 50, cursor: 'abc==' })).toBe('?url=a+b%26c&limit=50&cursor=abc%3D%3D');
    expect(toQueryString({ ...query, tz: 'Europe/Paris' })).toBe('?url=a+b%26c&tz=Europe%2FParis');
    expect(toQueryString(filtersToQuery(DEFAULT_FILTERS, now))).toBe('');
  });
});

import type { SessionSummary } from '@tandem/protocol';
import { mergeNewest } from '../src/pages/sessions/merge';

describe('mergeNewest (auto-refresh of a list with several pages loaded)', () => {
  const s = (id: string, startedAt: number, clickCount = 0) => ({ sessionId: id, startedAt, clickCount }) as SessionSummary;
  it('updates known rows in place and puts new ones on top', () => {
    const current = [s('b', 200), s('a', 100)];
    const fresh = [s('c', 300), s('b', 200, 7)];
    expect(mergeNewest(current, fresh).map((x) => [x.sessionId, x.clickCount])).toEqual([
      ['c', 0],
      ['b', 7],
      ['a', 0],
    ]);
  });
});
