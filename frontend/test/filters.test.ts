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
    const filters = { range: '7d', userId: 'u-42', url: '/checkout', hasErrors: true, minDurationSec: 30 } as const;
    const params = filtersToParams(filters);
    expect(params.toString()).toBe('range=7d&user=u-42&url=%2Fcheckout&errors=1&minDuration=30');
    expect(filtersFromParams(params)).toEqual(filters);
  });
  it('writes nothing for the defaults', () => {
    expect(filtersToParams(DEFAULT_FILTERS).toString()).toBe('');
    expect(hasActiveFilters(DEFAULT_FILTERS)).toBe(false);
  });
  it('ignores malformed values', () => {
    expect(filtersFromParams(new URLSearchParams('range=1y&minDuration=abc&errors=yes'))).toEqual(DEFAULT_FILTERS);
  });
});

describe('filters to the API query', () => {
  const now = 1_700_000_000_000;
  it('turns a relative range into from and seconds into ms', () => {
    const query = filtersToQuery({ range: '24h', userId: ' bob ', url: '', hasErrors: true, minDurationSec: 5 }, now);
    expect(query).toEqual({ from: now - 86_400_000, userId: 'bob', hasErrors: true, minDuration: 5_000 });
  });
  it('builds a query string with only the set fields', () => {
    const query = filtersToQuery({ ...DEFAULT_FILTERS, url: 'a b&c' }, now);
    expect(toQueryString({ ...query, limit: 50, cursor: 'abc==' })).toBe('?url=a+b%26c&limit=50&cursor=abc%3D%3D');
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
