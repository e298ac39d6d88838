import type { CallRecording } from '@tandem/protocol';

/**
 * A call recording on the session's timeline: the recording's media time for a player moment
 * (epoch ms), or null outside the recording's time range (then it is hidden).
 * `currentTime = (playerTs − startedAt) / 1000`.
 */
export function mediaTimeAt(playerTs: number, rec: Pick<CallRecording, 'startedAt' | 'durationMs'>): number | null {
  const t = playerTs - rec.startedAt;
  if (t < 0) return null;
  // While chunks still arrive the duration is not final: keep it showing past the known end.
  if (rec.durationMs > 0 && t > rec.durationMs) return null;
  return t / 1000;
}

/** Playing media drifts a little from the replay clock; correct it only past this (seeking stutters). */
export const MAX_DRIFT_S = 0.3;

export function needsSeek(mediaTime: number, wanted: number, playing: boolean): boolean {
  return Math.abs(mediaTime - wanted) > (playing ? MAX_DRIFT_S : 0.05);
}
