import type { TandemEvent } from '@tandem/protocol';

/** Builds bus events the way the tracker numbers them. */
export function ev(seq: number, type = 3, data: unknown = { source: 0 }): TandemEvent {
  return { type, data, timestamp: 1_000 + seq, seq } as unknown as TandemEvent;
}
export const META = 4;
export const FULL = 2;
