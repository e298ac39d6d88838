import UAParser from 'ua-parser-js';
import type { Driver, SessionStart } from './types.js';
import type { SessionState, TabState } from './derive.js';

/**
 * Loading the writer's per-tab and per-session state from storage: on first touch after a restart,
 * or after a failed flush made the in-memory state untrustworthy.
 */

/**
 * One query loads many keys: every first touch of a tab or session costs a query (a few ms on chDB,
 * where bound queries also run one at a time), so at a burst of new sessions one query per key would
 * queue up behind each other. Keys asked for while a load runs go into the next one.
 */
function batchLoader<K extends string[], V>(load: (keys: K[]) => Promise<Map<string, V>>) {
  const MAX_KEYS = 500; // keeps the bound arrays (and the IN sets) small
  let queue: { key: K; resolve: (v: V | undefined) => void; reject: (e: unknown) => void }[] = [];
  let running = false;
  async function pump() {
    while (queue.length > 0) {
      const batch = queue.slice(0, MAX_KEYS);
      queue = queue.slice(MAX_KEYS);
      try {
        const found = await load(batch.map((b) => b.key));
        for (const b of batch) b.resolve(found.get(b.key.join('\u0000')));
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
    running = false;
  }
  return (key: K) => new Promise<V | undefined>((resolve, reject) => {
    queue.push({ key, resolve, reject });
    if (!running) {
      running = true;
      setImmediate(() => void pump()); // let the calls of this tick join the first query
    }
  });
}

const distinct = (values: string[]) => [...new Set(values)];

interface TabRow { project_id: string; session_id: string; tab_id: string; n: number | string; max_seq: number; metas: number | string; meta_seq: number; meta_ts_ms: number | string }
interface SessionDbRow {
  project_id: string; session_id: string; visitor_id: string; user_id: string | null; started_ms: number | string;
  first_event_ms: number | string | null; ended_ms: number | string | null; first_url: string; last_url: string | null; referrer: string;
  page_count: number; event_count: number; error_count: number; console_error_count: number; click_count: number;
  tab_ids: string[]; user_agent: string; browser: string; browser_version: string; os: string; device: string;
  screen: string; language: string; timezone: string; country: string;
}

export function createStateLoader(driver: Driver, db: string) {
  // Keys are matched with one IN per column (the primary key prefix, so the index is used); the few
  // extra combinations this may return are ignored by the exact lookup in the map.
  const loadTabs = batchLoader<[string, string, string], TabState>(async (keys) => {
    const params = { p: distinct(keys.map((k) => k[0])), s: distinct(keys.map((k) => k[1])), t: distinct(keys.map((k) => k[2])) };
    const where = 'project_id IN {p:Array(String)} AND session_id IN {s:Array(String)} AND tab_id IN {t:Array(String)}';
    const [events, pages] = await Promise.all([
      driver.query<TabRow>(
        `SELECT project_id, session_id, tab_id, count() AS n, max(seq) AS max_seq, countIf(type = 4) AS metas,
                maxIf(seq, type = 4) AS meta_seq, toUnixTimestamp64Milli(argMaxIf(ts, seq, type = 4)) AS meta_ts_ms
         FROM ${db}.events WHERE ${where} GROUP BY project_id, session_id, tab_id`, params),
      driver.query<{ project_id: string; session_id: string; tab_id: string; url: string }>(
        `SELECT project_id, session_id, tab_id, argMax(url, seq) AS url FROM ${db}.page_visits WHERE ${where}
         GROUP BY project_id, session_id, tab_id`, params),
    ]);
    const urls = new Map(pages.map((r) => [`${r.project_id}\u0000${r.session_id}\u0000${r.tab_id}`, r.url]));
    const found = new Map<string, TabState>();
    for (const e of events) {
      const key = `${e.project_id}\u0000${e.session_id}\u0000${e.tab_id}`;
      const ackSeq = Number(e.n) > 0 ? Number(e.max_seq) : -1;
      const hasMeta = Number(e.metas) > 0;
      found.set(key, {
        projectId: e.project_id, sessionId: e.session_id, tabId: e.tab_id, ackSeq, queuedSeq: ackSeq, pending: null,
        lastMetaSeq: hasMeta ? Number(e.meta_seq) : -1, lastMetaTs: hasMeta ? Number(e.meta_ts_ms) : 0,
        currentUrl: urls.get(key) ?? '', touchedAt: Date.now(),
      });
    }
    return found;
  });

  const loadSessions = batchLoader<[string, string], SessionState>(async (keys) => {
    const rows = await driver.query<SessionDbRow>(
      `SELECT * EXCEPT (started_at, first_event_at, last_event_at),
              toUnixTimestamp64Milli(started_at) AS started_ms, toUnixTimestamp64Milli(first_event_at) AS first_event_ms,
              toUnixTimestamp64Milli(last_event_at) AS ended_ms
       FROM ${db}.sessions FINAL WHERE project_id IN {p:Array(String)} AND session_id IN {s:Array(String)}`,
      { p: distinct(keys.map((k) => k[0])), s: distinct(keys.map((k) => k[1])) },
    );
    const found = new Map<string, SessionState>();
    for (const r of rows) {
      const eventCount = Number(r.event_count);
      found.set(`${r.project_id}\u0000${r.session_id}`, {
        projectId: r.project_id, sessionId: r.session_id, visitorId: r.visitor_id, userId: r.user_id ?? '',
        startedAt: Number(r.started_ms), firstEventAt: eventCount > 0 ? Number(r.first_event_ms) : 0,
        endedAt: eventCount > 0 ? Number(r.ended_ms) : 0, firstUrl: r.first_url, lastUrl: r.last_url ?? '', referrer: r.referrer,
        pageCount: Number(r.page_count), eventCount, errorCount: Number(r.error_count),
        consoleErrorCount: Number(r.console_error_count), clickCount: Number(r.click_count), tabIds: [...r.tab_ids],
        userAgent: r.user_agent, browser: r.browser, browserVersion: r.browser_version, os: r.os, device: r.device,
        screen: r.screen, language: r.language, timezone: r.timezone, country: r.country, touchedAt: Date.now(),
      });
    }
    return found;
  });

  return {
    /** The tab as stored (ackSeq -1 when nothing is). */
    async tab(projectId: string, sessionId: string, tabId: string): Promise<TabState> {
      return (await loadTabs([projectId, sessionId, tabId])) ?? {
        projectId, sessionId, tabId, ackSeq: -1, queuedSeq: -1, pending: null, lastMetaSeq: -1, lastMetaTs: 0,
        currentUrl: '', touchedAt: Date.now(),
      };
    },
    /** The stored session, or null. */
    async session(projectId: string, sessionId: string): Promise<SessionState | null> {
      return (await loadSessions([projectId, sessionId])) ?? null;
    },
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
