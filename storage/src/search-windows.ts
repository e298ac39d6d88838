/**
 * The list search's time windows (search.ts): how far back its first window reaches, and the next one after a window
 * came back short. Ordered by start, a window reads only its granules, so a common filter finishes in the first one
 * and a rare one pays for the rest of the table once.
 */

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
