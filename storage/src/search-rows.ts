import type { SessionSummary } from '@tandem/protocol';

/** Rows of `session_search` as the list and the chart return them, and the chart's calendar days. */

const DAY = 86_400_000;
/** Search text is capped: longer needles are almost certainly pasted by mistake and cost every row. */
export const MAX_SEARCH_TEXT = 512;
/** Stats fill at most this many days with zeros: one response stays small whatever the range. */
export const MAX_STATS_DAYS = 400;

export const SUMMARY_COLUMNS = `session_id, project_id, visitor_id, user_id,
  toUnixTimestamp64Milli(started_at) AS started_ms, toUnixTimestamp64Milli(ended_at) AS ended_ms, duration_ms,
  first_url, last_url, page_count, event_count, error_count, console_error_count, click_count, tab_count,
  user_agent, browser, browser_version, os, device, country, screen`;

export type Raw = Record<string, string | number>;
export const num = (v: unknown) => Number(v ?? 0);
export const text = (v: unknown) => (v === undefined || v === null ? '' : String(v));
export const finite = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
export const clean = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim().slice(0, MAX_SEARCH_TEXT) : undefined);

export function toSummary(r: Raw): SessionSummary {
  return {
    sessionId: text(r.session_id), projectId: text(r.project_id), visitorId: text(r.visitor_id), userId: text(r.user_id),
    startedAt: num(r.started_ms), endedAt: num(r.ended_ms), durationMs: num(r.duration_ms),
    firstUrl: text(r.first_url), lastUrl: text(r.last_url), pageCount: num(r.page_count), eventCount: num(r.event_count),
    errorCount: num(r.error_count), consoleErrorCount: num(r.console_error_count), clickCount: num(r.click_count),
    tabCount: num(r.tab_count), userAgent: text(r.user_agent), browser: text(r.browser), browserVersion: text(r.browser_version),
    os: text(r.os), device: text(r.device), ...(r.country ? { country: text(r.country) } : {}), screen: text(r.screen),
  };
}

/** `YYYY-MM-DD` of instant `ms` in time zone `tz`. */
export function dayIn(ms: number, tz: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(ms);
}

/** Calendar days from `first` to `last` inclusive (both `YYYY-MM-DD`), the newest MAX_STATS_DAYS at most. */
export function dayRange(first: string, last: string): string[] {
  const days: string[] = [];
  const end = Date.parse(`${last}T00:00:00Z`);
  const start = Math.max(Date.parse(`${first}T00:00:00Z`), end - (MAX_STATS_DAYS - 1) * DAY);
  for (let t = start; t <= end; t += DAY) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}
