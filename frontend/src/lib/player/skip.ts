import type { Period } from '../timeline';

/**
 * When skipping, play this much of the quiet stretch first (so the last action settles on screen)
 * and land this long before the next action (so the viewer sees it coming).
 */
const SKIP_LEAD_MS = 1_000;
const SKIP_TAIL_MS = 1_000;

/**
 * Where playback at `time` (ms) jumps to when it is inside a quiet stretch (`inactive`), or null. A
 * recorded call (`media`) is never skipped: a user often talks exactly while the page is quiet, so the
 * jump stops where the next call starts, and nothing is skipped while one plays.
 */
export function skipTarget(time: number, inactive: readonly Period[], media: readonly Period[]): number | null {
  const period = inactive.find((p) => time >= p.start + SKIP_LEAD_MS && time < p.end - SKIP_TAIL_MS);
  if (!period) return null;
  if (media.some((m) => time >= m.start && time < m.end)) return null;
  const nextMedia = media.find((m) => m.start > time && m.start < period.end - SKIP_TAIL_MS);
  return nextMedia ? nextMedia.start : period.end - SKIP_TAIL_MS;
}
