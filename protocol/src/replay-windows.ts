import type { Keyframe, SessionDetail, TabInfo } from './api.js';

/**
 * Windowed replay: which slice of a tab's events the player needs for a moment. rrweb can only start
 * drawing at a Meta + FullSnapshot pair and applies everything after it in one synchronous task
 * (DESIGN.md §9), so every window starts at a keyframe. A window spans one or more keyframe-to-keyframe
 * segments, at least `minSpanMs` long (keyframes taken more often, e.g. by an agent's live resyncs, do
 * not each get a Replayer).
 * Shared by the player (frontend/src/lib/player/windows.ts) and the server's open route, which sends
 * the window a share link needs with the session's metadata: both must cut the tab the same way, or
 * the window the server sent would not be the one the player looks for.
 * Offsets are ms since the tab's first event; seqs are the tab's event seqs.
 */

/** A keyframe as the server sends it: with the Meta event just before its FullSnapshot (metaSeq -1: none). */
export type KeyframeRef = Keyframe;

export interface ReplayWindow {
  index: number;
  /** first seq to fetch (inclusive) */
  fromSeq: number;
  /** last seq to fetch (inclusive); null for the last window (to the end of the tab, even while it grows) */
  toSeq: number | null;
  /** ms since the tab's first event */
  start: number;
  /** where the next window starts (or the tab's end) */
  end: number;
}

export interface TabSpan {
  tabId: string;
  startedAt: number;
  endedAt: number;
}

/**
 * One checkout interval (the tracker's `checkoutEveryNms`, 2 minutes): a far seek fetches and parses
 * only the keyframe before the target and what follows it up to the next one (measured: 6-minute
 * windows made every far seek fetch three snapshots instead of one). Playback swaps Replayers at each
 * window's first snapshot, which rrweb would rebuild at that moment anyway.
 */
export const DEFAULT_WINDOW_MS = 2 * 60_000;

/**
 * Splits a tab into windows that each begin at a keyframe. Without keyframes (an old or imported
 * recording) the whole tab is one window: correct, only not fast.
 * The first window always begins at seq 0, so nothing recorded before the first keyframe is lost.
 */
export function planWindows(tab: TabSpan, keyframes: readonly KeyframeRef[], minSpanMs = DEFAULT_WINDOW_MS): ReplayWindow[] {
  const total = Math.max(0, tab.endedAt - tab.startedAt);
  const starts = keyframes
    .filter((k) => k.tabId === tab.tabId)
    .map((k) => {
      const hasMeta = k.metaSeq >= 0;
      return { seq: hasMeta ? k.metaSeq : k.seq, offset: (hasMeta && k.metaTs ? k.metaTs : k.ts) - tab.startedAt };
    })
    .sort((a, b) => a.seq - b.seq);
  // One boundary per seq, in time order too (a clock that went back must not make a window end before it starts).
  const bounds: { seq: number; offset: number }[] = [];
  for (const s of starts) {
    const last = bounds[bounds.length - 1];
    if (s.seq <= 0 || (last && (s.seq === last.seq || s.offset < last.offset))) continue;
    if (s.offset - (last?.offset ?? 0) < minSpanMs) continue;
    if (total - s.offset < minSpanMs / 4) continue; // a sliver at the end is not worth its own Replayer
    bounds.push({ seq: s.seq, offset: Math.max(0, Math.min(total, s.offset)) });
  }
  const windows: ReplayWindow[] = [];
  let from = { seq: 0, offset: 0 };
  for (const b of bounds) {
    windows.push({ index: windows.length, fromSeq: from.seq, toSeq: b.seq - 1, start: from.offset, end: b.offset });
    from = b;
  }
  windows.push({ index: windows.length, fromSeq: from.seq, toSeq: null, start: from.offset, end: total });
  return windows;
}

/** The window that holds `offset` (the last one starting at or before it). */
export function windowAt(windows: readonly ReplayWindow[], offset: number): ReplayWindow {
  let lo = 0;
  let hi = windows.length - 1;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (windows[mid].start <= offset) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return windows[found];
}

/**
 * The moments between a keyframe's Meta event and its FullSnapshot (usually a millisecond or two).
 * rrweb positioned there applies the Meta but schedules the snapshot for later, so a paused player
 * would show nothing (or a stale poster): `outsideSnapshotGaps` moves such a target just past the
 * snapshot (rrweb applies synchronously only events strictly before the target).
 */
export function snapshotGaps(tab: TabSpan, keyframes: readonly KeyframeRef[]): { start: number; end: number }[] {
  return keyframes
    .filter((k) => k.tabId === tab.tabId && k.metaSeq >= 0 && k.metaTs < k.ts)
    .map((k) => ({ start: k.metaTs - tab.startedAt, end: k.ts - tab.startedAt }))
    .sort((a, b) => a.start - b.start);
}

export function outsideSnapshotGaps(gaps: readonly { start: number; end: number }[], offset: number): number {
  for (const gap of gaps) {
    if (gap.start > offset) break;
    if (offset <= gap.end) return gap.end + 1;
  }
  return offset;
}

/** What a share link (`t` ms since the session's first event, optional tab) opens: which tab, where, and its window. */
export interface OpenTarget {
  tab: TabInfo;
  /** ms since that tab's first event, moved out of snapshot gaps (what the player seeks to) */
  offset: number;
  window: ReplayWindow;
}

/**
 * The tab a share link shows (the named one, else the first to start) and the window holding its
 * moment; null when the session has no tab. `t` null: the tab's start. The session's origin is its
 * first tab's start, as in the dashboard's share links.
 */
export function openTarget(detail: Pick<SessionDetail, 'tabs' | 'keyframes' | 'startedAt'>, t: number | null, tabId: string | null): OpenTarget | null {
  const tabs = [...detail.tabs].sort((a, b) => a.startedAt - b.startedAt);
  const tab = tabs.find((x) => x.tabId === tabId) ?? tabs[0];
  if (!tab) return null;
  const origin = tabs[0]?.startedAt ?? detail.startedAt;
  const total = Math.max(0, tab.endedAt - tab.startedAt);
  const wanted = t === null ? 0 : t - (tab.startedAt - origin);
  const offset = outsideSnapshotGaps(snapshotGaps(tab, detail.keyframes), Math.min(total, Math.max(0, wanted)));
  return { tab, offset, window: windowAt(planWindows(tab, detail.keyframes), offset) };
}

/**
 * `GET /api/v1/sessions/:id/open?t=<ms since the session's first event>&tabId=`: everything a share
 * link needs before its first frame, in one round trip. NDJSON, in the order the page needs it:
 * - first line, a SessionOpenFrame: the tab, the moment and its window, with the tabs' spans and the
 *   keyframes the window was planned from (two small reads);
 * - then the events of `window` (fromSeq..toSeq of `tabId`), one per line as `/events` sends them, and a
 *   SessionOpenWindowEnd line (the window is complete: the page need not wait for the answer's end);
 * - and a SessionOpenRest line, the session's detail: after the events when the window is small (its summary and
 *   pages are read then, so the first frame waits for neither), before them when it is big (over 2,000 events:
 *   the page shows their progress meanwhile).
 * Every event line has a numeric `type`; the other lines have none. An answer that ends without the detail (the
 * session expired meanwhile) is read as a failed open.
 */
export interface SessionOpenFrame {
  /** the tab shown (the asked one, else the first to start); null when the session has no tab yet */
  tabId: string | null;
  /** ms since that tab's first event: where the player opens */
  offset: number;
  /** the window whose events follow; null (nothing follows) without a tab */
  window: ReplayWindow | null;
  tabs: TabInfo[];
  keyframes: Keyframe[];
}

/** The open answer's detail line (see SessionOpenFrame). */
export interface SessionOpenRest {
  session: SessionDetail;
}

/** The open answer's line after the window's events (see SessionOpenFrame): how many there were. */
export interface SessionOpenWindowEnd {
  windowEvents: number;
}

/** The open answer as the page uses it once the whole of it is in: the frame line's choice and the detail. */
export interface SessionOpenHead {
  session: SessionDetail;
  tabId: string | null;
  offset: number;
  window: ReplayWindow | null;
}
