import type { ExtraCount, Row, SessionState, TabState } from './derive.js';
import type { Driver, SeqClaimer, WriterStats } from './types.js';

/**
 * Keeping session counters exact when another writer stored (or is storing) some of a group's events: the
 * writer counts a batch's events when it queues them, and these take back the counts of seqs stored or
 * claimed elsewhere, from the group's session delta rows, before those are written.
 */

/** The events a group writes for one tab, and what each counted: see `uncountStored`. */
export interface TabCount {
  session: SessionState;
  /** Ascending. */
  seqs: number[];
  extras: Map<number, ExtraCount>;
}

/** Tabs per lookup query: one range each keeps a query's text well under ClickHouse's max_query_size (256 KiB). */
const LOOKUP_TABS = 200;

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function createUncounter(driver: Driver, db: string, stats: WriterStats) {
  /**
   * Another writer may have stored some of this group's events already: a backend killed while its
   * INSERT was in flight (the INSERT landed, the ack never reached the tab, which re-sent the batch here),
   * or this process's cached ackSeq went stale while the tab was written elsewhere. `events` collapses the
   * copies, but counters are sums: looked up now, just before writing, each seq already stored gives its
   * counts back from the session's delta row. One query per flush, by the events' primary key.
   * Returns, per tab, the seqs still counted (not found stored), ascending.
   */
  async function uncountStored(counted: Map<TabState, TabCount>, sessionRows: Map<SessionState, Row>): Promise<Map<TabState, number[]>> {
    const tabsOf = [...counted].filter(([, c]) => c.seqs.length > 0);
    const left = new Map<TabState, number[]>();
    if (tabsOf.length === 0) return left;
    const byKey = new Map(tabsOf.map(([t, c]) => [`${t.projectId} ${t.sessionId} ${t.tabId}`, { tab: t, count: c, seqs: new Set(c.seqs) }]));
    const answers = await Promise.all(chunks(tabsOf, LOOKUP_TABS).map((chunk) => {
      // One key range per tab (project, session, tab, its seqs' bounds): the primary key's analysis reads the
      // granules holding those seqs only. (One IN list per column with the bounds looked up per row read every
      // stored event of the flush's tabs on every flush: the ingest bench's CPU per event doubled.)
      const params: Record<string, string | number> = {};
      const ranges = chunk.map(([t, c], i) => {
        Object.assign(params, { [`p${i}`]: t.projectId, [`s${i}`]: t.sessionId, [`t${i}`]: t.tabId, [`lo${i}`]: c.seqs[0], [`hi${i}`]: c.seqs[c.seqs.length - 1] });
        return `(project_id = {p${i}:String} AND session_id = {s${i}:String} AND tab_id = {t${i}:String} AND seq BETWEEN {lo${i}:UInt32} AND {hi${i}:UInt32})`;
      });
      return driver.query<{ project_id: string; session_id: string; tab_id: string; seq: number | string }>(
        `SELECT DISTINCT project_id, session_id, tab_id, seq FROM ${db}.events WHERE ${ranges.join(' OR ')}`, params);
    }));
    for (const r of answers.flat()) {
      const entry = byKey.get(`${r.project_id} ${r.session_id} ${r.tab_id}`);
      const seq = Number(r.seq);
      if (!entry || !entry.seqs.delete(seq)) continue; // once per seq, whatever copies are stored
      uncount(sessionRows, entry.count, seq);
      stats.eventsAlreadyStored++;
    }
    for (const { tab, seqs } of byKey.values()) left.set(tab, [...seqs]); // a Set keeps insertion order: ascending
    return left;
  }

  /**
   * Two writers flushing the same seq at the same moment (a killed node's in-flight INSERT landing while
   * the tab re-sends the batch through another node) both pass `uncountStored`: each looked before the
   * other's INSERT landed. With a claimer (Redis, shared by every backend), each seq left counted is claimed
   * once its event is stored; a seq someone else claimed gives its counts back. Claimed only after the events
   * INSERT: a writer that fails (or dies) before it claims nothing, so the tab's re-send is counted. A failed
   * claim counts the seqs anyway (a rare double count beats failing a batch whose events are stored).
   */
  async function uncountClaimedElsewhere(
      counted: Map<TabState, TabCount>, sessionRows: Map<SessionState, Row>, unstored: Map<TabState, number[]>, claimer: SeqClaimer | null,
    ): Promise<void> {
    if (!claimer) return;
    const tabsOf = [...unstored].filter(([, seqs]) => seqs.length > 0);
    if (tabsOf.length === 0) return;
    let won: [number, number][][];
    try {
      won = await claimer(tabsOf.map(([t, seqs]) => ({ projectId: t.projectId, sessionId: t.sessionId, tabId: t.tabId, ranges: toRanges(seqs) })));
    } catch {
      stats.seqClaimFailures++;
      return;
    }
    tabsOf.forEach(([tab, seqs], i) => {
      const count = counted.get(tab)!;
      const ranges = won[i] ?? [];
      for (const seq of seqs) {
        if (ranges.some(([lo, hi]) => seq >= lo && seq <= hi)) continue;
        uncount(sessionRows, count, seq);
        stats.eventsClaimedElsewhere++;
      }
    });
  }

  /** Takes one seq's counts (events, pages, errors, console errors, clicks) back out of its session's delta row. */
  function uncount(sessionRows: Map<SessionState, Row>, count: TabCount, seq: number): void {
    const row = sessionRows.get(count.session);
    if (!row) return;
    row.event_count = Number(row.event_count) - 1;
    const extra = count.extras.get(seq);
    if (extra) {
      row.page_count = Number(row.page_count) - extra.pageCount;
      row.error_count = Number(row.error_count) - extra.errorCount;
      row.console_error_count = Number(row.console_error_count) - extra.consoleErrorCount;
      row.click_count = Number(row.click_count) - extra.clickCount;
    }
  }

  return { uncountStored, uncountClaimedElsewhere };
}

/** Every seq of a group still counted, per tab (nothing looked up: see StoreOptions.soleWriter). */
export function countedSeqs(counted: Map<TabState, TabCount>): Map<TabState, number[]> {
  return new Map([...counted].map(([tab, c]) => [tab, c.seqs]));
}

/** Ascending seqs as ascending disjoint inclusive ranges: a batch's seqs are mostly one run. */
export function toRanges(seqs: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const s of seqs) {
    const last = out[out.length - 1];
    if (last && s === last[1] + 1) last[1] = s;
    else out.push([s, s]);
  }
  return out;
}
