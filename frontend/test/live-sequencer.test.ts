import type { TandemEvent } from '@tandem/protocol';
import { describe, expect, it } from 'vitest';
import { LiveSequencer } from '../src/lib/live/sequencer';

const META = 4;
const FULL = 2;
const INC = 3;
const ev = (seq: number, type = INC): TandemEvent => ({ seq, type, timestamp: 1000 + seq, data: {} }) as unknown as TandemEvent;
const kinds = (s: LiveSequencer, events: TandemEvent[]) => events.map((e) => s.accept(e).kind);

describe('live stream order and gaps', () => {
  it('waits for a Meta, then applies consecutive seqs', () => {
    const s = new LiveSequencer();
    expect(kinds(s, [ev(7), ev(8)])).toEqual(['drop', 'drop']);
    expect(s.accept(ev(9, META))).toEqual({ kind: 'start', continuous: false });
    expect(kinds(s, [ev(10, FULL), ev(11), ev(12)])).toEqual(['apply', 'apply', 'apply']);
    expect(s.lastSeq).toBe(12);
  });

  it('drops duplicates', () => {
    const s = new LiveSequencer();
    kinds(s, [ev(1, META), ev(2, FULL), ev(3)]);
    expect(s.accept(ev(3))).toEqual({ kind: 'drop', why: 'duplicate' });
    expect(s.accept(ev(2, FULL))).toEqual({ kind: 'drop', why: 'duplicate' });
    expect(s.accept(ev(4)).kind).toBe('apply');
  });

  it('on a missing seq stops applying, says gap once, and ignores everything until the next Meta', () => {
    const s = new LiveSequencer();
    kinds(s, [ev(1, META), ev(2, FULL), ev(3)]);
    expect(s.accept(ev(5))).toEqual({ kind: 'gap', expected: 4, got: 5 });
    expect(s.waitingForMeta).toBe(true);
    expect(kinds(s, [ev(6), ev(7)])).toEqual(['drop', 'drop']);
    // the resync's snapshot
    expect(s.accept(ev(20, META))).toEqual({ kind: 'start', continuous: false });
    expect(kinds(s, [ev(21, FULL), ev(22)])).toEqual(['apply', 'apply']);
  });

  it('a Meta that follows on is a checkout in the same run; a Meta after a jump is a new run', () => {
    const s = new LiveSequencer();
    kinds(s, [ev(1, META), ev(2, FULL), ev(3)]);
    expect(s.accept(ev(4, META))).toEqual({ kind: 'start', continuous: true });
    expect(s.accept(ev(5, FULL)).kind).toBe('apply');
    // a reloaded page continues after seqs that never reached us
    expect(s.accept(ev(40, META))).toEqual({ kind: 'start', continuous: false });
    // a numbering that started over
    expect(s.accept(ev(0, META))).toEqual({ kind: 'start', continuous: false });
  });

  it('sorts a batch by seq and reports a gap in it', () => {
    const s = new LiveSequencer();
    const { decisions, gap } = s.acceptBatch([ev(2, FULL), ev(1, META), ev(3)]);
    expect(decisions.map((d) => [d.event.seq, d.decision.kind])).toEqual([
      [1, 'start'],
      [2, 'apply'],
      [3, 'apply'],
    ]);
    expect(gap).toBe(false);
    const next = s.acceptBatch([ev(4), ev(6), ev(7)]);
    expect(next.gap).toBe(true);
    expect(next.decisions.map((d) => d.decision.kind)).toEqual(['apply', 'gap', 'drop']);
  });

  it('reset (tab switch, rejoin) waits for a new Meta', () => {
    const s = new LiveSequencer();
    kinds(s, [ev(1, META), ev(2, FULL)]);
    s.reset();
    expect(s.lastSeq).toBeNull();
    expect(s.accept(ev(3)).kind).toBe('drop');
    expect(s.accept(ev(1, META)).kind).toBe('start');
  });
});
