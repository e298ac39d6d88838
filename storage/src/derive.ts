import {
  CONSOLE_PLUGIN,
  RRWEB_CLICK,
  RRWEB_EVENT,
  RRWEB_SOURCE,
  TANDEM_EVENT,
  type TandemEvent,
} from '@tandem/protocol';
import { chTime } from './encode.js';
import { eventKeyRow, pageKeyRows, urlKeyRows } from './search-keys.js';

/**
 * Turning events into rows: the pure part of the writer. Each function mutates the tab and session
 * state it is given (so counters follow every event) and appends rows in a fixed column order
 * (the chDB driver sends TSV with the first row's columns).
 */

export type Row = Record<string, unknown>;

/**
 * Panel rows copy text out of events; the whole event stays in `events`. Caps keep one huge console
 * payload or stack from bloating panel reads (the console plugin already stringifies with its own limits).
 */
const MAX_TEXT = 16 * 1024;
const MAX_URL = 4 * 1024;

export interface TabState {
  projectId: string;
  sessionId: string;
  tabId: string;
  /** Highest seq durably stored, -1 when none. */
  ackSeq: number;
  /** Highest seq stored or waiting in a group (>= ackSeq): later events at or below it are duplicates. */
  queuedSeq: number;
  /** Settles when the newest group holding this tab's events is written (null when none is pending). */
  pending: Promise<void> | null;
  lastMetaSeq: number;
  lastMetaTs: number;
  /** URL of the tab's last page visit: a new visit is recorded only when the URL changes. */
  currentUrl: string;
  touchedAt: number;
}

export interface SessionState {
  projectId: string;
  sessionId: string;
  visitorId: string;
  userId: string;
  startedAt: number;
  /** Client clock of the first and last event: duration uses one clock. 0 = no event yet. */
  firstEventAt: number;
  endedAt: number;
  firstUrl: string;
  lastUrl: string;
  referrer: string;
  pageCount: number;
  eventCount: number;
  errorCount: number;
  consoleErrorCount: number;
  clickCount: number;
  tabIds: string[];
  userAgent: string;
  browser: string;
  browserVersion: string;
  os: string;
  device: string;
  screen: string;
  language: string;
  timezone: string;
  country: string;
  touchedAt: number;
}

export interface PendingRows {
  events: Row[];
  keyframes: Row[];
  console_logs: Row[];
  network_requests: Row[];
  errors: Row[];
  page_visits: Row[];
  custom_events: Row[];
  /** The list's keys per visited page text and custom event name (migration 15, search-keys.ts). */
  page_keys: Row[];
  event_keys: Row[];
  /** The URL filter's keys per visited and landing URL (migration 18, search-keys.ts). */
  url_keys: Row[];
}

export const emptyRows = (): PendingRows => ({
  events: [], keyframes: [], console_logs: [], network_requests: [], errors: [], page_visits: [], custom_events: [],
  page_keys: [], event_keys: [], url_keys: [],
});

const str = (v: unknown, max = MAX_TEXT): string => {
  const s = typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
  return s.length > max ? s.slice(0, max) : s;
};
const uint = (v: unknown): number => {
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
};
const asObject = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' ? (v as Record<string, unknown>) : {};

/**
 * A page visit (from a Meta event or the tracker's page-visit event). A module function, not a closure made
 * per event: under tsx every closure is also named at creation (`__name`), 3% of the ingest bench's main thread.
 */
function pageVisit(out: PendingRows, tab: TabState, session: SessionState, seq: number, ts: string, url: string, title: string, referrer: string, via: string): void {
  if (!url || url === tab.currentUrl) return; // Meta events repeat at every checkout: same URL = same page
  const { projectId: project_id, sessionId: session_id, tabId: tab_id } = tab;
  tab.currentUrl = url;
  session.pageCount++;
  session.lastUrl = url;
  if (!session.firstUrl) session.firstUrl = url;
  out.page_visits.push({ project_id, session_id, tab_id, seq, ts, url, title, referrer, via });
  out.page_keys.push(...pageKeyRows(project_id, session_id, session.startedAt, [url, title]));
  out.url_keys.push(...urlKeyRows(project_id, session_id, session.startedAt, url, 1));
}

/** Appends the rows of events already known to be new (seq > tab.queuedSeq, ascending). */
export function deriveRows(events: TandemEvent[], tab: TabState, session: SessionState, out: PendingRows): void {
  const { projectId: project_id, sessionId: session_id, tabId: tab_id } = tab;
  for (const event of events) {
    const seq = event.seq;
    const tsMs = Number(event.timestamp) || 0;
    const ts = chTime(tsMs);
    const data = asObject((event as { data?: unknown }).data);
    out.events.push({ project_id, session_id, tab_id, seq, ts, type: event.type, data: JSON.stringify(event) });

    session.eventCount++;
    if (session.firstEventAt === 0 || tsMs < session.firstEventAt) session.firstEventAt = tsMs;
    if (tsMs > session.endedAt) session.endedAt = tsMs;

    switch (event.type) {
      case RRWEB_EVENT.FullSnapshot: {
        const hasMeta = tab.lastMetaSeq >= 0;
        out.keyframes.push({
          project_id, session_id, tab_id, seq, ts,
          meta_seq: tab.lastMetaSeq, meta_ts: hasMeta ? chTime(tab.lastMetaTs) : ts,
        });
        break;
      }
      case RRWEB_EVENT.Meta:
        tab.lastMetaSeq = seq;
        tab.lastMetaTs = tsMs;
        pageVisit(out, tab, session, seq, ts, str(data.href, MAX_URL), '', '', 'meta');
        break;
      case RRWEB_EVENT.IncrementalSnapshot:
        if (data.source === RRWEB_SOURCE.MouseInteraction && data.type === RRWEB_CLICK) session.clickCount++;
        break;
      case RRWEB_EVENT.Plugin: {
        if (data.plugin !== CONSOLE_PLUGIN) break;
        const p = asObject(data.payload);
        const level = str(p.level, 32) || 'log';
        const message = Array.isArray(p.payload) ? p.payload.map((x) => str(x)).join(' ') : str(p.payload);
        const trace = Array.isArray(p.trace) ? p.trace.map((x) => str(x)).join('\n') : str(p.trace);
        if (level === 'error') session.consoleErrorCount++;
        out.console_logs.push({
          project_id, session_id, tab_id, seq, ts, level, message: str(message), trace: str(trace),
        });
        break;
      }
      case RRWEB_EVENT.Custom: {
        const p = asObject(data.payload);
        switch (data.tag) {
          case TANDEM_EVENT.network: {
            const start = Number(p.startTs);
            out.network_requests.push({
              project_id, session_id, tab_id, seq, ts: Number.isFinite(start) && start > 0 ? chTime(start) : ts,
              kind: str(p.kind, 16), method: str(p.method, 16).toUpperCase(), url: str(p.url, MAX_URL),
              status: Math.min(uint(p.status), 65535), duration_ms: Math.min(uint(p.durationMs), 4294967295),
              request_bytes: uint(p.requestBytes), response_bytes: uint(p.responseBytes), error: str(p.error, 1024),
            });
            break;
          }
          case TANDEM_EVENT.error:
            session.errorCount++;
            out.errors.push({
              project_id, session_id, tab_id, seq, ts,
              kind: str(p.kind, 32), name: str(p.name, 256), message: str(p.message), stack: str(p.stack),
              source: str(p.source, MAX_URL), line: Math.min(uint(p.line), 4294967295), column: Math.min(uint(p.column), 4294967295),
            });
            break;
          case TANDEM_EVENT.pageVisit:
            pageVisit(out, tab, session, seq, ts, str(p.url, MAX_URL), str(p.title, 1024), str(p.referrer, MAX_URL), str(p.via, 16));
            break;
          case TANDEM_EVENT.custom:
            // `Tandem.track(name, payload)`: the name is searchable; the payload is kept as the tracker
            // sent it (already capped there), for panels.
            out.custom_events.push({
              project_id, session_id, tab_id, seq, ts, name: str(p.name, 256), payload: str(JSON.stringify(p.payload ?? null)),
            });
            out.event_keys.push(eventKeyRow(project_id, session_id, session.startedAt, str(p.name, 256)));
            break;
          case TANDEM_EVENT.identify:
            if (typeof p.userId === 'string' && p.userId) session.userId = str(p.userId, 256);
            break;
          default:
            break; // other custom events live in `events` only
        }
        break;
      }
      default:
        break; // DomContentLoaded, Load, Asset, Annotation: stored, nothing derived
    }
  }
}

/**
 * What one group of calls added to a session: counters to be summed by ClickHouse (migration 6), and
 * whether it set the values where the newest write wins (written NULL otherwise, so a writer that did
 * not see a change never overwrites it with what it cached).
 */
export interface SessionDelta {
  pageCount: number;
  eventCount: number;
  errorCount: number;
  consoleErrorCount: number;
  clickCount: number;
  userIdSet: boolean;
  lastUrlSet: boolean;
}

export const emptyDelta = (): SessionDelta => ({
  pageCount: 0, eventCount: 0, errorCount: 0, consoleErrorCount: 0, clickCount: 0, userIdSet: false, lastUrlSet: false,
});

type Counters = Pick<SessionState, 'pageCount' | 'eventCount' | 'errorCount' | 'consoleErrorCount' | 'clickCount' | 'userId'>;
export const countersOf = (s: SessionState): Counters => ({
  pageCount: s.pageCount, eventCount: s.eventCount, errorCount: s.errorCount, consoleErrorCount: s.consoleErrorCount,
  clickCount: s.clickCount, userId: s.userId,
});

/** What one event counted beyond itself (a page, an error, a console error, a click). */
export type ExtraCount = Pick<SessionDelta, 'pageCount' | 'errorCount' | 'consoleErrorCount' | 'clickCount'>;

/**
 * deriveRows, noting in `extras` (by seq) every event that counted more than itself: if another writer
 * turns out to have stored some of these seqs already, the flush takes exactly their counts back out.
 */
export function deriveCounted(events: TandemEvent[], tab: TabState, session: SessionState, out: PendingRows, extras: Map<number, ExtraCount>): void {
  for (const event of events) {
    const { pageCount, errorCount, consoleErrorCount, clickCount } = session;
    deriveRows([event], tab, session, out);
    if (session.pageCount !== pageCount || session.errorCount !== errorCount || session.consoleErrorCount !== consoleErrorCount || session.clickCount !== clickCount) {
      extras.set(event.seq, {
        pageCount: session.pageCount - pageCount, errorCount: session.errorCount - errorCount,
        consoleErrorCount: session.consoleErrorCount - consoleErrorCount, clickCount: session.clickCount - clickCount,
      });
    }
  }
}

/** Adds to `d` what changed in `s` since `before` (taken just before deriveRows ran on it). */
export function addDelta(d: SessionDelta, s: SessionState, before: Counters): void {
  d.pageCount += s.pageCount - before.pageCount;
  d.eventCount += s.eventCount - before.eventCount;
  d.errorCount += s.errorCount - before.errorCount;
  d.consoleErrorCount += s.consoleErrorCount - before.consoleErrorCount;
  d.clickCount += s.clickCount - before.clickCount;
  if (s.pageCount !== before.pageCount) d.lastUrlSet = true;
  if (s.userId !== before.userId) d.userIdSet = true;
}

/**
 * The `sessions` delta row of one group (AggregatingMergeTree, see session-totals.ts): counters are
 * this group's increments; min/max/union/`max` columns carry the state as this writer knows it (merging
 * them again is harmless); user_id and last_url only when this group set them.
 */
export function sessionDeltaRow(s: SessionState, d: SessionDelta, version: number, now: number): Row {
  return {
    project_id: s.projectId, session_id: s.sessionId, version, updated_at: chTime(now),
    visitor_id: s.visitorId, user_id: d.userIdSet ? s.userId : null,
    started_at: chTime(s.startedAt),
    first_event_at: s.firstEventAt ? chTime(s.firstEventAt) : null, last_event_at: s.endedAt ? chTime(s.endedAt) : null,
    first_url: s.firstUrl, last_url: d.lastUrlSet ? s.lastUrl : null, referrer: s.referrer,
    page_count: d.pageCount, event_count: d.eventCount, error_count: d.errorCount,
    console_error_count: d.consoleErrorCount, click_count: d.clickCount,
    tab_ids: s.tabIds,
    user_agent: s.userAgent, browser: s.browser, browser_version: s.browserVersion, os: s.os, device: s.device,
    screen: s.screen, language: s.language, timezone: s.timezone, country: s.country,
  };
}
