import UAParser from 'ua-parser-js';
import type { SessionStart } from './types.js';
import type { Driver } from './types.js';
import type { SessionState, TabState } from './derive.js';

/**
 * Loading the writer's per-tab and per-session state from storage: on first touch after a restart,
 * or after a failed flush made the in-memory state untrustworthy.
 */

export async function loadTab(driver: Driver, db: string, projectId: string, sessionId: string, tabId: string): Promise<TabState> {
  const params = { p: projectId, s: sessionId, t: tabId };
  const where = 'project_id = {p:String} AND session_id = {s:String} AND tab_id = {t:String}';
  const [ev, page] = await Promise.all([
    driver.query<{ n: number | string; max_seq: number; metas: number | string; meta_seq: number; meta_ts: number | string }>(
      `SELECT count() AS n, max(seq) AS max_seq, countIf(type = 4) AS metas, maxIf(seq, type = 4) AS meta_seq,
              toUnixTimestamp64Milli(argMaxIf(ts, seq, type = 4)) AS meta_ts
       FROM ${db}.events WHERE ${where}`, params),
    driver.query<{ url: string }>(`SELECT argMax(url, seq) AS url FROM ${db}.page_visits WHERE ${where}`, params),
  ]);
  const e = ev[0];
  // max() of no rows is 0 in ClickHouse, not NULL: the counts say whether there was anything.
  const ackSeq = e && Number(e.n) > 0 ? Number(e.max_seq) : -1;
  const hasMeta = e && Number(e.metas) > 0;
  return {
    projectId, sessionId, tabId, ackSeq, queuedSeq: ackSeq, pending: null,
    lastMetaSeq: hasMeta ? Number(e.meta_seq) : -1,
    lastMetaTs: hasMeta ? Number(e.meta_ts) : 0,
    currentUrl: page[0]?.url ?? '',
    touchedAt: Date.now(),
  };
}

interface SessionDbRow {
  visitor_id: string; user_id: string; started_at: number | string; first_event_at: number | string; ended_at: number | string;
  first_url: string; last_url: string; referrer: string; page_count: number; event_count: number; error_count: number;
  console_error_count: number; click_count: number; tab_ids: string[]; user_agent: string; browser: string;
  browser_version: string; os: string; device: string; screen: string; language: string; timezone: string; country: string;
}

export async function loadSession(driver: Driver, db: string, projectId: string, sessionId: string): Promise<SessionState | null> {
  const rows = await driver.query<SessionDbRow>(
    `SELECT * EXCEPT (started_at, first_event_at, ended_at),
            toUnixTimestamp64Milli(started_at) AS started_at, toUnixTimestamp64Milli(first_event_at) AS first_event_at,
            toUnixTimestamp64Milli(ended_at) AS ended_at
     FROM ${db}.sessions FINAL WHERE project_id = {p:String} AND session_id = {s:String}`,
    { p: projectId, s: sessionId },
  );
  const r = rows[0];
  if (!r) return null;
  const eventCount = Number(r.event_count);
  return {
    projectId, sessionId, visitorId: r.visitor_id, userId: r.user_id, startedAt: Number(r.started_at),
    firstEventAt: eventCount > 0 ? Number(r.first_event_at) : 0, endedAt: eventCount > 0 ? Number(r.ended_at) : 0,
    firstUrl: r.first_url, lastUrl: r.last_url, referrer: r.referrer,
    pageCount: Number(r.page_count), eventCount, errorCount: Number(r.error_count),
    consoleErrorCount: Number(r.console_error_count), clickCount: Number(r.click_count), tabIds: [...r.tab_ids],
    userAgent: r.user_agent, browser: r.browser, browserVersion: r.browser_version, os: r.os, device: r.device,
    screen: r.screen, language: r.language, timezone: r.timezone, country: r.country, touchedAt: Date.now(),
  };
}

export function newSession(projectId: string, sessionId: string, startedAt: number): SessionState {
  return {
    projectId, sessionId, visitorId: '', userId: '', startedAt, firstEventAt: 0, endedAt: 0,
    firstUrl: '', lastUrl: '', referrer: '', pageCount: 0, eventCount: 0, errorCount: 0, consoleErrorCount: 0,
    clickCount: 0, tabIds: [], userAgent: '', browser: '', browserVersion: '', os: '', device: '', screen: '',
    language: '', timezone: '', country: '', touchedAt: Date.now(),
  };
}

/**
 * What a (re)start tells us. The first start fills the session; later ones (resume, new tab, reload)
 * only add the tab and fill fields still empty, so a session keeps the device it started on.
 */
export function applyStart(s: SessionState, start: SessionStart): void {
  if (!s.tabIds.includes(start.tabId)) s.tabIds.push(start.tabId);
  if (start.userId) s.userId = start.userId.slice(0, 256);
  if (!s.visitorId) s.visitorId = start.visitorId;
  if (!s.firstUrl) s.firstUrl = start.url.slice(0, 4096);
  if (!s.lastUrl) s.lastUrl = start.url.slice(0, 4096);
  if (!s.referrer) s.referrer = start.referrer.slice(0, 4096);
  if (!s.screen) s.screen = start.screen.slice(0, 32);
  if (!s.language) s.language = start.language.slice(0, 32);
  if (!s.timezone) s.timezone = start.timezone.slice(0, 64);
  if (!s.userAgent && start.userAgent) {
    s.userAgent = start.userAgent.slice(0, 1024);
    const ua = UAParser(s.userAgent);
    s.browser = ua.browser.name ?? '';
    s.browserVersion = ua.browser.version ?? '';
    s.os = [ua.os.name, ua.os.version].filter(Boolean).join(' ');
    // ua-parser leaves device.type empty for desktops.
    s.device = ua.device.type ?? 'desktop';
  }
}
