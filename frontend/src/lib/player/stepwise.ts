/**
 * Positioning a Replayer without one long task. rrweb's `pause(t)`/`play(t)` applies, in one
 * synchronous task, the window's full snapshot and every event from it to `t`; on the seek bench's
 * 6-hour session that task reached 108 ms (the target is no task over 100 ms), and a slower machine
 * makes it longer. rrweb skips what it has already applied when the new position is later than the
 * last event it played (its `lastPlayedEvent`), so walking a Replayer forward in several `pause()`
 * calls applies each event once, and the walk can yield to the browser between calls.
 */

/** The part of a Replayer this walk uses. */
export interface Positionable {
  pause(timeOffset?: number): void;
}

/** One task applies events for about this long before yielding: well under the 100 ms long-task bar. */
export const STEP_BUDGET_MS = 30;
/** Events applied per `pause()` call between two looks at the clock (each call costs a pass over the window). */
const STEP_EVENTS = 40;

/** Index of the last event with `timestamp < ts` (-1: none); `events` sorted by timestamp. */
export function lastBefore(events: readonly { timestamp: number }[], ts: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (events[mid].timestamp < ts) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** Lets the browser run other tasks (input, rendering): a message-channel turn is not clamped like setTimeout. */
export function yieldToBrowser(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/**
 * Walks `replayer` forward from event `from` (the last one already applied; -1: none yet, so the first
 * step rebuilds the snapshot) to just before `local` ms (its time 0 is `events[0].timestamp`), in
 * tasks of about `budgetMs`. Returns false when `wanted()` turned false at a yield (the walk stops
 * there; the caller drops or re-positions this Replayer). The caller positions it at `local` itself
 * after: by then nothing is left to apply but the events at `local` exactly.
 */
export async function walkTo(
  replayer: Positionable,
  events: readonly { timestamp: number; type: number }[],
  from: number,
  local: number,
  wanted: () => boolean,
  budgetMs = STEP_BUDGET_MS,
  now: () => number = () => performance.now(),
  yieldNow: () => Promise<void> = yieldToBrowser,
): Promise<boolean> {
  if (!events.length) return true;
  const t0 = events[0].timestamp;
  const last = lastBefore(events, t0 + local);
  // The first step goes to the first full snapshot (type 2): its rebuild is one call whatever we do.
  const snapshot = events.findIndex((e) => e.type === 2);
  let k = from;
  let started = now();
  while (k < last) {
    k = Math.min(last, k < snapshot ? snapshot : k + STEP_EVENTS);
    // Applies every event up to events[k]'s timestamp (ties included), never past `local`.
    replayer.pause(events[k].timestamp + 1 - t0);
    if (k < last && now() - started >= budgetMs) {
      await yieldNow();
      if (!wanted()) return false;
      started = now();
    }
  }
  return true;
}
