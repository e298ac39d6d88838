import type { ReplayWindow } from '@tandem/protocol';

/**
 * Windowed replay on the player's side: the planning (which window holds a moment, where windows
 * start) is shared with the server and lives in @tandem/protocol (replay-windows.ts); what is here is
 * the player's own: when to prefetch the next window and which loaded windows to keep.
 */
export {
  DEFAULT_WINDOW_MS,
  outsideSnapshotGaps,
  planWindows,
  snapshotGaps,
  windowAt,
  type KeyframeRef,
  type ReplayWindow,
  type TabSpan,
} from '@tandem/protocol';

/**
 * While playing, fetch the next window this long (in recording time, scaled by speed) before the
 * current one ends: a window takes well under a second to load on a normal connection, and at 16×
 * 20 s of recording pass in 1.25 s.
 */
export const PREFETCH_LEAD_MS = 20_000;

export function shouldPrefetch(current: ReplayWindow, offset: number, speed: number, count: number): boolean {
  if (current.index + 1 >= count) return false;
  return current.end - offset <= PREFETCH_LEAD_MS * Math.max(1, speed);
}

/**
 * Which loaded windows to keep: the one playing and the next (prefetched). Everything else is
 * dropped, which is what bounds memory for a 6-hour session; going back refetches (fast, it is one window).
 */
export function windowsToKeep(current: number, count: number): Set<number> {
  const keep = new Set([current]);
  if (current + 1 < count) keep.add(current + 1);
  return keep;
}

