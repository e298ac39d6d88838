import type {
  ConsoleEntry, ErrorEntry, Keyframe, NetworkEntry, PageVisit, SessionDetail, TabInfo,
} from '@tandem/protocol';
import { createSearch, toSummary } from './search.js';
import { tabSpansSql } from './tab-spans.js';
import { createTimelineReader } from './timeline.js';
import type { Driver, EventStreamOptions, ReadOptions } from './types.js';

/**
 * Read side. Every query is scoped by project_id and takes user input only through bound `{name:Type}`
 * parameters. Session-data tables may hold a duplicate (tab_id, seq) until a merge, so reads dedup
 * with `LIMIT 1 BY tab_id, seq`; `sessions` holds one version per flush, so it is read with FINAL
 * (which applies WHERE to the newest version only). Computed columns get new names (`*_ms`): in
 * ClickHouse a SELECT alias is visible in WHERE and ORDER BY and would shadow the column of that name.
 */

/** streamEvents reads this many events per query: bounded memory per stream whatever the session length. */
const EVENT_PAGE = 2000;
/** Panels return at most this many rows (the console plugin alone may log thousands per page). */
const MAX_PANEL_ROWS = 10_000;

const SUMMARY_COLUMNS = `session_id, project_id, visitor_id, user_id,
  toUnixTimestamp64Milli(started_at) AS started_ms, toUnixTimestamp64Milli(ended_at) AS ended_ms, duration_ms,
  first_url, last_url, page_count, event_count, error_count, console_error_count, click_count, tab_count,
  user_agent, browser, browser_version, os, device, country, screen`;

type Raw = Record<string, string | number>;
const num = (v: unknown) => Number(v ?? 0);
const text = (v: unknown) => (v === undefined || v === null ? '' : String(v));


/** Plain code-unit order, as ClickHouse sorts String columns (not locale order). */
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const finiteOrUndefined = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export function createReaders(driver: Driver, db: string) {
  /** A session's keyframes where `where` holds, once each (retried writes), in time order: getSession and getKeyframes. */
  const keyframesSql = (where: string) =>
    `SELECT tab_id, seq, toUnixTimestamp64Milli(ts) AS ts_ms, meta_seq, toUnixTimestamp64Milli(meta_ts) AS meta_ts_ms
     FROM ${db}.keyframes WHERE ${where} ORDER BY ts, tab_id, seq LIMIT 1 BY tab_id, seq`;

  const SCOPE = 'project_id = {p:String} AND session_id = {s:String}';
  /** Scalar subqueries, each an array of tuples: a session's tab spans, page visits and keyframes. */
  const TABS = `(SELECT groupArray((tab_id, started_ms, ended_ms, event_count)) FROM (${tabSpansSql(db, SCOPE)})) AS detail_tabs`;
  const PAGES = `(SELECT groupArray((tab_id, seq, ts_ms, url, title)) FROM (
      SELECT tab_id, seq, toUnixTimestamp64Milli(ts) AS ts_ms, url, title FROM ${db}.page_visits WHERE ${SCOPE}
      ORDER BY ts, tab_id, seq LIMIT 1 BY tab_id, seq)) AS detail_pages`;
  const KEYFRAMES = `(SELECT groupArray((tab_id, seq, ts_ms, meta_seq, meta_ts_ms)) FROM (${keyframesSql(SCOPE)})) AS detail_keyframes`;
  type Detail = Raw & { detail_tabs: unknown[][]; detail_pages: unknown[][]; detail_keyframes: unknown[][] };

  // groupArray keeps no order of its own: sorted here as separate queries' ORDER BY would.
  const byTime = <T extends { ts: number; tabId: string; seq: number }>(a: T, b: T) => a.ts - b.ts || cmp(a.tabId, b.tabId) || a.seq - b.seq;
  const tabsOf = (rows: unknown[][]) => rows
    .map(([tabId, started, ended, count]): TabInfo => ({ tabId: text(tabId), startedAt: num(started), endedAt: num(ended), eventCount: num(count) }))
    .sort((a, b) => a.startedAt - b.startedAt || cmp(a.tabId, b.tabId));
  const pagesOf = (rows: unknown[][]) => rows
    .map(([tabId, seq, ts, url, title]) => ({ tabId: text(tabId), seq: num(seq), ts: num(ts), url: text(url), title: text(title) }))
    .sort(byTime)
    .map(({ tabId, ts, url, title }): PageVisit => ({ tabId, ts, url, title }));
  const keyframesOf = (rows: unknown[][]) => rows
    .map(([tabId, seq, ts, metaSeq, metaTs]): Keyframe => ({ tabId: text(tabId), seq: num(seq), ts: num(ts), metaSeq: num(metaSeq), metaTs: num(metaTs) }))
    .sort(byTime);

  /**
   * The session page's detail in ONE storage call: the summary row, each tab's span, the page visits and
   * the keyframes (scalar subqueries beside the summary's columns). As four calls they queued one by one on
   * the driver's connection, each behind whatever other pages had asked for meanwhile. The tabs' spans come
   * from `tab_spans` (migration 19), not a scan of the tab's events.
   */
  async function getSession(projectId: string, sessionId: string): Promise<SessionDetail | null> {
    const [row] = await driver.query<Detail>(
      `SELECT ${SUMMARY_COLUMNS}, ${TABS}, ${PAGES}, ${KEYFRAMES} FROM ${db}.sessions FINAL WHERE ${SCOPE}`,
      { p: projectId, s: sessionId },
    );
    if (!row) return null;
    const { detail_tabs: tabRows, detail_pages: pageRows, detail_keyframes: keyframeRows, ...summary } = row;
    return { ...toSummary(summary), tabs: tabsOf(tabRows), pages: pagesOf(pageRows), keyframes: keyframesOf(keyframeRows) };
  }

  /**
   * What a share link's window is planned from (protocol openTarget): the tabs' spans and the keyframes, without
   * the summary and the pages. Two small reads instead of getSession's four: the open route sends these first
   * and reads the rest after the window's events (the first frame needs none of it). Empty for no such session.
   */
  async function getTabsAndKeyframes(projectId: string, sessionId: string): Promise<Pick<SessionDetail, 'tabs' | 'keyframes'>> {
    const [row] = await driver.query<Detail>(`SELECT ${TABS}, ${KEYFRAMES}`, { p: projectId, s: sessionId });
    return { tabs: tabsOf(row?.detail_tabs ?? []), keyframes: keyframesOf(row?.detail_keyframes ?? []) };
  }

  /** getSession without the tabs and keyframes (getTabsAndKeyframes has them); null when there is no such session. */
  async function getSessionSummaryAndPages(projectId: string, sessionId: string): Promise<Omit<SessionDetail, 'tabs' | 'keyframes'> | null> {
    const [row] = await driver.query<Detail>(`SELECT ${SUMMARY_COLUMNS}, ${PAGES} FROM ${db}.sessions FINAL WHERE ${SCOPE}`, { p: projectId, s: sessionId });
    if (!row) return null;
    const { detail_pages: pageRows, ...summary } = row;
    return { ...toSummary(summary), pages: pagesOf(pageRows) };
  }

  /**
   * A session's visitor and start never change between its versions, so no FINAL is needed: the
   * newest start wins whichever version of each row is read.
   */
  async function latestSessionOfVisitor(projectId: string, visitorId: string): Promise<string | null> {
    const rows = await driver.query<{ session_id: string }>(
      `SELECT session_id FROM ${db}.sessions WHERE project_id = {p:String} AND visitor_id = {v:String}
       ORDER BY started_at DESC, session_id DESC LIMIT 1`,
      { p: projectId, v: visitorId },
    );
    return rows[0] ? String(rows[0].session_id) : null;
  }

  /**
   * Events in (tab_id, seq) order, read page by page with a keyset on seq. Each page is drained from
   * the driver before its lines are yielded: a slow HTTP client then holds one page in memory, never
   * a query (chDB runs one stream at a time per process). Every bound is inclusive; seq bounds are a
   * primary-key range, ts bounds a filter inside it (so `fromSeq` is how a seek gets in cheaply).
   */
  async function* streamEvents(projectId: string, sessionId: string, opts: EventStreamOptions = {}): AsyncIterable<string> {
    const base: Record<string, unknown> = { p: projectId, s: sessionId };
    const filters: string[] = [];
    const fromTs = finiteOrUndefined(opts.fromTs);
    const toTs = finiteOrUndefined(opts.toTs);
    const toSeq = finiteOrUndefined(opts.toSeq);
    const limit = finiteOrUndefined(opts.limit);
    if (fromTs !== undefined) (filters.push('ts >= fromUnixTimestamp64Milli({fromTs:Int64})'), (base.fromTs = Math.floor(fromTs)));
    if (toTs !== undefined) (filters.push('ts <= fromUnixTimestamp64Milli({toTs:Int64})'), (base.toTs = Math.floor(toTs)));
    if (toSeq !== undefined) (filters.push('seq <= {toSeq:Int64}'), (base.toSeq = Math.floor(toSeq)));
    let remaining = limit === undefined ? Infinity : Math.max(0, Math.floor(limit));
    if (remaining === 0) return;
    const tabIds = opts.tabId
      ? [opts.tabId]
      : (await driver.query<{ tab_id: string }>(
          `SELECT DISTINCT tab_id FROM ${db}.events WHERE project_id = {p:String} AND session_id = {s:String} ORDER BY tab_id`, base,
        )).map((r) => r.tab_id);
    for (const tabId of tabIds) {
      let after = Math.max(-1, Math.floor(finiteOrUndefined(opts.fromSeq) ?? 0) - 1);
      while (remaining > 0) {
        const n = Math.min(EVENT_PAGE, remaining);
        const page: string[] = [];
        // TabSeparatedRaw writes `data` unescaped: the stored JSON comes out byte for byte (JSON has no
        // raw tab or newline, so the line and the tab after seq are unambiguous).
        for await (const line of driver.queryLines(
          `SELECT seq, data FROM ${db}.events
           WHERE project_id = {p:String} AND session_id = {s:String} AND tab_id = {t:String} AND seq > {after:Int64}
           ${filters.map((f) => `AND ${f}`).join(' ')}
           ORDER BY seq LIMIT 1 BY seq LIMIT {n:UInt32}`,
          { ...base, t: tabId, after, n },
          'TabSeparatedRaw',
        )) page.push(line);
        for (const line of page) {
          const tab = line.indexOf('\t');
          after = Number(line.slice(0, tab));
          yield line.slice(tab + 1);
        }
        remaining -= page.length;
        if (page.length < n) break;
      }
      if (remaining <= 0) return;
    }
  }

  /** Keyframes are few (one per checkout): one small primary-key range read per session. */
  async function getKeyframes(projectId: string, sessionId: string, tabId?: string): Promise<Keyframe[]> {
    const rows = await driver.query<Raw>(
      keyframesSql(`project_id = {p:String} AND session_id = {s:String} ${tabId ? 'AND tab_id = {t:String}' : ''}`),
      { p: projectId, s: sessionId, ...(tabId ? { t: tabId } : {}) },
    );
    return rows.map((k): Keyframe => ({
      tabId: text(k.tab_id), seq: num(k.seq), ts: num(k.ts_ms), metaSeq: num(k.meta_seq), metaTs: num(k.meta_ts_ms),
    }));
  }

  /** A panel's rows: asked by the session page after its first frame, so a background read (QueryOptions). */
  function panel<T>(table: string, columns: string, map: (r: Raw) => T) {
    return async (projectId: string, sessionId: string, opts: ReadOptions = {}): Promise<T[]> => {
      const rows = await driver.query<Raw>(
        `SELECT tab_id, seq, toUnixTimestamp64Milli(ts) AS ts_ms, ${columns} FROM ${db}.${table}
         WHERE project_id = {p:String} AND session_id = {s:String}
         ORDER BY ts, tab_id, seq LIMIT 1 BY tab_id, seq LIMIT {n:UInt32}`,
        { p: projectId, s: sessionId, n: MAX_PANEL_ROWS },
        { background: true, signal: opts.signal },
      );
      return rows.map(map);
    };
  }

  const getConsole = panel<ConsoleEntry>('console_logs', 'level, message, trace', (r) => ({
    tabId: text(r.tab_id), seq: num(r.seq), ts: num(r.ts_ms), level: text(r.level), message: text(r.message), trace: text(r.trace),
  }));
  const getNetwork = panel<NetworkEntry>(
    'network_requests', 'kind, method, url, status, duration_ms, request_bytes, response_bytes, error',
    (r) => ({
      tabId: text(r.tab_id), seq: num(r.seq), ts: num(r.ts_ms), kind: text(r.kind), method: text(r.method), url: text(r.url),
      status: num(r.status), durationMs: num(r.duration_ms), requestBytes: num(r.request_bytes),
      responseBytes: num(r.response_bytes), error: text(r.error),
    }),
  );
  const getErrors = panel<ErrorEntry>('errors', 'kind, name, message, stack, source, line, column', (r) => ({
    tabId: text(r.tab_id), seq: num(r.seq), ts: num(r.ts_ms), kind: text(r.kind), name: text(r.name), message: text(r.message),
    stack: text(r.stack), source: text(r.source), line: num(r.line), column: num(r.column),
  }));

  const { listSessions, sessionStats } = createSearch(driver, db);
  const { getTimeline } = createTimelineReader(driver, db);

  return { listSessions, sessionStats, getSession, getTabsAndKeyframes, getSessionSummaryAndPages, latestSessionOfVisitor, streamEvents, getKeyframes, getTimeline, getConsole, getNetwork, getErrors };
}
