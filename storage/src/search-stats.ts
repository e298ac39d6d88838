import type { SessionDayStats, SessionStatsQuery, SessionStatsResponse } from '@tandem/protocol';
import { buildFilters, CHILD_SLACK_MS, type Filters } from './search-filters.js';
import { dayIn, dayRange, num, type Raw, text } from './search-rows.js';
import type { Driver } from './types.js';

/**
 * The sessions page's per-day chart (sessions, sessions with errors, errors per calendar day), over the
 * same tables and filters as the list (search.ts). `byKeys`: the attribute tables may answer (as for the list).
 */
export function createSessionStats(driver: Driver, db: string, byKeys: boolean) {
  const SS = `${db}.session_search`;
  const SA = `${db}.session_attrs`;

  /**
   * The per-day counts without FINAL over the delta rows: sessions from `session_attrs` (one row per session;
   * FINAL keeps its newest version, so the attribute terms are exact), errors from the delta rows that have
   * errors (a few percent; sums and "has errors" are exact on deltas, which never subtract). FINAL over
   * every delta of the range cost ~0.5 s at 1M sessions. Skip indexes are off for the FINAL read: one could
   * drop the granule of a newer version and leave an older one standing in for the session.
   */
  async function statsByAttrs(f: Filters): Promise<Raw[]> {
    const attrWhere = [...f.bounds, ...f.children, ...f.attr];
    const day = 'toString(toDate(started_at, {tz:String}))';
    const settings = 'SETTINGS use_skip_indexes_if_final = 0, join_use_nulls = 0';
    /** The delta rows with errors in the range (a few percent of them). */
    const errorRows = [...f.bounds, 'error_count > 0'].join(' AND ');
    if (attrWhere.length > f.bounds.length) {
      // Attribute or child terms: the matching sessions joined with the error totals of the sessions that have
      // errors (a hash table of a few percent of the sessions). Measured at 1M sessions (CPU ms, unmerged):
      // Safari + errors 241 this way, 1,382 with the two halves below (an IN set of every Safari session).
      return driver.query<Raw>(
        `SELECT day, count() AS sessions, countIf(errs > 0) AS with_errors, sum(errs) AS errors FROM (
           SELECT ${day.replace('started_at', 'a.started_at')} AS day, e.errs AS errs
           FROM (SELECT started_at, session_id FROM ${SA} FINAL WHERE ${attrWhere.join(' AND ')}) AS a
           LEFT JOIN (SELECT started_at, session_id, sum(error_count) AS errs FROM ${SS}
                      WHERE ${errorRows} GROUP BY started_at, session_id) AS e
           USING (started_at, session_id)
           ${f.errors ? 'WHERE errs > 0' : ''})
         GROUP BY day ORDER BY day ${settings}`,
        f.params,
      );
    }
    // Only the time range (and errors): sessions per day and errors per day apart, no join (all days: 205 ms
    // CPU this way, 398 joined).
    const withErrors = `SELECT started_at, session_id FROM ${SS} WHERE ${errorRows}`;
    return driver.query<Raw>(
      `SELECT day, sum(sessions) AS sessions, sum(with_errors) AS with_errors, sum(errors) AS errors FROM (
         SELECT ${day} AS day, count() AS sessions, toUInt64(0) AS with_errors, toUInt64(0) AS errors
         FROM ${SA} FINAL WHERE ${[...attrWhere, ...(f.errors ? [`(started_at, session_id) IN (${withErrors})`] : [])].join(' AND ')}
         GROUP BY day
         UNION ALL
         SELECT ${day} AS day, toUInt64(0) AS sessions, toUInt64(uniqExact(session_id)) AS with_errors, toUInt64(sum(error_count)) AS errors
         FROM ${SS} WHERE ${errorRows}
         GROUP BY day)
       GROUP BY day ORDER BY day ${settings}`,
      f.params,
    );
  }

  /** Sessions, sessions with errors and errors per calendar day of `tz`, every day of the range filled. */
  async function sessionStats(projectId: string, query: SessionStatsQuery): Promise<SessionStatsResponse> {
    const tz = query.tz || 'UTC';
    const f = buildFilters(db, projectId, query);
    f.params.tz = tz;
    f.params.childFrom = Math.floor(f.from ?? 0) - CHILD_SLACK_MS;
    const rows = byKeys && f.attrExact && f.durations.length === 0
      ? await statsByAttrs(f)
      : await driver.query<Raw>(
        `SELECT toString(toDate(started_at, {tz:String})) AS day, count() AS sessions,
                countIf(error_count > 0) AS with_errors, sum(error_count) AS errors
         FROM ${SS} FINAL WHERE ${f.where.join(' AND ')}
         GROUP BY day ORDER BY day`,
        f.params,
      );
    const found = new Map(rows.map((r) => [text(r.day), r]));
    const first = f.from !== undefined ? dayIn(f.from, tz) : rows[0] ? text(rows[0].day) : dayIn(Date.now(), tz);
    const last = dayIn(Math.min(f.to ?? Date.now(), Date.now()), tz);
    const days: SessionDayStats[] = [];
    for (const day of dayRange(first, last > first ? last : first)) {
      const r = found.get(day);
      days.push({ day, sessions: num(r?.sessions), sessionsWithErrors: num(r?.with_errors), errors: num(r?.errors) });
    }
    return { days, tz };
  }

  return sessionStats;
}
