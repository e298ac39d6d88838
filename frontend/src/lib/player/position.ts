import type { Replayer } from '@rrweb/replay';
import type { DeferredScrolls } from './deferred-scroll';
import { nextBoundary, snapshotBoundary } from './slices';

/**
 * A new window's Replayer is positioned in tasks of about this much main-thread time: the keyframe's
 * rebuild in one, then the events up to the target a slice at a time. Applied in one task, rebuild and
 * fast-forward made the longest task of a seek (105–140 ms on the seek bench, target: none over 100 ms);
 * 40 ms leaves room for the event that overruns a slice and for the browser's own work in the task.
 */
export const POSITION_SLICE_MS = 40;

type Ev = { type: number; timestamp: number; data?: unknown };

/**
 * Applies `events` up to `local` (ms since the first) to a new, hidden Replayer. `sliced` (a seek): the
 * keyframe first, then slices of POSITION_SLICE_MS, each in its own task; else all in this task (a
 * page's first frame: nothing is on screen to keep responsive, and each task boundary can cost a render
 * before the frame). Each `pause(at)` applies only the events since the previous one (rrweb's play skips
 * those up to its last played event). False when `current()` says a newer move came meanwhile.
 */
export async function fastForward(
  replayer: Pick<Replayer, 'pause'>,
  events: readonly Ev[],
  local: number,
  scrolls: Pick<DeferredScrolls, 'during'>,
  current: () => boolean,
  sliced: boolean,
): Promise<boolean> {
  if (!sliced) {
    scrolls.during(() => replayer.pause(local));
    return true;
  }
  const t0 = events[0].timestamp;
  let next = snapshotBoundary(events, t0 + local);
  let at = next < events.length ? Math.min(local, events[next].timestamp - t0) : local;
  scrolls.during(() => replayer.pause(at));
  while (at < local) {
    await nextTask();
    if (!current()) return false;
    const sliceStart = performance.now();
    scrolls.during(() => {
      do {
        next = nextBoundary(events, next);
        at = next < events.length ? Math.min(local, events[next].timestamp - t0) : local;
        replayer.pause(at);
      } while (at < local && performance.now() - sliceStart < POSITION_SLICE_MS);
    });
  }
  // Shown in a task of its own: showing lays the replayed page out (the deferred scrolls force it).
  // Measured (bench/src/seek-ab.ts, thread time): merging it into a short last slice made longer tasks.
  await nextTask();
  return current();
}

/** A new task (after the browser's pending work, input included), not a microtask. */
export function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
