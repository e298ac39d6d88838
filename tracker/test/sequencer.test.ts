import { describe, expect, it } from 'vitest';
import { Sequencer } from '../src/sequencer.js';

const ev = () => ({ type: 3, data: { source: 0 }, timestamp: 1 }) as never;

describe('Sequencer', () => {
  it('starts right after the server ackSeq', () => {
    const s = new Sequencer();
    s.reset(41);
    expect(s.assign(ev()).seq).toBe(42);
    expect(s.assign(ev()).seq).toBe(43);
    expect(s.last).toBe(43);
  });

  it('starts at 0 for a new tab (ackSeq -1)', () => {
    const s = new Sequencer();
    s.reset(-1);
    expect(s.assign(ev()).seq).toBe(0);
  });

  it('continues after a local floor higher than the ack (events waiting in IndexedDB)', () => {
    const s = new Sequencer();
    s.reset(10, 25);
    expect(s.assign(ev()).seq).toBe(26);
    s.reset(30, 25);
    expect(s.assign(ev()).seq).toBe(31);
  });

  it('refuses to number events while unset', () => {
    const s = new Sequencer();
    expect(s.ready).toBe(false);
    expect(() => s.assign(ev())).toThrow();
    s.reset(-1);
    expect(s.ready).toBe(true);
    s.unset();
    expect(s.ready).toBe(false);
  });

  it('is strictly monotonic over many events', () => {
    const s = new Sequencer();
    s.reset(99);
    let prev = 99;
    for (let i = 0; i < 1000; i++) {
      const n = s.assign(ev()).seq;
      expect(n).toBe(prev + 1);
      prev = n;
    }
  });
});
