import type { TandemEvent } from '@tandem/protocol';
import { describe, expect, it } from 'vitest';
import { hasPicture, mergeBySeq, replayOffset, StreamedBuffer } from '../src/lib/live/merge';

const ev = (seq: number, type = 3, from = 'x'): TandemEvent => ({ seq, type, timestamp: 1000 + seq * 10, data: { from } }) as unknown as TandemEvent;

describe('stored + streamed events for time travel', () => {
  it('takes the union by seq, stored copies first, in seq order', () => {
    const stored = [ev(0, 4, 'db'), ev(1, 2, 'db'), ev(2, 3, 'db'), ev(3, 3, 'db')];
    // streamed since join: overlaps the stored tail (storage lags up to one flush) and goes further
    const streamed = [ev(3, 3, 'live'), ev(5, 3, 'live'), ev(4, 3, 'live'), ev(6, 3, 'live')];
    const merged = mergeBySeq(stored, streamed);
    expect(merged.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect((merged[3].data as { from: string }).from).toBe('db');
    expect((merged[4].data as { from: string }).from).toBe('live');
  });

  it('works with nothing stored yet (the first flush has not happened)', () => {
    const merged = mergeBySeq([], [ev(10, 4), ev(11, 2), ev(12)]);
    expect(merged.map((e) => e.seq)).toEqual([10, 11, 12]);
    expect(hasPicture(merged)).toBe(true);
  });

  it('knows when there is nothing to draw', () => {
    expect(hasPicture([])).toBe(false);
    expect(hasPicture([ev(1, 3), ev(2, 3)])).toBe(false);
    expect(hasPicture([ev(1, 2), ev(2, 4)])).toBe(false); // full snapshot without a Meta before it
    expect(hasPicture([ev(1, 4), ev(2, 2)])).toBe(true);
  });

  it('clamps the moment into the replay', () => {
    expect(replayOffset(1_000, 500, 1_200)).toBe(200);
    expect(replayOffset(1_000, 500, 900)).toBe(0);
    expect(replayOffset(1_000, 500, 5_000)).toBe(500);
  });

  it('bounds the streamed buffer, dropping the oldest', () => {
    const b = new StreamedBuffer(100);
    for (let i = 0; i < 126; i++) b.push(ev(i));
    expect(b.events.length).toBe(100);
    expect(b.events[0].seq).toBe(26);
    expect(b.events[99].seq).toBe(125);
    b.clear();
    expect(b.events.length).toBe(0);
  });
});
