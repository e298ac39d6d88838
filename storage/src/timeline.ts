import {
  RRWEB_CLICK, RRWEB_EVENT, RRWEB_SOURCE, TANDEM_EVENT, TIMELINE_GAP_MS, TIMELINE_MAX_ITEMS,
  type TabTimeline, type TimelineCustom, type TimelineIdentify,
} from '@tandem/protocol';
import type { Driver, ReadOptions } from './types.js';

/**
 * A tab's timeline (clicks, custom events, identify calls, moments of user input), picked out of the
 * `events` table by the query itself. The session page used to stream the whole tab into the browser
 * for this (a 6-hour generated session: 38 MB, 5–20 s of storage time that every seek's window query
 * queued behind, and the page parsing 73,000 lines); here only the matching rows' few fields leave
 * storage.
 *
 * Rows over MAX_EVENT_BYTES are never parsed (snapshots, big mutations: most of the bytes); a click,
 * scroll or input is ~100 B and a custom event's payload is capped at 32 KB by the tracker.
 */
const MAX_EVENT_BYTES = 40 * 1024;

/** rrweb sources after Mutation up to Input are user activity (rrweb's own skip-inactivity rule). */
const INPUT_SOURCES = { from: RRWEB_SOURCE.MouseMove, to: RRWEB_SOURCE.Input };

/**
 * The tab is scanned in parts of this many seqs, each a query of its own (30–50 ms of chDB on the busiest
 * stretch of a 6-hour generated tab at load 7; the whole tab at once 120–250 ms). A background read: between
 * parts, an open's or a seek's reads queued meanwhile go first (chdb-driver.ts), instead of waiting for the
 * whole scan on the one connection; and a page closed meanwhile stops the scan (its queued parts are dropped).
 */
export const TIMELINE_SCAN_SEQS = 16_384;

/** A mark as the query returns it: (seq, ts ms, custom JSON); a named tuple comes back as an object. */
type MarkTuple = [number, string | number, string] | Record<string, string | number>;

/** `scanSeqs`: seqs per part (tests make parts small to check what crosses them). */
export function createTimelineReader(driver: Driver, db: string, scanSeqs = TIMELINE_SCAN_SEQS) {
  const scope = `project_id = {p:String} AND session_id = {s:String} AND tab_id = {t:String}`;
  const small = `length(data) <= {max:UInt32}`;

  async function getTimeline(projectId: string, sessionId: string, tabId: string, opts: ReadOptions = {}): Promise<TabTimeline> {
    const params = {
      p: projectId, s: sessionId, t: tabId, max: MAX_EVENT_BYTES, gap: TIMELINE_GAP_MS,
      inc: RRWEB_EVENT.IncrementalSnapshot, custom: RRWEB_EVENT.Custom,
      click: RRWEB_SOURCE.MouseInteraction, clickType: RRWEB_CLICK, from: INPUT_SOURCES.from, to: INPUT_SOURCES.to,
      tags: [TANDEM_EVENT.custom, TANDEM_EVENT.identify],
    };
    const read = { background: true, signal: opts.signal };
    // The tab's seq range (the primary key's last column: no event JSON read), then the parts.
    const [range] = await driver.query<{ lo: string | number; hi: string | number; n: string | number }>(
      `SELECT min(seq) AS lo, max(seq) AS hi, count() AS n FROM ${db}.events WHERE ${scope}`, params, read,
    );
    type Scan = { marks: MarkTuple[]; mins: [string[], string[]]; maxs: [string[], string[]] };
    const starts: number[] = [];
    for (let lo = Number(range?.lo ?? 0), hi = Number(range?.hi ?? -1); Number(range?.n ?? 0) > 0 && lo <= hi; lo += scanSeqs) starts.push(lo);
    // Every part is queued at once: the driver runs them back to back (no event-loop turn between two
    // parts, which under load cost more than a part), and still lets any other call go first between them.
    // One scan of each part for both lists (each JSON is decompressed and read once; two queries read it
    // twice). Marks come back as rows, in seq order, a row per seq; input moments as the first and last
    // moment of each TIMELINE_GAP_MS bucket (minMap/maxMap: keys in bucket order, i.e. time order).
    const scans = await Promise.all(starts.map(async (lo) => (await driver.query<Scan>(
      `SELECT arraySort(m -> m.1, groupArrayIf((seq, ts_ms, custom_json), is_mark)) AS marks,
              minMapIf([bucket], [ts_ms], is_input) AS mins, maxMapIf([bucket], [ts_ms], is_input) AS maxs
       FROM (
         SELECT seq, toUnixTimestamp64Milli(ts) AS ts_ms, intDiv(ts_ms, {gap:Int64}) AS bucket,
                if(type = {inc:UInt8}, JSONExtractUInt(data, 'data', 'source'), 0) AS source,
                if(type = {custom:UInt8}, data, '') AS custom_json,
                if(type = {inc:UInt8},
                   source = {click:UInt8} AND JSONExtractUInt(data, 'data', 'type') = {clickType:UInt8},
                   JSONExtractString(data, 'data', 'tag') IN {tags:Array(String)}) AS is_mark,
                type = {inc:UInt8} AND source BETWEEN {from:UInt8} AND {to:UInt8} AS is_input
         FROM ${db}.events
         WHERE ${scope} AND seq >= {lo:Int64} AND seq < {hi:Int64} AND type IN ({inc:UInt8}, {custom:UInt8}) AND ${small}
         LIMIT 1 BY seq
       )`,
      { ...params, lo, hi: lo + scanSeqs },
      read,
    ))[0]));
    const marks: MarkTuple[] = [];
    /** per TIMELINE_GAP_MS bucket: the first and last input moment */
    const buckets = new Map<number, { first: number; last: number }>();
    for (const scan of scans) {
      if (!scan) continue;
      marks.push(...scan.marks);
      // A bucket may straddle two parts: its first moment is the smallest of theirs, its last the largest.
      for (let i = 0; i < scan.mins[0].length; i++) {
        const key = Number(scan.mins[0][i]);
        const first = Number(scan.mins[1][i]);
        const last = Number(scan.maxs[1][i]);
        const seen = buckets.get(key);
        buckets.set(key, seen ? { first: Math.min(seen.first, first), last: Math.max(seen.last, last) } : { first, last });
      }
    }
    const picked = marks.slice(0, TIMELINE_MAX_ITEMS).map((m) => {
      const [seq, ts, json] = Array.isArray(m) ? m : Object.values(m);
      return { seq: Number(seq), ts_ms: Number(ts), custom_json: String(json ?? '') };
    });
    const inOrder = [...buckets].sort((a, b) => a[0] - b[0]);
    const interactions: number[] = [];
    for (const [, { first, last }] of inOrder.slice(0, TIMELINE_MAX_ITEMS)) {
      interactions.push(first);
      if (last !== first) interactions.push(last);
    }
    const timeline: TabTimeline = {
      tabId, clicks: [], customs: [], identifies: [], interactions,
      truncated: marks.length >= TIMELINE_MAX_ITEMS || buckets.size >= TIMELINE_MAX_ITEMS,
    };
    for (const row of picked) {
      const ts = Number(row.ts_ms);
      const seq = Number(row.seq);
      const json = String(row.custom_json ?? '');
      if (!json) {
        timeline.clicks.push({ ts, seq });
        continue;
      }
      const entry = customEntry(json, ts, seq);
      if (entry?.kind === 'custom') timeline.customs.push(entry.value);
      else if (entry?.kind === 'identify') timeline.identifies.push(entry.value);
    }
    // seq order is time order within a tab (import sorts by time); sorted anyway for clocks that jumped.
    for (const list of [timeline.clicks, timeline.customs, timeline.identifies]) list.sort((a, b) => a.ts - b.ts || a.seq - b.seq);
    return timeline;
  }

  return { getTimeline };
}

function customEntry(json: string, ts: number, seq: number):
  | { kind: 'custom'; value: TimelineCustom }
  | { kind: 'identify'; value: TimelineIdentify }
  | null {
  let event: { data?: { tag?: string; payload?: Record<string, unknown> } };
  try {
    event = JSON.parse(json);
  } catch {
    return null; // stored JSON is the tracker's; a broken row cannot be a marker
  }
  const p = event.data?.payload ?? {};
  if (event.data?.tag === TANDEM_EVENT.custom) {
    return { kind: 'custom', value: { ts, seq, name: typeof p.name === 'string' ? p.name : '(unnamed)', payload: p.payload } };
  }
  const traits = p.traits && typeof p.traits === 'object' ? (p.traits as Record<string, unknown>) : null;
  return { kind: 'identify', value: { ts, seq, userId: String(p.userId ?? ''), traits } };
}
