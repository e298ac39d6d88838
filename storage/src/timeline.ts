import {
  RRWEB_CLICK, RRWEB_EVENT, RRWEB_SOURCE, TANDEM_EVENT, TIMELINE_GAP_MS, TIMELINE_MAX_ITEMS,
  type TabTimeline, type TimelineCustom, type TimelineIdentify,
} from '@tandem/protocol';
import type { Driver } from './types.js';

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

type Raw = Record<string, string | number>;

export function createTimelineReader(driver: Driver, db: string) {
  const scope = `project_id = {p:String} AND session_id = {s:String} AND tab_id = {t:String}`;
  const small = `length(data) <= {max:UInt32}`;

  async function getTimeline(projectId: string, sessionId: string, tabId: string): Promise<TabTimeline> {
    const params = {
      p: projectId, s: sessionId, t: tabId, max: MAX_EVENT_BYTES, n: TIMELINE_MAX_ITEMS, gap: TIMELINE_GAP_MS,
      inc: RRWEB_EVENT.IncrementalSnapshot, custom: RRWEB_EVENT.Custom,
      click: RRWEB_SOURCE.MouseInteraction, clickType: RRWEB_CLICK, from: INPUT_SOURCES.from, to: INPUT_SOURCES.to,
      tags: [TANDEM_EVENT.custom, TANDEM_EVENT.identify],
    };
    // Clicks and Tandem's custom/identify events: few rows, the custom ones with their JSON.
    const marks = await driver.query<Raw>(
      `SELECT seq, toUnixTimestamp64Milli(ts) AS ts_ms, if(type = {custom:UInt8}, data, '') AS custom_json
       FROM ${db}.events
       WHERE ${scope} AND type IN ({inc:UInt8}, {custom:UInt8}) AND ${small}
         AND if(type = {inc:UInt8},
                JSONExtractUInt(data, 'data', 'source') = {click:UInt8} AND JSONExtractUInt(data, 'data', 'type') = {clickType:UInt8},
                JSONExtractString(data, 'data', 'tag') IN {tags:Array(String)})
       ORDER BY seq LIMIT 1 BY seq LIMIT {n:UInt32}`,
      params,
    );
    // Input moments, thinned in the query to the first and last of every TIMELINE_GAP_MS bucket: a 6-hour
    // tab has ~40,000 mouse moves and only its quiet stretches matter. A gap longer than a bucket crosses
    // a bucket edge, where the kept moments are the real ones on either side; inside a bucket kept moments
    // are closer than the gap; so quiet stretches of TIMELINE_GAP_MS or more come out exactly as from every
    // input, from at most two moments per bucket.
    const buckets = await driver.query<Raw>(
      `SELECT min(t) AS first, max(t) AS last FROM (
         SELECT toUnixTimestamp64Milli(ts) AS t FROM ${db}.events
         WHERE ${scope} AND type = {inc:UInt8} AND ${small}
           AND JSONExtractUInt(data, 'data', 'source') BETWEEN {from:UInt8} AND {to:UInt8}
       )
       GROUP BY intDiv(t, {gap:Int64}) ORDER BY first LIMIT {n:UInt32}`,
      params,
    );
    const interactions: number[] = [];
    for (const b of buckets) {
      interactions.push(Number(b.first));
      if (Number(b.last) !== Number(b.first)) interactions.push(Number(b.last));
    }
    const timeline: TabTimeline = {
      tabId, clicks: [], customs: [], identifies: [], interactions,
      truncated: marks.length >= TIMELINE_MAX_ITEMS || buckets.length >= TIMELINE_MAX_ITEMS,
    };
    for (const row of marks) {
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
