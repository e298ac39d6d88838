import type { SessionStatsQuery } from '@tandem/protocol';
import { ATTR_TEXT_COLUMNS } from './session-attrs.js';
import { clean, finite } from './search-rows.js';

/** The search's filters as SQL terms for each step of the reader (search.ts). */

/**
 * How far a session's first event may precede its start without the row-level duration term (`reach`) missing it.
 * The start is the server's clock at the session's start, event times are the page's clock: a minute covers
 * ordinary clock skew; a session whose first event is earlier still passes by the term's second branch.
 */
const CLOCK_SLACK_MS = 60_000;
/**
 * "duration ≥ X" as a term on one delta row, a superset of the sessions whose merged duration (last − first event,
 * over every delta) is ≥ X: every delta carries the session's start S. If the first event F ≥ S − slack, the delta
 * holding the last event L has L ≥ F + X ≥ S + X − slack (first branch); otherwise the delta holding F has
 * F < S − slack (second branch). So no grouping of every delta of a session is needed to find candidates; the
 * re-check on merged values is exact. (Last session's row-level form, `last − first` of one delta, was not a
 * superset: a writer that loaded the session late carries its own first event.)
 */
const REACH = `(toUnixTimestamp64Milli(last_event_at) >= toUnixTimestamp64Milli(started_at) + toInt64({minDuration:UInt64}) - ${CLOCK_SLACK_MS}
  OR toUnixTimestamp64Milli(first_event_at) < toUnixTimestamp64Milli(started_at) - ${CLOCK_SLACK_MS})`;

/** `duration_ms` (an ALIAS over merged values, session-totals.ts) computed over a group of delta rows. */
const GROUP_DURATION = `toUInt64(ifNull(greatest(0, toUnixTimestamp64Milli(max(last_event_at)) - toUnixTimestamp64Milli(min(first_event_at))), 0))`;

/** Child rows are written after their session starts; a day of slack covers clocks of imported sessions. */
export const CHILD_SLACK_MS = 86_400_000;

export interface Filters {
  where: string[];
  /** Project, time range and cursor: exact on every table keyed by (project_id, started_at, session_id). */
  bounds: string[];
  /** Child-table terms (`session_id IN (...)`): exact on any row of a session. */
  children: string[];
  /**
   * Terms over `session_attrs` (migration 10, one row per session): a superset of the sessions whose merged
   * values match (any version of the row may match; the candidates are re-checked on merged values).
   */
  attr: string[];
  /** Whether `attr` is exact on the newest version of a session's row (URL and free text match titles too). */
  attrExact: boolean;
  /** hasErrors: some delta row has errors (deltas never subtract, so exact per row). */
  errors: boolean;
  /** Duration terms over a group of delta rows (GROUP_DURATION): they need every delta of a session. */
  durations: string[];
  /** maxDuration is set: a term that more delta rows can make fail, so grouping by start alone is no superset. */
  hasMaxDuration: boolean;
  /** minDuration as a term on ONE delta row that some delta of every matching session passes (REACH): a superset. */
  reach?: string;
  /**
   * Key-table forms (migration 15, search-keys.ts) of the terms that have one: `FROM table WHERE …`, selecting
   * (started_at, session_id) once the step's bounds are added. `allKeyed`: every attribute and child term has one.
   */
  keyed: string[];
  allKeyed: boolean;
  /**
   * Free text as the only attribute term (no child terms): its key sources apart, `FROM table WHERE …` each (once the
   * step's bounds are added), whose union is the same superset as the OR over `session_attrs` (see search.ts): `keyed`,
   * the text tables read by primary key (the visited and landing pages, page_keys; the user id, browser, OS and device,
   * attr_keys, migration 20), `ids` (bloom filters), and `scan`, session_attrs' text columns read row by row (only
   * with TANDEM_SEARCH_ATTR_KEYS=0, where attr_keys is not a source: A/B measurements). A key table is read for the
   * texts of its texts table that contain the needle; `texts`, once matched (search-texts.ts), holds them per table.
   */
  textKeys?: { keyed: { keys: string; texts: string }[]; ids: string; scan?: string; texts?: string[][] };
  /**
   * The query is browser/OS/device terms with errors or durations and nothing else (no user id, URL, free text or
   * child terms): its keys may come from `session_facets` (migration 16, session-facets.ts). `where`: key ranges over
   * the lower-cased attributes ('' too: deltas written before the start was known); `having`: each session's merged
   * facts (max/min over its rows grouped by (started_at, sid)), exact: errors, durations and the attributes (a row
   * read holds a match or '' for each attribute, so "some row is not ''" is "the merged value matches").
   */
  facets?: { where: string[]; having: string[] };
  /** The attribute terms are selective (a user id, free text): their keys are few, a primary-key IN set pays. */
  attrSelective: boolean;
  /**
   * The terms the merged (FINAL) rows of candidate keys are checked against: the row terms (child
   * subqueries in them bounded to the candidates' ids, `{kIds}`) and durations. Key terms are exact on
   * delta rows already: checking them again would only re-read child tables.
   */
  recheck: string[];
  /**
   * The URL filter's keys come from `url_keys` (migration 18): `keyed[0]` is its form, whose rows say whether the key's
   * session visited a matching URL (`max(visit)`), and `recheckKeyed` is `recheck` with the URL term checking those
   * sessions' ids (`{kVisited}`) instead of looking them up in `page_visits`. Used when the keys come from the key tables.
   */
  urlKeys: boolean;
  recheckKeyed: string[];
  params: Record<string, unknown>;
  from?: number;
  to?: number;
}

/** The URL filter's keys from url_keys (Filters.urlKeys); TANDEM_SEARCH_URLKEYS=0 turns it off (A/B measurements). */
const urlKeysOn = () => process.env.TANDEM_SEARCH_URLKEYS !== '0';
/** Free text's key sources read apart (Filters.textKeys); TANDEM_SEARCH_QUNION=0 turns it off (A/B measurements). */
const textKeysOn = () => process.env.TANDEM_SEARCH_QUNION !== '0';
/** Free text's attribute keys from attr_keys (migration 20); TANDEM_SEARCH_ATTR_KEYS=0 scans session_attrs (A/B). */
const attrKeysOn = () => process.env.TANDEM_SEARCH_ATTR_KEYS !== '0';

/** Where a child subquery gets its extra bound: none in the key step, the candidates' ids in the re-check. */
export const KEYS = '$KEYS';
export const unbounded = (term: string) => term.split(KEYS).join('');
export const toCandidates = (term: string) => term.split(KEYS).join('AND session_id IN {kIds:Array(String)}');

/**
 * WHERE terms for every filter of the query, over `session_search` (merged values: the stats and the
 * re-check) and over `session_attrs` (the key step). User input only ever travels as bound parameters.
 * Child subqueries read `{childFrom:Int64}` (set per window).
 */
export function buildFilters(db: string, projectId: string, query: SessionStatsQuery): Filters {
  const params: Record<string, unknown> = { p: projectId, childFrom: 0 };
  const where = ['project_id = {p:String}'];
  const bounds = ['project_id = {p:String}'];
  const children: string[] = [];
  const attr: string[] = [];
  const durations: string[] = [];
  const recheck: string[] = [];
  const bound = (term: string) => (where.push(term), bounds.push(term));
  const child = (term: string) => (where.push(unbounded(term)), children.push(unbounded(term)));
  /** A filter on merged columns, with its superset form on `session_attrs` (none: counters only). */
  const row = (bounded: string, attrTerm?: string) => {
    (where.push(unbounded(bounded)), recheck.push(toCandidates(bounded)));
    if (attrTerm) attr.push(attrTerm);
  };
  const from = finite(query.from);
  const to = finite(query.to);
  const childFrom = `received_at >= toDateTime(intDiv(greatest({childFrom:Int64}, 0), 1000), 'UTC')`;
  const childIn = (table: string, condition: string) =>
    `session_id IN (SELECT session_id FROM ${db}.${table} WHERE project_id = {p:String} AND ${childFrom} ${KEYS} AND ${condition})`;
  /**
   * Sessions that visited a page whose URL or title contains the needle: the needle is matched against the
   * project's distinct page texts (page_texts), the sessions read by primary key (page_sessions).
   */
  const visited = (param: string) =>
    `session_id IN (SELECT session_id FROM ${db}.page_sessions WHERE project_id = {p:String} AND ${childFrom} ${KEYS}
       AND text IN (SELECT text FROM ${db}.page_texts WHERE project_id = {p:String} AND ${has('text', param)}))`;
  const has = (column: string, param: string) => `positionCaseInsensitiveUTF8(${column}, {${param}:String}) > 0`;
  /** The keys of sessions that visited (or landed on) a page whose URL or title contains the needle. */
  const pageKeys = (param: string) => `FROM ${db}.page_keys WHERE text IN (SELECT text FROM ${db}.page_texts WHERE project_id = {p:String} AND ${has('text', param)})`;
  const keyed: string[] = [];
  let unkeyed = 0;
  // Terms session_facets cannot answer (all but browser/OS/device, counters and bounds), and its terms.
  let unfaceted = 0;
  const facetWhere: string[] = [];
  const facetHaving: string[] = [];

  if (from !== undefined) (bound('started_at >= fromUnixTimestamp64Milli({from:Int64})'), (params.from = Math.floor(from)));
  if (to !== undefined) (bound('started_at <= fromUnixTimestamp64Milli({to:Int64})'), (params.to = Math.floor(to)));
  const userId = clean(query.userId);
  if (userId) (row('user_id = {userId:String}', 'user_id = {userId:String}'), (params.userId = userId), unkeyed++, unfaceted++);
  const url = clean(query.url);
  const urlKeys = !!url && urlKeysOn();
  let urlRecheck: [string, string] | undefined;
  if (url) {
    params.url = url;
    unfaceted++;
    // The exit URL is always a visited page's (the writer sets it only with a page visit): `visited` finds it.
    const term = `(${has('first_url', 'url')} OR ${has('last_url', 'url')} OR ${childIn('page_visits', has('url', 'url'))})`;
    row(term, `(${has('first_url', 'url')} OR ${unbounded(visited('url'))})`);
    // url_keys holds URLs only, so the needle's distinct texts (titles among them) pick exactly the matching URLs' keys.
    keyed.push(urlKeys ? `FROM ${db}.url_keys WHERE url IN (SELECT text FROM ${db}.page_texts WHERE project_id = {p:String} AND ${has('text', 'url')})`
      : pageKeys('url'));
    if (urlKeys) urlRecheck = [toCandidates(term), `(${has('first_url', 'url')} OR ${has('last_url', 'url')} OR session_id IN {kVisited:Array(String)})`];
  }
  const q = clean(query.q);
  let textKeys: Filters['textKeys'];
  if (q) {
    params.q = q;
    unfaceted++;
    const exact = 'session_id = {q:String} OR visitor_id = {q:String}';
    // On session_attrs as `lowerUTF8(col) LIKE '%q%'`, which its n-gram indexes answer (migration 12): a needle no
    // session holds skips every granule. The same match as positionCaseInsensitiveUTF8 but for rare Unicode case
    // pairs JavaScript and ClickHouse lower differently.
    params.qLike = `%${q.toLowerCase().replace(/[\\%_]/g, '\\$&')}%`;
    // The landing URL is a page key too (migration 15): its sessions come from page_keys by text, so the key step
    // no longer lower-cases and matches 1M landing URLs. `session_id IN` rather than a key IN: the session id bloom
    // filter answers it, so the OR still prunes granules with the n-gram indexes (a needle nobody has).
    const byKeys = process.env.TANDEM_SEARCH_QKEYS !== '0';
    const columns = byKeys ? ATTR_TEXT_COLUMNS.filter((c) => c !== 'first_url') : ATTR_TEXT_COLUMNS;
    const pages = byKeys ? `session_id IN (SELECT session_id ${pageKeys('q')} AND project_id = {p:String}
      AND started_at >= fromUnixTimestamp64Milli({childFrom:Int64}))` : unbounded(visited('q'));
    const likes = columns.map((c) => `lowerUTF8(${c}) LIKE {qLike:String}`).join(' OR ');
    row(`(${['user_id', 'first_url', 'last_url', 'browser', 'os', 'device'].map((c) => has(c, 'q')).join(' OR ')} OR ${exact})`,
      `(${likes} OR ${exact} OR ${pages})`);
    unkeyed++;
    // The OR's branches as separate reads: the text columns (every row's user id and the low-cardinality columns), the
    // ids (their bloom filters prune all but a granule or two: in the OR they read 1M session and visitor ids), and the
    // visited and landing pages by primary key.
    // With attr_keys (migration 20), the text columns' values are matched among their distinct values (attr_texts) and
    // their keys read by primary key, like the pages': no read of every session_attrs row (search-attr-keys.ts).
    if (byKeys && textKeysOn()) {
      const attrKeys = attrKeysOn() ? [{ keys: `${db}.attr_keys`, texts: `${db}.attr_texts` }] : [];
      textKeys = { keyed: [{ keys: `${db}.page_keys`, texts: `${db}.page_texts` }, ...attrKeys], ids: `FROM ${db}.session_attrs WHERE (${exact})`,
        ...(attrKeys.length ? {} : { scan: `FROM ${db}.session_attrs WHERE (${likes})` }) };
    }
  }
  // Deltas never subtract, so a session has errors exactly when one of its deltas has.
  if (query.hasErrors) row('error_count > 0');
  const minDuration = finite(query.minDuration);
  if (minDuration !== undefined && minDuration > 0) {
    (where.push('duration_ms >= {minDuration:UInt64}'), recheck.push('duration_ms >= {minDuration:UInt64}'), durations.push(`${GROUP_DURATION} >= {minDuration:UInt64}`), (params.minDuration = Math.floor(minDuration)));
  }
  const maxDuration = finite(query.maxDuration);
  if (maxDuration !== undefined && maxDuration >= 0) {
    (where.push('duration_ms <= {maxDuration:UInt64}'), recheck.push('duration_ms <= {maxDuration:UInt64}'), durations.push(`${GROUP_DURATION} <= {maxDuration:UInt64}`), (params.maxDuration = Math.floor(maxDuration)));
  }
  for (const field of ['browser', 'os', 'device'] as const) {
    const value = clean(query[field]);
    // A prefix, so `Windows` finds `Windows 10` (the OS is stored with its version). LowCardinality
    // columns: lower() runs once per distinct value, not per row.
    const term = `startsWith(lower(${field}), lower({${field}:String}))`;
    if (value) (row(term, term), (params[field] = value), unkeyed++);
    // session_facets stores the attributes lower-cased and keyed by them: the prefix is a primary-key range.
    // A session matches when one of its rows read has the attribute: they all hold a match or '' for each one (a
    // comparison per row where `startsWith(max(…))` took the max of strings: 26 → 18 ms CPU for Samsung's key step).
    if (value) (facetWhere.push(`(startsWith(${field}, lower({${field}:String})) OR ${field} = '')`), facetHaving.push(`max(${field} != '')`));
  }
  const consoleText = clean(query.console);
  if (consoleText) (child(childIn('console_logs', has('message', 'console'))), (params.console = consoleText), unkeyed++, unfaceted++);
  const event = clean(query.event);
  // A name's sessions are one primary-key range of event_sessions (migration 14; names stored lower-cased).
  if (event) {
    unfaceted++;
    (child(childIn('event_sessions', 'name = lower({event:String})')), (params.event = event));
    keyed.push(`FROM ${db}.event_keys WHERE name = lower({event:String})`);
  }
  const page = clean(query.page);
  if (page) (child(visited('page')), (params.page = page), keyed.push(pageKeys('page')), unfaceted++);
  const counters = !!query.hasErrors || durations.length > 0;
  const facets = counters && facetWhere.length > 0 && unfaceted === 0 ? {
    where: facetWhere,
    having: [...facetHaving, ...(query.hasErrors ? ['max(errors) > 0'] : []), ...durations],
  } : undefined;
  return { where, bounds, children, attr, attrExact: !url && !q, errors: !!query.hasErrors, durations, hasMaxDuration: 'maxDuration' in params,
    keyed, allKeyed: unkeyed === 0 && keyed.length > 0, textKeys: textKeys && attr.length === 1 && children.length === 0 ? textKeys : undefined,
    reach: 'minDuration' in params ? REACH : undefined, facets, attrSelective: !!userId || !!q, recheck,
    urlKeys, recheckKeyed: recheck.map((t) => (urlRecheck && t === urlRecheck[0] ? urlRecheck[1] : t)), params, from, to };
}
