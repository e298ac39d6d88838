import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TandemEvent } from '@tandem/protocol';
import { KeptRun, RUN_LOG_KEEP_MS, RUN_LOG_MAX_EVENTS, RunLog } from '../src/run-log.js';
import { assistGuard } from '../src/guard.js';
import { FULL, META, ev } from './helpers.js';

const seqs = (log: RunLog) => log.replay()?.map((e) => e.seq) ?? null;

describe('RunLog', () => {
  it('keeps Meta + FullSnapshot and every consecutive event after them; a new Meta starts over', () => {
    const log = new RunLog();
    log.push(ev(0)); // before any Meta: nothing to keep
    expect(seqs(log)).toBeNull();
    log.push(ev(1, META));
    expect(seqs(log)).toBeNull(); // a Meta alone is no picture
    log.push(ev(2, FULL));
    log.push(ev(3));
    log.push(ev(4));
    expect(seqs(log)).toEqual([1, 2, 3, 4]);
    log.push(ev(5, META));
    log.push(ev(6, FULL));
    expect(seqs(log)).toEqual([5, 6]);
  });

  it('a seq jump, a Meta not followed by a FullSnapshot, or too many events empty it until the next Meta', () => {
    const log = new RunLog();
    log.push(ev(0, META));
    log.push(ev(1, FULL));
    log.push(ev(5));
    expect(seqs(log)).toBeNull();
    log.push(ev(6)); // still nothing: only a Meta starts a run
    expect(seqs(log)).toBeNull();

    log.push(ev(7, META));
    log.push(ev(8)); // not a FullSnapshot
    log.push(ev(9, FULL));
    expect(seqs(log)).toBeNull();

    log.push(ev(10, META));
    log.push(ev(11, FULL));
    for (let i = 0; i < RUN_LOG_MAX_EVENTS; i++) log.push(ev(12 + i));
    expect(log.size).toBe(RUN_LOG_MAX_EVENTS + 2);
    log.push(ev(12 + RUN_LOG_MAX_EVENTS));
    expect(seqs(log)).toBeNull();
  });

  it('replay is a copy: what follows does not change a run already handed out', () => {
    const log = new RunLog();
    log.push(ev(0, META));
    log.push(ev(1, FULL));
    const run = log.replay()!;
    log.push(ev(2));
    expect(run.map((e) => e.seq)).toEqual([0, 1]);
    log.clear();
    expect(log.replay()).toBeNull();
  });
});

describe('KeptRun', () => {
  afterEach(() => vi.useRealTimers());

  it('taps the bus while kept, keeps the run RUN_LOG_KEEP_MS after the watch ends, then untaps and forgets it', () => {
    vi.useFakeTimers();
    const listeners = new Set<(e: TandemEvent) => void>();
    const bus = { subscribe: (fn: (e: TandemEvent) => void) => (listeners.add(fn), () => void listeners.delete(fn)) };
    const kept = new KeptRun({ bus: () => bus, guard: () => assistGuard() });
    const publish = (e: TandemEvent) => listeners.forEach((fn) => fn(e));
    kept.keep();
    kept.keep(); // once
    expect(listeners.size).toBe(1);
    publish(ev(5, META));
    publish(ev(6, FULL));
    publish(ev(7));
    kept.expireLater();
    vi.advanceTimersByTime(RUN_LOG_KEEP_MS - 1);
    expect(kept.replay()?.map((e) => e.seq)).toEqual([5, 6, 7]);
    kept.keep(); // watched again in time: no expiry
    vi.advanceTimersByTime(RUN_LOG_KEEP_MS * 2);
    expect(kept.replay()?.map((e) => e.seq)).toEqual([5, 6, 7]);
    kept.expireLater();
    vi.advanceTimersByTime(RUN_LOG_KEEP_MS);
    expect(kept.replay()).toBeNull();
    expect(listeners.size).toBe(0);
    kept.keep();
    publish(ev(8));
    kept.drop();
    expect(listeners.size).toBe(0);
  });
});
