/**
 * The list search's time windows (search.ts): how far back its first window reaches, and the next one after a window
 * came back short, and the index estimates that pick the first. Ordered by start, a window reads only its granules, so a
 * common filter finishes in the first one and a rare one pays for the rest of the table once.
 */

import type { Estimate } from './search-estimates.js';
import type { Filters } from './search-filters.js';

export const DAY = 86_400_000;
/** The first window: a day holds a full page for any common filter on a site with real traffic. */
export const FIRST_WINDOW = DAY;
/** The shortest first window a remembered span gives (createSpanMemory): the newest 50 of a busy site lie within it. */
const MIN_KNOWN_SPAN = 60_000;
/** Past this span the next window is "everything older": one scan beats many small queries. */
export const MAX_WINDOW = 35 * DAY;

/**
 * The next window's span after `covered` ms yielded `found` of the `want` rows: long enough for the
 * rows still missing at the density seen so far (twice over, as matches are not even in time), and
 * everything older when that is more than MAX_WINDOW or nothing matched yet. A rare filter thus costs
 * two queries (a day, then the rest), a common one a single query, never a crawl of small windows.
 */
export function nextSpan(covered: number, found: number, want: number): number {
  if (found === 0) return Infinity;
  const span = (covered * (want - found) * 2) / found;
  return span > MAX_WINDOW ? Infinity : Math.max(Math.ceil(span), DAY); // whole ms: bound as Int64
}

/** What a full page needed, to remember (createSpanMemory): back to its last row, a quarter over (the next call's anchor is later), or everything. */
export function spanNeeded(anchor: number, lastRowStartedMs: number | undefined): number {
  return lastRowStartedMs === undefined ? Infinity : Math.ceil(1.25 * (anchor - lastRowStartedMs));
}

/** A browser/OS/device with counters read from session_facets: the index's row estimate over MAX_WINDOW and its limits. */
export interface FacetWindowing {
  rows: number;
  switchRows: number;
  hasMaxDuration: boolean;
}

/**
 * The first window when the same query needed `known` ms within the last minute (`span` is the first window without
 * it). A day first becomes that span (a rare needle skips the day probe; a dense one's page lies within hours, at
 * least MIN_KNOWN_SPAN); a browser/OS/device's one 35-day window of few facet rows becomes that span when shorter
 * (Samsung + errors + ≥ 25 min: its page lies within ~20 days); a common one (a day first) reads that span of facet
 * rows when it stays under the switch limit by the estimate, else goes to the delta rows' path from the start
 * (`dropFacets`: where its windows would have switched after the day; not with a maximum duration).
 */
export function rememberedFirstSpan(span: number, known: number | undefined, facets: FacetWindowing | undefined): { span: number; dropFacets: boolean } {
  const keep = { span, dropFacets: false };
  if (known === undefined) return keep;
  if (!facets) return span === FIRST_WINDOW ? { span: known > MAX_WINDOW ? Infinity : Math.max(known, MIN_KNOWN_SPAN), dropFacets: false } : keep;
  if (span === MAX_WINDOW) return { span: Math.max(Math.min(known, span), FIRST_WINDOW), dropFacets: false };
  if (span !== FIRST_WINDOW || known <= span) return keep;
  if (known * (facets.rows / MAX_WINDOW) <= facets.switchRows) return { span: known, dropFacets: false };
  if (facets.hasMaxDuration) return keep;
  return { span: known > MAX_WINDOW ? Infinity : known, dropFacets: true };
}

/** The cursor's bound: rows after the last one of the previous page (newest first). */
export const CURSOR_TERM = '(started_at, session_id) < (fromUnixTimestamp64Milli({cTs:Int64}), {cId:String})';
/**
 * session_facets has no session id: the cursor bounds it by start (`<=`; the re-check by start applies the cursor).
 */
export const facetBounds = (f: Filters) => f.bounds.map((t) => t.replace(CURSOR_TERM, 'started_at <= fromUnixTimestamp64Milli({cTs:Int64})'));
/**
 * At most this many session_facets rows over MAX_WINDOW (the index's estimate): one window reads them (facetEstimate);
 * a facet query's window that would hold more than FACET_SWITCH_ROWS goes to the delta rows' path (listSessions).
 * TANDEM_SEARCH_FACET_ROWS="window,switch" sets both (tests run the day-first and switching paths on small data).
 */
export const facetRowLimits = () => {
  const [window, change] = (process.env.TANDEM_SEARCH_FACET_ROWS ?? '').split(',').map(Number);
  return { FACET_WINDOW_ROWS: window || 250_000, FACET_SWITCH_ROWS: change || 500_000 };
};
/** Keys of a browser/OS/device with counters from session_facets (migration 16); TANDEM_SEARCH_FACETS=0 turns it off (A/B). */
export const facetsOn = () => process.env.TANDEM_SEARCH_FACETS !== '0';
/**
 * Every key table's rows over the whole range in at most this many granules per part (the index's estimate; a part is
 * one insert or merge, and a rare URL's or event's few hundred keys lie in one granule of each): the key step reads
 * them all in one window instead of a day first and then the rest, two reads of the same few granules. URL rare 73 → 59,
 * page rare 69 → 55 ms CPU per call. A common one (coupon_applied: 6 granules in 1 part, /cart 81 in 4) keeps the day
 * first: grouping all its keys costs more (coupon_applied 28 → 40). TANDEM_SEARCH_KEYED_WHOLE=0 turns it off (A/B).
 */
const KEYED_WHOLE_MARKS_PER_PART = 2;
export const keyedWholeOn = () => process.env.TANDEM_SEARCH_KEYED_WHOLE !== '0';

/** The index's estimates that pick a list query's first window (listSessions, search.ts). */
export function createWindowEstimates(estimate: Estimate, db: string) {
  /**
   * The index's estimate of the session_facets rows a facet query's attribute ranges hold over MAX_WINDOW (EXPLAIN
   * ESTIMATE: primary-key analysis only, ~3 ms CPU), or undefined (no estimate: the delta rows' path). At most
   * FACET_WINDOW_ROWS: one window reads them all (Samsung Internet, 4 % of the sessions: ~120k delta rows at 1M
   * sessions, ~23 ms CPU, where a day costs ~17 and the rare match took three windows of the delta rows). More (a
   * common browser/OS/device: Chrome, 1.9M rows over 35 days, ~300 ms CPU in one read): a day first, then windows
   * sized by the matches found, up to FACET_SWITCH_ROWS (see listSessions). TANDEM_SEARCH_FACET_SPANS=0: the first
   * measured policy (the delta rows' path above FACET_WINDOW_ROWS).
   */
  async function facetEstimate(f: Filters, anchor: number, moving: boolean): Promise<number | undefined> {
    const terms = [...facetBounds(f), 'started_at >= fromUnixTimestamp64Milli({lo:Int64})', ...f.facets!.where];
    const reads = await estimate(`SELECT 1 FROM ${db}.session_facets WHERE ${terms.join(' AND ')}`, { ...f.params, lo: Math.floor(anchor - MAX_WINDOW) },
      JSON.stringify([terms, f.params, moving ? null : anchor])); // a moving anchor (now): any call within the TTL
    return reads?.rows;
  }

  /** Whether every key table of a keyed query holds few keys over its whole range, any page (KEYED_WHOLE_MARKS_PER_PART). */
  async function fewKeys(f: Filters): Promise<boolean> {
    const { cTs, cId, ...params } = f.params;
    const bounds = f.bounds.filter((t) => t !== CURSOR_TERM).join(' AND ');
    for (const k of f.keyed) {
      const select = `SELECT 1 ${k} AND ${bounds}`;
      const reads = await estimate(select, params, JSON.stringify([select, params]));
      if (!reads || reads.marks > KEYED_WHOLE_MARKS_PER_PART * reads.parts) return false;
    }
    return true;
  }
  return { facetEstimate, fewKeys };
}
