import { describe, expect, it } from 'vitest';
import { RRWEB_EVENT, RRWEB_SOURCE } from '@tandem/protocol';
import { nextBoundary, SLICE_STEP, snapshotBoundary } from '../src/lib/player/slices';

const meta = (ts: number) => ({ type: RRWEB_EVENT.Meta, timestamp: ts, data: {} });
const full = (ts: number) => ({ type: RRWEB_EVENT.FullSnapshot, timestamp: ts, data: {} });
const mutation = (ts: number) => ({ type: RRWEB_EVENT.IncrementalSnapshot, timestamp: ts, data: { source: RRWEB_SOURCE.Mutation } });
const move = (ts: number, firstOffset: number) => ({
  type: RRWEB_EVENT.IncrementalSnapshot,
  timestamp: ts,
  data: { source: RRWEB_SOURCE.MouseMove, positions: [{ x: 1, y: 1, id: 1, timeOffset: firstOffset }] },
});

describe('where a sliced positioning may stop', () => {
  it('starts after the last snapshot before the target, with what shares its time', () => {
    const events = [meta(0), full(1), mutation(1), mutation(5), meta(100), full(101), mutation(150)];
    expect(snapshotBoundary(events, 50)).toBe(3);
    expect(snapshotBoundary(events, 140)).toBe(6);
    // before the first snapshot: still the first one (rrweb has nothing to show without it)
    expect(snapshotBoundary(events, 0)).toBe(3);
  });

  it('steps about SLICE_STEP events, never between events of one timestamp', () => {
    const events = [meta(0), full(1), ...Array.from({ length: 100 }, (_, i) => mutation(10 + i))];
    expect(nextBoundary(events, 2)).toBe(2 + SLICE_STEP);
    const tied = [meta(0), full(1), ...Array.from({ length: SLICE_STEP + 5 }, () => mutation(10)), mutation(11)];
    // every event at 10 ms goes in one slice: the boundary is the first event after them
    expect(nextBoundary(tied, 2)).toBe(tied.length - 1);
    expect(nextBoundary(events, events.length - 3)).toBe(events.length);
  });

  it('never stops right after a mouse move with earlier positions (rrweb would apply what came after them again)', () => {
    const events = [meta(0), full(1), ...Array.from({ length: SLICE_STEP - 1 }, (_, i) => mutation(10 + i)), move(40, -30), mutation(41), mutation(42)];
    // index 2 + SLICE_STEP follows the move: the boundary moves one on
    expect(events[2 + SLICE_STEP - 1].data).toMatchObject({ source: RRWEB_SOURCE.MouseMove });
    expect(nextBoundary(events, 2)).toBe(2 + SLICE_STEP + 1);
  });
});
