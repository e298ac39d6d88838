import { RRWEB_EVENT, RRWEB_SOURCE } from '@tandem/protocol';

/**
 * Where a Replayer positioned a slice at a time may stop between two `pause(at)` calls. rrweb's play
 * applies the events before `at` and skips, the next time, those up to its last played event's
 * timestamp, so a boundary is an index `i` with `at` = events[i]'s time, and it must be safe:
 * - events[i - 1] is strictly earlier than events[i] (events sharing a timestamp go in one slice);
 * - events[i - 1] is no mouse move recorded with earlier positions: rrweb then takes the last played
 *   time as its first position's, and the next slice would apply the events after that again.
 */

/** Events applied between two looks at the clock: each `pause` also walks the whole window once. */
export const SLICE_STEP = 20;

type Ev = { type: number; timestamp: number; data?: unknown };

function safe(events: readonly Ev[], i: number): boolean {
  if (i <= 0 || i >= events.length) return true;
  const prev = events[i - 1];
  if (prev.timestamp >= events[i].timestamp) return false;
  if (prev.type !== RRWEB_EVENT.IncrementalSnapshot) return true;
  const data = prev.data as { source?: number; positions?: { timeOffset?: number }[] } | undefined;
  return !(data?.source === RRWEB_SOURCE.MouseMove && (data.positions?.[0]?.timeOffset ?? 0) < 0);
}

function safeFrom(events: readonly Ev[], i: number): number {
  while (i < events.length && !safe(events, i)) i++;
  return i;
}

/**
 * The first boundary: just after the last FullSnapshot before `until` (epoch ms; the first one if none
 * is), with what shares its time, in one slice. rrweb rebuilds from that snapshot and discards what
 * came before it, so the slices start there.
 */
export function snapshotBoundary(events: readonly Ev[], until: number): number {
  let snapshot = -1;
  for (let i = 0; i < events.length && (snapshot < 0 || events[i].timestamp < until); i++) {
    if (events[i].type === RRWEB_EVENT.FullSnapshot) snapshot = i;
  }
  return safeFrom(events, snapshot < 0 ? 1 : snapshot + 1);
}

/** The next boundary, about SLICE_STEP events after `i` (events.length: the end). */
export function nextBoundary(events: readonly Ev[], i: number): number {
  return safeFrom(events, Math.min(events.length, i + SLICE_STEP));
}
