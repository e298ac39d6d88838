import { describe, expect, it } from 'vitest';
import { RRWEB_EVENT, RRWEB_SOURCE } from '@tandem/protocol';
import { nextBoundary, SLICE_STEP, snapshotBoundary } from '../src/lib/player/slices';
import { fastForward } from '../src/lib/player/position';
import { skipTarget } from '../src/lib/player/skip';

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

describe('positioning a new Replayer (lib/player/position.ts)', () => {
  const events = [meta(0), full(1), ...Array.from({ length: 200 }, (_, i) => mutation(10 + i))];
  const scrolls = { during: (fn: () => void) => fn() };

  it("a page's first frame: one pause at the target, in this task", async () => {
    const at: number[] = [];
    expect(await fastForward({ pause: (t?: number) => void at.push(t ?? -1) }, events, 150, scrolls, () => true, false)).toBe(true);
    expect(at).toEqual([150]);
  });

  it('a seek: the keyframe alone first, then increasing stops ending at the target', async () => {
    const at: number[] = [];
    expect(await fastForward({ pause: (t?: number) => void at.push(t ?? -1) }, events, 150, scrolls, () => true, true)).toBe(true);
    expect(at[0]).toBe(10); // the snapshot alone: up to the first mutation's time
    expect(at.at(-1)).toBe(150);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });

  it('a seek abandoned by a newer move stops between slices', async () => {
    const at: number[] = [];
    let current = true;
    const done = fastForward({ pause: (t?: number) => ((current = false), void at.push(t ?? -1)) }, events, 150, scrolls, () => current, true);
    expect(await done).toBe(false);
    expect(at).toEqual([10]);
  });
});

describe('skipping quiet stretches (lib/player/skip.ts)', () => {
  const inactive = [{ start: 10_000, end: 60_000 }];
  it('jumps to a second before the next action, after a second of the quiet stretch', () => {
    expect(skipTarget(10_500, inactive, [])).toBeNull();
    expect(skipTarget(11_000, inactive, [])).toBe(59_000);
    expect(skipTarget(59_500, inactive, [])).toBeNull();
  });
  it('never skips a recorded call: stops where one starts, and not at all inside one', () => {
    expect(skipTarget(20_000, inactive, [{ start: 30_000, end: 40_000 }])).toBe(30_000);
    expect(skipTarget(35_000, inactive, [{ start: 30_000, end: 40_000 }])).toBeNull();
  });
});
