import { TandemError } from '@tandem/protocol';
import type { SessionListResponse, SessionQuery } from '@tandem/protocol';
import { decodeCursor, encodeCursor } from './encode.js';
import { buildFilters, CHILD_SLACK_MS, type Filters } from './search-filters.js';
import { finite, type Raw, SUMMARY_COLUMNS, text, toSummary } from './search-rows.js';
import { createEstimates, createSpanMemory } from './search-estimates.js';
import { createSessionStats } from './search-stats.js';
import {
  CURSOR_TERM, FIRST_WINDOW, MAX_WINDOW, createWindowEstimates, facetBounds, facetRowLimits, facetsOn, keyedWholeOn, nextSpan, rememberedFirstSpan, spanNeeded,
} from './search-windows.js';
import { fewTextKeys, resolveTexts, textKeySources, textWholeOn } from './search-texts.js';
import type { Driver } from './types.js';

/**
 * The sessions list search and its per-day counts, over `session_search` (migration 4: a copy of
 * `sessions` ordered by (project_id, started_at, session_id), kept by a materialized view) and, for the
 * list's candidate keys, `session_attrs` and the visited-page tables (migration 10, session-attrs.ts).
 *
 * Why windows: the list is "the newest N sessions that match". Ordered by start, a query bounded to a
 * time window reads only that window's granules, and FINAL (needed: each flush writes a new version of
 * a session) merges only them. So the reader asks the last day first and goes further back only while
 * the page is not full, sizing the next window from the matches seen so far (`nextSpan`): common
 * filters finish in the first window, rare ones pay for the whole table once (windows do not overlap).
 * Measured in bench/src/search.ts.
 *
 * Filters on child tables (console text, custom event name, visited page) are `session_id IN (...)`
 * subqueries. Those tables are partitioned by the day of `received_at` (the server clock when a row
 * was written), which is never before the session's start (also the server clock), so a window's
 * lower bound prunes their partitions too (with a day of slack for imported sessions whose start
 * came from their own events' clock).
 */

/** listSessions page size: 50 by default, 200 at most, so one request stays cheap at any table size. */
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 200;
export interface SearchOptions {
  /**
   * Find matching keys without FINAL first (only the filter columns are read), then read and re-check
   * the newest version of just those rows with FINAL. Same results; measured by bench/src/search.ts.
   */
  prefilter?: boolean;
  /**
   * Newest keys first (default on): per window, the newest N candidate keys (from session_attrs, or a
   * GROUP BY (started_at, session_id) over the delta rows for counter filters); FINAL then reads and
   * merges just those sessions (their keys). FINAL over an AggregatingMergeTree merges
   * every column of every row in the window, which made "newest 50" several times slower after
   * migration 6. Off: FINAL over the window as before (scripts/measure-list.ts compares both).
   */
  candidates?: boolean;
}

/**
 * The lowest pass rate a round's key count is sized by: a filter whose candidates mostly fail the re-check
 * still checks at most 10× the rows it needs per round (each key checked costs granules of every part).
 */
const MIN_PASS_RATE = 0.1;
/**
 * Free text's first re-check also takes the next keys (up to as many again) that started within this span of the last
 * one it needed: they lie in the same or the next granules (~1,400 sessions an hour at 1M a month, 256 rows a granule),
 * so they cost little, and a common needle's candidates (sessions that visited a page matching: only a landing or exit
 * URL makes them a match) pass at ~1 in 2, which took a second round (a key step and a re-check) before.
 */
const NEAR_MS = 15 * 60_000;
/**
 * The re-check reads a granule per key and part, a few dozen at most: one thread does it faster than two (a second
 * thread's pipeline and readers cost more than they share). Merged, 50 newest keys: 20 → 13 ms; 50 keys spread over
 * the table: 38 → 32 ms (best of 9, load ~8). It reads those granules through mmap: a few thousand small reads
 * (keys × parts × 22 columns) cost a read syscall each otherwise. CPU ms per call, median of 6 interleaved, same rows:
 * merged (load 20–27) URL rare 110 → 93, event rare 50 → 44, page rare 63 → 56, newest 36 → 29; unmerged (load
 * 14–18) event rare 74 → 60, page rare 92 → 75, q "user-4242" 157 → 135. TANDEM_RECHECK_MMAP=0 turns it off.
 */
const recheckSettings = () => {
  const settings = [...(process.env.TANDEM_RECHECK_MT === '2' ? [] : ['max_threads = 1']),
    ...(process.env.TANDEM_RECHECK_MMAP === '0' ? [] : ["local_filesystem_read_method = 'mmap'", 'min_bytes_to_use_mmap_io = 1'])];
  return settings.length ? `\n         SETTINGS ${settings.join(', ')}` : '';
};
/** The row-level duration superset (Filters.reach) is used; TANDEM_SEARCH_REACH=0 turns it off (A/B measurements). */
const reachOn = () => process.env.TANDEM_SEARCH_REACH !== '0';
/** Keys from the key tables (Filters.allKeyed, migration 15); TANDEM_SEARCH_KEYED=0 turns it off (A/B measurements). */
const keyedOn = () => process.env.TANDEM_SEARCH_KEYED !== '0';
/**
 * The key steps that read a window's rows (free text's sources, session_attrs' attribute keys, a duration's delta rows
 * grouped by key) also run on one thread through mmap, like the re-check. CPU ms per call, median of 8 interleaved
 * (load ~10, unmerged): q "user-4242" 121 → 104, q "shoes" 139 → 115, q no match 32 → 26, duration 60–120 s 63 → 56,
 * iOS + mobile 32 → 25; wall medians of 10 no worse (q "user-4242" 77 → 70, duration 60–120 s 63 → 54). Within noise for
 * the counter supersets and key tables, which keep the defaults. TANDEM_SEARCH_KEY_1T=0 turns it off (A/B measurements).
 */
const keySettings = () => (process.env.TANDEM_SEARCH_KEY_1T === '0' ? ''
  : "\n           SETTINGS max_threads = 1, local_filesystem_read_method = 'mmap', min_bytes_to_use_mmap_io = 1");
/** A candidate key: a session's start (ms) and id (no id when counter filters group by start alone). */
type Key = { s_ms: number | string; session_id?: string; visited?: number | string };

export function createSearch(driver: Driver, db: string, opts: SearchOptions = {}) {
  const SS = `${db}.session_search`;
  const SA = `${db}.session_attrs`;
  // The prefilter is the older variant of the same idea (kept for bench/src/search.ts): it implies FINAL over the window.
  const byKeys = opts.candidates ?? (!opts.prefilter && process.env.TANDEM_SEARCH_CANDIDATES !== '0');
  const { facetEstimate, fewKeys } = createWindowEstimates(createEstimates(driver), db);
  const spans = createSpanMemory();
  async function listSessions(projectId: string, query: SessionQuery): Promise<SessionListResponse> {
    const f = buildFilters(db, projectId, query);
    let upper = f.to;
    if (query.cursor) {
      const c = decodeCursor(query.cursor);
      if (!c) throw new TandemError('bad_request', 'cursor is malformed');
      f.where.push(CURSOR_TERM);
      f.bounds.push(CURSOR_TERM);
      f.params.cTs = Math.floor(c.startedAt);
      f.params.cId = c.sessionId;
      upper = upper === undefined ? c.startedAt : Math.min(upper, c.startedAt);
    }
    const limit = Math.min(MAX_LIMIT, Math.max(1, Math.floor(finite(query.limit) ?? DEFAULT_LIMIT)));
    const want = limit + 1; // one more than asked tells whether there is a next page
    // Windows back from the newest bound; a session cannot start after the server's now (its start is
    // the server clock), but a second of margin keeps one that started during this call.
    const anchor = upper ?? Date.now() + 1000;
    const rows: Raw[] = [];
    let hi: number | undefined; // exclusive upper bound of the next window (undefined: none beyond `upper`)
    // A browser/OS/device with counters: its keys from session_facets, the first window sized by the index (facetSpan).
    const { FACET_WINDOW_ROWS, FACET_SWITCH_ROWS } = facetRowLimits();
    const facetRows = f.facets && byKeys && facetsOn() ? await facetEstimate(f, anchor, upper === undefined) : undefined;
    if (facetRows === undefined || (facetRows > FACET_WINDOW_ROWS && process.env.TANDEM_SEARCH_FACET_SPANS === '0')) f.facets = undefined;
    // Few rows: all of them in one window (the first a day otherwise, like the delta rows' path).
    let span = f.facets && facetRows! <= FACET_WINDOW_ROWS ? MAX_WINDOW : FIRST_WINDOW;
    if (byKeys && f.allKeyed && keyedOn() && !f.errors && !f.durations.length && keyedWholeOn() && await fewKeys(f)) span = Infinity;
    // The span the same query needed within the last minute (createSpanMemory) shapes its first window; not with a
    // cursor or an upper bound (another anchor).
    const spanKey = byKeys && !query.cursor && f.to === undefined ? JSON.stringify([projectId, query, limit]) : undefined;
    const known = spanKey === undefined ? undefined : spans.get(spanKey);
    // Free text: its texts matched once (search-texts.ts); read by primary key alone and few keys over the whole range,
    // one window (fewTextKeys).
    const textAlone = byKeys && !!f.textKeys && !f.errors && !f.durations.length;
    if (textAlone) await resolveTexts(driver, f);
    if (textAlone && !f.textKeys!.scan && known === undefined && span === FIRST_WINDOW && textWholeOn() && await fewTextKeys(driver, f)) span = Infinity;
    const first = rememberedFirstSpan(span, known, f.facets ? { rows: facetRows!, switchRows: FACET_SWITCH_ROWS, hasMaxDuration: f.hasMaxDuration } : undefined);
    span = first.span;
    if (first.dropFacets) f.facets = undefined;
    // Candidate keys of newer windows not re-checked yet (see newestByKeys), and how many keys the windows gave.
    let carry: Key[] = [];
    let candidates = 0;
    for (;;) {
      let lo: number | undefined = span === Infinity ? undefined : (hi ?? anchor) - span;
      if (f.from !== undefined && (lo === undefined || lo <= f.from)) lo = undefined; // `from` bounds it already
      const windowTerms: string[] = [];
      const params: Record<string, unknown> = { ...f.params, n: want - rows.length };
      if (lo !== undefined) (windowTerms.push('started_at >= fromUnixTimestamp64Milli({lo:Int64})'), (params.lo = Math.floor(lo)));
      if (hi !== undefined) (windowTerms.push('started_at < fromUnixTimestamp64Milli({hi:Int64})'), (params.hi = Math.floor(hi)));
      params.childFrom = Math.floor(lo ?? f.from ?? 0) - CHILD_SLACK_MS;
      const before = rows.length + candidates;
      if (byKeys) {
        const got = await newestByKeys(f, windowTerms, params, want - rows.length, carry, lo === undefined);
        rows.push(...got.rows);
        carry = got.carry;
        candidates = carry.length;
      } else {
        const where = [...f.where, ...windowTerms];
        // FINAL reads every selected column of every row before it can apply WHERE (a filter must see the
        // newest version only). The prefilter finds candidate keys from the filter columns alone, so the
        // FINAL read touches only the granules holding them; the same WHERE then runs on newest versions.
        const keys = (opts.prefilter ?? process.env.TANDEM_SEARCH_PREFILTER === '1') && where.length > 1
          ? [`(started_at, session_id) IN (SELECT started_at, session_id FROM ${SS} WHERE ${where.join(' AND ')})`]
          : [];
        rows.push(...(await driver.query<Raw>(
          `SELECT ${SUMMARY_COLUMNS} FROM ${SS} FINAL WHERE ${[...where, ...keys].join(' AND ')}
           ORDER BY started_at DESC, session_id DESC LIMIT {n:UInt32}`,
          params,
        )));
      }
      if (rows.length >= want || lo === undefined) {
        // Full, or that window reached the oldest allowed: how far back this page needed, from the rows, not the
        // windows read (a needle grown dense since is remembered by the short span it now needs).
        if (spanKey !== undefined) spans.set(spanKey, spanNeeded(anchor, rows.length >= want ? Number(rows[want - 1].started_ms) : undefined));
        break;
      }
      // Sized from everything covered so far (the last window alone made a page that cannot be filled crawl
      // back a day at a time, forever); a window that found nothing new means the rest is sparse: one scan.
      // Keys carried unchecked count as matches here (a superset: most of them pass).
      span = rows.length + candidates === before ? Infinity : nextSpan(anchor - lo, rows.length + candidates, want);
      // A common browser/OS/device (read a day first) whose next window would hold more than FACET_SWITCH_ROWS facet
      // rows (by the 35-day estimate): the rest by the delta rows' row-level superset, which reads 4 narrow columns and groups only rows
      // with errors or a long reach (Chrome's 35 days of facets grouped: ~300 ms CPU). Its keys are starts too
      // (no maximum duration), so the keys carried so far go along; with a maximum, session_facets reads on.
      if (f.facets && facetRows! > FACET_WINDOW_ROWS && !f.hasMaxDuration && span * (facetRows! / MAX_WINDOW) > FACET_SWITCH_ROWS) f.facets = undefined;
      hi = lo;
    }
    const sessions = rows.slice(0, limit).map(toSummary);
    const last = sessions[sessions.length - 1];
    return { sessions, nextCursor: rows.length > limit && last ? encodeCursor(last.startedAt, last.sessionId) : null };
  }

  /**
   * The newest starts (`started_at`) of sessions that may pass the counter filters (errors, a minimum duration),
   * grouping the delta rows by start alone. Grouped by (started_at, session_id), every selected granule also read
   * its session ids (32 bytes a row, most of the bytes) and hashed pairs; by start alone the key step reads 8-byte
   * starts and the counters (Samsung + errors + ≥ 25 min over the whole unmerged table: ~300 → ~90 ms CPU per
   * grouping form measured, docs/decisions.md). Sessions that started in the same millisecond fall into one group:
   * "has errors" and "duration ≥ X" only get truer with more rows, so a group holding a matching session passes
   * (a superset); the re-check by start (FINAL, every term and the cursor) drops the others. Not with a maximum
   * duration (more rows can make it fail), child-table terms or a URL (their re-check needs the ids).
   */
  function counterStartsSql(f: Filters, bounded: string[], attrWhere: string[]): string {
    const inAttrs = f.attr.length ? [`started_at IN (SELECT started_at FROM ${SA} WHERE ${attrWhere.join(' AND ')})`] : [];
    if (f.reach && reachOn()) {
      // Row-level terms only (errors: a delta with errors; a minimum duration: the row-level superset `reach`), the
      // few rows passing either grouped by start. The attribute set goes to HAVING unless it is selective: as a
      // primary-key `IN` over the deltas, a set of ~40k starts (a browser) cost ~100 ms CPU in index analysis alone
      // at 1M sessions; a user's few starts read a few granules instead of the window.
      const rowTerms = [...(f.errors ? ['error_count > 0'] : []), ...(f.reach ? [f.reach] : [])];
      const having = [...(f.errors ? ['max(error_count) > 0'] : []), ...(f.reach ? [`max(${f.reach})`] : []), ...(f.attrSelective ? [] : inAttrs)];
      return `SELECT toUnixTimestamp64Milli(started_at) AS s_ms FROM ${SS}
        PREWHERE ${[...bounded, `(${rowTerms.join(' OR ')})`, ...(f.attrSelective ? inAttrs : [])].join(' AND ')}
        GROUP BY started_at HAVING ${having.join(' AND ')} ORDER BY started_at DESC LIMIT {n:UInt32}`;
    }
    const having = [...(f.errors ? ['max(error_count) > 0'] : []), ...f.durations];
    // A duration needs every delta of a session: with errors, those of the starts that have a delta with errors
    // (a few percent of the rows) among the attribute matches; without, every delta of the window's matches.
    const narrow = !f.durations.length ? ['error_count > 0', ...inAttrs]
      : f.errors ? [`started_at IN (SELECT started_at FROM ${SS} WHERE ${[...bounded, 'error_count > 0', ...inAttrs].join(' AND ')})`]
        : inAttrs;
    return `SELECT toUnixTimestamp64Milli(started_at) AS s_ms FROM ${SS} PREWHERE ${[...bounded, ...narrow].join(' AND ')}
      GROUP BY started_at HAVING ${having.join(' AND ')} ORDER BY started_at DESC LIMIT {n:UInt32}`;
  }

  /**
   * The newest `need` matching sessions of one window: candidate keys first, then FINAL over those keys
   * only, with every row filter checked again on the merged values. Candidates come from `session_attrs`
   * (one row per session: a plain ordered read, bloom filters on ids) unless a counter filter (errors,
   * duration) needs the delta rows; then the deltas are grouped, narrowed to the attribute matches by key.
   * When the re-check drops candidates (an older attribute version matched), the next keys are asked for.
   */
  async function newestByKeys(f: Filters, windowTerms: string[], params: Record<string, unknown>, need: number, carried: Key[], final: boolean): Promise<{ rows: Raw[]; carry: Key[] }> {
    const out: Raw[] = [];
    let carry = carried;
    const below: string[] = [];
    const counters = f.errors || f.durations.length > 0;
    // session_facets gives starts (its rows hold a hash of the id), each one of a session that matches exactly.
    const faceted = !!f.facets;
    // Counter filters group the delta rows by start alone when that stays a superset (see counterStartsSql).
    const byStart = faceted || (counters && f.children.length === 0 && !f.hasMaxDuration && !f.recheck.some((t) => t.includes('{kIds:')))
      || (!!f.textKeys && !counters && process.env.TANDEM_SEARCH_QSTARTS !== '0');
    // Free text alone keys by start too (its re-check terms are all on merged columns). By start, a key may stand for
    // two sessions that started in the same millisecond: the re-check applies the bounds (cursor) too.
    // Keys from the key tables with a URL filter: its visited sessions come with the keys (Filters.urlKeys).
    const keyedStep = !counters && f.allKeyed && keyedOn();
    const urlVisits = keyedStep && f.urlKeys;
    const recheck = byStart ? [...f.bounds, ...f.recheck] : urlVisits ? f.recheckKeyed : f.recheck;
    const keyOf = (k: Key) => (byStart ? String(k.s_ms) : k.session_id ?? '');
    // How many re-checked keys passed so far: a round checks as many keys as that rate says it needs (a loose
    // candidate set, e.g. older attribute versions matching a common needle, took one round per few rows).
    let checkedSoFar = 0;
    let passedSoFar = 0;
    for (;;) {
      // Not on the counter path: its keys come from the deltas grouped with their counters, so few fail the
      // re-check. (A bench run with it there was slower on Samsung + errors + ≥ 25 min unmerged, p50 396 → 518
      // ms, but the next run without it was slower still, 617 ms: run-to-run noise, no evidence either way.)
      const rate = checkedSoFar > 0 && !counters ? Math.max(passedSoFar / checkedSoFar, MIN_PASS_RATE) : 1;
      const want = Math.min(Math.ceil((need - out.length) / rate), MAX_LIMIT + 1);
      const bounded = [...f.bounds, ...windowTerms, ...below];
      const attrWhere = [...bounded, ...f.children, ...f.attr];
      let keys: Key[];
      let asked: number;
      // Whether the key step gave every key of the window (below `below`), and the lowest key it scanned: where the
      // next round starts when every key found was checked.
      let exhausted: boolean | undefined;
      let floor: Key | undefined;
      if (keyedStep) {
        // Every filter has a key table (a page, URL or event: search-keys.ts): the keys by primary key there, one
        // table's keys narrowed by the others'; no session_attrs read (its `session_id IN` set scanned 1M ids).
        asked = Math.min(want + 8, MAX_LIMIT + 8);
        const [first, ...rest] = f.keyed.map((k) => `${k} AND ${bounded.join(' AND ')}`);
        keys = await driver.query(
          `SELECT toUnixTimestamp64Milli(started_at) AS s_ms, session_id${urlVisits ? ', max(visit) AS visited' : ''} ${first}
           ${rest.map((k) => `AND (started_at, session_id) IN (SELECT started_at, session_id ${k})`).join(' ')}
           GROUP BY started_at, session_id ORDER BY started_at DESC, session_id DESC LIMIT {n:UInt32}`, { ...params, n: asked });
      } else if (!counters && f.textKeys) {
        // Free text alone: the newest keys of each source (Filters.textKeys), merged; each source's newest `n` hold the
        // union's. The one OR over session_attrs read every row's session and visitor ids (the bloom filters cannot
        // prune an OR whose n-gram branches match everywhere): q "user-4242" 118–168 → 85–98 ms CPU per call (merged).
        // A key found by several sources repeats: more are asked for, each kept once. By start alone (byStart): the
        // text sources then read no session ids (session_attrs' 8,192-row granules gave ~500k ids for 61 matches spread
        // over the table); the re-check by start applies every term and the bounds. q "user-4242" 119 → 101, q "shoes"
        // 114 → 99 ms CPU (merged, median of 6, load 17). TANDEM_SEARCH_QSTARTS=0 keeps the ids (A/B measurements).
        asked = Math.min(2 * want + 8, 2 * MAX_LIMIT + 8);
        const key = byStart ? 'started_at' : 'started_at, session_id';
        const cols = byStart ? 's_ms' : 's_ms, session_id';
        const { ids, scan } = f.textKeys;
        keys = await driver.query(
          `SELECT ${cols} FROM (${[...(scan ? [scan] : []), ids, ...textKeySources(f)].map((k) => `SELECT toUnixTimestamp64Milli(started_at) AS s_ms${byStart ? '' : ', session_id'}
             ${k} AND ${bounded.join(' AND ')} GROUP BY ${key} ORDER BY ${key.replace(/(\w+)(,|$)/g, '$1 DESC$2')} LIMIT {n:UInt32}`).join(' UNION ALL ')})
           ORDER BY ${cols.replace(/(\w+)(,|$)/g, '$1 DESC$2')} LIMIT {n:UInt32}${keySettings()}`, { ...params, n: asked });
      } else if (!counters) {
        // A session may have a few versions of its row: ask for more, keep each key once.
        asked = Math.min(2 * want + 8, 2 * MAX_LIMIT + 8);
        keys = await driver.query(
          `SELECT toUnixTimestamp64Milli(started_at) AS s_ms, session_id FROM ${SA} WHERE ${attrWhere.join(' AND ')}
           ORDER BY started_at DESC, session_id DESC LIMIT {n:UInt32}${keySettings()}`, { ...params, n: asked });
      } else if (faceted) {
        // A browser/OS/device with counters (session-facets.ts): that attribute range of session_facets (and the ''
        // range: deltas written before the start was known), each session's rows grouped by (start, id hash) with
        // its exact merged facts in HAVING. The starts of matching sessions, no exact-counter step; the re-check by
        // start reads the shown columns and applies every term on merged values. Its rows hold no session id: the
        // cursor bounds it by start (`<=`, the re-check applies the cursor itself), and a round's `below` by start
        // (by start, every session of the last start was checked).
        asked = want;
        const starts = [...facetBounds(f), ...windowTerms, ...(below.length ? ['started_at < fromUnixTimestamp64Milli({bTs:Int64})'] : [])];
        keys = await driver.query<Key>(
          `SELECT toUnixTimestamp64Milli(started_at) AS s_ms FROM ${db}.session_facets
           WHERE ${[...starts, ...f.facets!.where].join(' AND ')}
           GROUP BY started_at, sid HAVING ${f.facets!.having.join(' AND ')}
           ORDER BY started_at DESC LIMIT {n:UInt32}
           SETTINGS max_threads = 1, local_filesystem_read_method = 'mmap', min_bytes_to_use_mmap_io = 1`, { ...params, n: asked });
      } else if (byStart && f.reach && reachOn()) {
        // Row-level superset first (counterStartsSql), then the exact counters of just those starts: every delta of
        // ~3n starts grouped (a primary-key IN of a few hundred starts, 4 columns), so the re-check gets exact keys.
        asked = want;
        const superset = await driver.query<Key>(counterStartsSql(f, bounded, attrWhere), { ...params, n: 3 * want + 8 });
        exhausted = superset.length < 3 * want + 8;
        floor = superset[superset.length - 1];
        keys = superset.length === 0 ? [] : await driver.query<Key>(
          `SELECT toUnixTimestamp64Milli(started_at) AS s_ms FROM ${SS}
           PREWHERE project_id = {p:String} AND started_at IN (SELECT fromUnixTimestamp64Milli(arrayJoin({sTs:Array(Int64)}), 'UTC'))
           GROUP BY started_at HAVING ${[...(f.errors ? ['max(error_count) > 0'] : []), ...f.durations].join(' AND ')}
           ORDER BY started_at DESC${recheckSettings()}`, { ...params, sTs: superset.map((k) => Number(k.s_ms)) });
      } else if (byStart) {
        asked = want;
        keys = await driver.query(counterStartsSql(f, bounded, attrWhere), { ...params, n: asked });
      } else {
        asked = want;
        // The deltas of the attribute (and child) matches only, by key: a primary-key condition.
        let set = f.attr.length || f.children.length ? `SELECT started_at, session_id FROM ${SA} WHERE ${attrWhere.join(' AND ')}` : '';
        let rows: string[];
        if (f.durations.length) {
          // A duration needs every delta of a session: only those of the sessions whose deltas pass the other
          // terms (with errors: a delta with errors, a few percent of the rows, then the attributes among them).
          if (f.errors) set = `SELECT started_at, session_id FROM ${SS} WHERE ${[...bounded, 'error_count > 0', ...(set ? [`(started_at, session_id) IN (${set})`] : [])].join(' AND ')}`;
          rows = set ? [`(started_at, session_id) IN (${set})`] : [];
        } else {
          rows = [...(set ? [`(started_at, session_id) IN (${set})`] : []), 'error_count > 0'];
        }
        keys = await driver.query(
          `SELECT toUnixTimestamp64Milli(started_at) AS s_ms, session_id FROM ${SS}
           WHERE ${[...bounded, ...rows].join(' AND ')}
           GROUP BY started_at, session_id ${f.durations.length ? `HAVING ${f.durations.join(' AND ')}` : ''}
           ORDER BY started_at DESC, session_id DESC LIMIT {n:UInt32}${keySettings()}`, { ...params, n: asked });
      }
      exhausted ??= keys.length < asked;
      floor ??= keys[keys.length - 1];
      const seen = new Set<string>();
      // Keys carried from newer windows come first: every one of them is newer than this window's.
      const unique = [...carry, ...keys].filter((k) => !seen.has(keyOf(k)) && seen.add(keyOf(k)));
      const carriedNow = carry.length;
      carry = [];
      if (unique.length === 0 && (exhausted || !floor)) return { rows: out, carry };
      if (unique.length === 0) {
        // Every superset key of this round failed its exact counters: go on below the lowest one scanned.
        below.splice(0, 1, '(started_at, session_id) < (fromUnixTimestamp64Milli({bTs:Int64}), {bId:String})');
        params = { ...params, bTs: Number(floor!.s_ms), bId: '' };
        continue;
      }
      // The window gave all its keys and too few to fill the page: they go along to the next (older) window
      // unchecked, and one re-check serves both. A re-check costs ~10–20 ms even for a few keys (FINAL's setup,
      // a granule of every column), and a rare filter's first window yields a handful of keys.
      if (!final && exhausted && unique.length < want) return { rows: out, carry: unique };
      // The newest `want` keys only: extra keys were asked for in case versions repeat a session, and each
      // one re-checked costs granules of every part (the re-check is most of a rare filter's time). When the
      // re-check drops some, the next round starts below the last key checked.
      let take = want;
      if (f.textKeys && checkedSoFar === 0 && process.env.TANDEM_SEARCH_QNEAR !== '0') {
        const edge = unique.length > want ? Number(unique[want - 1].s_ms) - NEAR_MS : Infinity;
        while (take < Math.min(unique.length, 2 * want) && Number(unique[take].s_ms) >= edge) take++;
      }
      const checked = unique.slice(0, take);
      // FINAL over exactly these keys: `(started_at, session_id) IN set` is a primary-key condition, so only
      // the granules holding them are read (a time range from the oldest to the newest key would merge every
      // session between them: seconds when a rare filter's keys span the whole table). As PREWHERE it also
      // drops the granules' other rows before FINAL merges them (key columns only, so it holds for every
      // delta of a session alike); in WHERE, FINAL merged whole granules first (~3× the CPU).
      const found = await driver.query<Raw>(
        `SELECT ${SUMMARY_COLUMNS} FROM ${SS} FINAL
         PREWHERE project_id = {p:String} AND ${byStart
           ? 'started_at IN (SELECT fromUnixTimestamp64Milli(arrayJoin({kTs:Array(Int64)}), \'UTC\'))'
           : `(started_at, session_id) IN (
           SELECT fromUnixTimestamp64Milli(k.1, 'UTC'), k.2 FROM (SELECT arrayJoin(arrayZip({kTs:Array(Int64)}, {kIds:Array(String)})) AS k))`}
         ${recheck.length ? `WHERE ${recheck.join(' AND ')}` : ''}
         ORDER BY started_at DESC, session_id DESC${recheckSettings()}`,
        // Child subqueries in the re-check (the URL's visited pages) start at the oldest candidate's start less the slack,
        // not the window's: a rare filter's window is the whole table, its page_visits lookups by id then read a granule
        // of every day's partition.
        { ...params, kTs: checked.map((k) => Number(k.s_ms)), ...(byStart ? {} : { kIds: checked.map((k) => k.session_id) }),
          ...(urlVisits ? { kVisited: checked.filter((k) => Number(k.visited) > 0).map((k) => k.session_id) } : {}),
          childFrom: Math.max(Number(params.childFrom), Math.min(...checked.map((k) => Number(k.s_ms))) - CHILD_SLACK_MS) });
      out.push(...found);
      checkedSoFar += checked.length;
      passedSoFar += found.length;
      // Enough, or every key of the window was checked: done.
      if (out.length >= need || (exhausted && checked.length === unique.length)) return { rows: out, carry: [] };
      const last = checked.length < unique.length ? checked[checked.length - 1] : floor!;
      below.splice(0, 1, '(started_at, session_id) < (fromUnixTimestamp64Milli({bTs:Int64}), {bId:String})');
      // By start: every session of that start was checked, so the next round starts below it ('' < any id).
      params = { ...params, bTs: Number(last.s_ms), bId: byStart ? '' : last.session_id };
      // Carried keys left unchecked lie above this window: `below` cannot find them again, so they stay carried.
      carry = unique.slice(checked.length, carriedNow);
    }
  }

  return { listSessions, sessionStats: createSessionStats(driver, db, byKeys) };
}

export { dayIn, dayRange, MAX_SEARCH_TEXT, MAX_STATS_DAYS, toSummary } from './search-rows.js';
