import type { SessionQuery } from '@tandem/protocol';

/**
 * Session list filters as the user sees them, and their two encodings: the hash query of a shareable
 * URL (`#/sessions?range=7d&user=42`) and the API query (`/api/v1/sessions?from=…&userId=42`).
 * A relative range is stored as its name and turned into `from` at each request, so a shared link
 * and the auto-refresh always mean "the last 7 days from now".
 */

export const TIME_RANGES = ['24h', '7d', '30d', 'all'] as const;
export type TimeRange = (typeof TIME_RANGES)[number];

export const TIME_RANGE_LABELS: Record<TimeRange, string> = {
  '24h': 'Last 24 hours',
  '7d': 'Last 7 days',
  '30d': 'Last 30 days',
  all: 'All time',
};

const RANGE_MS: Record<TimeRange, number | null> = {
  '24h': 24 * 3600_000,
  '7d': 7 * 24 * 3600_000,
  '30d': 30 * 24 * 3600_000,
  all: null,
};

export interface SessionFilters {
  range: TimeRange;
  userId: string;
  url: string;
  hasErrors: boolean;
  /** Whole seconds; 0 means no minimum. */
  minDurationSec: number;
}

export const DEFAULT_FILTERS: Readonly<SessionFilters> = Object.freeze({
  range: 'all',
  userId: '',
  url: '',
  hasErrors: false,
  minDurationSec: 0,
});

function isTimeRange(value: string | null): value is TimeRange {
  return value !== null && (TIME_RANGES as readonly string[]).includes(value);
}

/** Reads filters from a hash query; unknown or malformed values fall back to the defaults. */
export function filtersFromParams(params: URLSearchParams): SessionFilters {
  const range = params.get('range');
  const minDuration = Number.parseInt(params.get('minDuration') ?? '', 10);
  return {
    range: isTimeRange(range) ? range : DEFAULT_FILTERS.range,
    userId: (params.get('user') ?? '').trim(),
    url: (params.get('url') ?? '').trim(),
    hasErrors: params.get('errors') === '1',
    minDurationSec: Number.isFinite(minDuration) && minDuration > 0 ? minDuration : 0,
  };
}

/** Writes only what differs from the defaults, so the plain list has a plain URL. */
export function filtersToParams(filters: SessionFilters): URLSearchParams {
  const params = new URLSearchParams();
  if (filters.range !== DEFAULT_FILTERS.range) params.set('range', filters.range);
  if (filters.userId.trim()) params.set('user', filters.userId.trim());
  if (filters.url.trim()) params.set('url', filters.url.trim());
  if (filters.hasErrors) params.set('errors', '1');
  if (filters.minDurationSec > 0) params.set('minDuration', String(Math.floor(filters.minDurationSec)));
  return params;
}

export function hasActiveFilters(filters: SessionFilters): boolean {
  return filtersToParams(filters).toString() !== '';
}

/** The API query for `filters` evaluated at `now`. */
export function filtersToQuery(filters: SessionFilters, now: number): SessionQuery {
  const query: SessionQuery = {};
  const span = RANGE_MS[filters.range];
  if (span !== null) query.from = now - span;
  if (filters.userId.trim()) query.userId = filters.userId.trim();
  if (filters.url.trim()) query.url = filters.url.trim();
  if (filters.hasErrors) query.hasErrors = true;
  if (filters.minDurationSec > 0) query.minDuration = Math.floor(filters.minDurationSec) * 1000;
  return query;
}

/** `?a=1&b=x` for the defined fields of `query` (empty string when none), keys in a stable order. */
export function toQueryString(query: SessionQuery): string {
  const params = new URLSearchParams();
  const keys: (keyof SessionQuery)[] = ['from', 'to', 'userId', 'url', 'q', 'hasErrors', 'minDuration', 'limit', 'cursor'];
  for (const key of keys) {
    const value = query[key];
    if (value === undefined || value === null || value === '' || value === false) continue;
    params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}
