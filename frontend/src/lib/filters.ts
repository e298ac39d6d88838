import type { SessionQuery } from '@tandem/protocol';

/**
 * Session list filters as the user sees them, and their two encodings: the hash query of a shareable
 * URL (`#/sessions?range=7d&user=42&event=purchase`) and the API query (`/api/v1/sessions?from=…`).
 * A relative range is stored as its name and turned into `from` at each request, so a shared link
 * and the auto-refresh always mean "the last 7 days from now"; a custom range is two calendar days
 * (`from`/`to`, `YYYY-MM-DD`) read in the viewer's time zone.
 */

export const TIME_RANGES = ['24h', '7d', '30d', 'all', 'custom'] as const;
export type TimeRange = (typeof TIME_RANGES)[number];

export const TIME_RANGE_LABELS: Record<TimeRange, string> = {
  '24h': 'Last 24 hours',
  '7d': 'Last 7 days',
  '30d': 'Last 30 days',
  all: 'All time',
  custom: 'Between dates',
};

const RANGE_MS: Record<TimeRange, number | null> = {
  '24h': 24 * 3600_000,
  '7d': 7 * 24 * 3600_000,
  '30d': 30 * 24 * 3600_000,
  all: null,
  custom: null,
};

/** Text filters: the field, its name in the shareable URL, and its name in the API query. */
export const TEXT_FILTERS = [
  ['q', 'q', 'q'],
  ['userId', 'user', 'userId'],
  ['url', 'url', 'url'],
  ['browser', 'browser', 'browser'],
  ['os', 'os', 'os'],
  ['device', 'device', 'device'],
  ['console', 'console', 'console'],
  ['event', 'event', 'event'],
  ['page', 'page', 'page'],
] as const;
type TextFilter = (typeof TEXT_FILTERS)[number][0];

export interface SessionFilters extends Record<TextFilter, string> {
  range: TimeRange;
  /** `YYYY-MM-DD`, used when range is `custom` (either may be empty: open-ended). */
  from: string;
  to: string;
  hasErrors: boolean;
  /** Whole seconds; 0 means no bound. */
  minDurationSec: number;
  maxDurationSec: number;
}

export const DEFAULT_FILTERS: Readonly<SessionFilters> = Object.freeze({
  range: 'all',
  from: '',
  to: '',
  q: '',
  userId: '',
  url: '',
  browser: '',
  os: '',
  device: '',
  console: '',
  event: '',
  page: '',
  hasErrors: false,
  minDurationSec: 0,
  maxDurationSec: 0,
});

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function isTimeRange(value: string | null): value is TimeRange {
  return value !== null && (TIME_RANGES as readonly string[]).includes(value);
}

function seconds(value: string | null): number {
  const n = Number.parseInt(value ?? '', 10);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/** Reads filters from a hash query; unknown or malformed values fall back to the defaults. */
export function filtersFromParams(params: URLSearchParams): SessionFilters {
  const range = params.get('range');
  const date = (name: string) => {
    const v = params.get(name) ?? '';
    return DATE.test(v) ? v : '';
  };
  const filters: SessionFilters = {
    ...DEFAULT_FILTERS,
    range: isTimeRange(range) ? range : DEFAULT_FILTERS.range,
    hasErrors: params.get('errors') === '1',
    minDurationSec: seconds(params.get('minDuration')),
    maxDurationSec: seconds(params.get('maxDuration')),
  };
  if (filters.range === 'custom') (filters.from = date('from')), (filters.to = date('to'));
  for (const [field, name] of TEXT_FILTERS) filters[field] = (params.get(name) ?? '').trim();
  return filters;
}

/** Writes only what differs from the defaults, so the plain list has a plain URL. */
export function filtersToParams(filters: SessionFilters): URLSearchParams {
  const params = new URLSearchParams();
  if (filters.range !== DEFAULT_FILTERS.range) params.set('range', filters.range);
  if (filters.range === 'custom') {
    if (DATE.test(filters.from)) params.set('from', filters.from);
    if (DATE.test(filters.to)) params.set('to', filters.to);
  }
  for (const [field, name] of TEXT_FILTERS) if (filters[field].trim()) params.set(name, filters[field].trim());
  if (filters.hasErrors) params.set('errors', '1');
  if (filters.minDurationSec > 0) params.set('minDuration', String(Math.floor(filters.minDurationSec)));
  if (filters.maxDurationSec > 0) params.set('maxDuration', String(Math.floor(filters.maxDurationSec)));
  return params;
}

export function hasActiveFilters(filters: SessionFilters): boolean {
  return filtersToParams(filters).toString() !== '';
}

/** Local midnight of a `YYYY-MM-DD` day, plus `days`. */
function localDay(date: string, days = 0): number {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(y, m - 1, d + days).getTime();
}

/** The API query for `filters` evaluated at `now` (no page size or cursor). */
export function filtersToQuery(filters: SessionFilters, now: number): SessionQuery {
  const query: SessionQuery = {};
  const span = RANGE_MS[filters.range];
  if (span !== null) query.from = now - span;
  if (filters.range === 'custom') {
    if (DATE.test(filters.from)) query.from = localDay(filters.from);
    if (DATE.test(filters.to)) query.to = localDay(filters.to, 1) - 1; // the whole last day
  }
  for (const [field, , api] of TEXT_FILTERS) if (filters[field].trim()) query[api] = filters[field].trim();
  if (filters.hasErrors) query.hasErrors = true;
  if (filters.minDurationSec > 0) query.minDuration = Math.floor(filters.minDurationSec) * 1000;
  if (filters.maxDurationSec > 0) query.maxDuration = Math.floor(filters.maxDurationSec) * 1000;
  return query;
}

const QUERY_KEYS = [
  'from', 'to', 'userId', 'url', 'q', 'hasErrors', 'minDuration', 'maxDuration', 'browser', 'os', 'device', 'console', 'event',
  'page', 'tz', 'limit', 'cursor',
] as const;

/** `?a=1&b=x` for the defined fields of `query` (empty string when none), keys in a stable order. */
export function toQueryString(query: SessionQuery & { tz?: string }): string {
  const params = new URLSearchParams();
  for (const key of QUERY_KEYS) {
    const value = query[key];
    if (value === undefined || value === null || value === '' || value === false) continue;
    params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}
