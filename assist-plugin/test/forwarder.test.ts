import { describe, expect, it } from 'vitest';
import type { TandemEvent } from '@tandem/protocol';
import { Forwarder, MAX_EVENTS_PER_MESSAGE } from '../src/forwarder.js';
import { FULL, META, ev } from './helpers.js';

function setup() {
  const sent: TandemEvent[][] = [];
  const tasks: (() => void)[] = [];
  let snapshotRequests = 0;
  let cancelled = 0;
  let failNext = false;
  const f = new Forwarder({
    send: (events) => {
      if (failNext) {
        failNext = false;
        throw new Error('boom');
      }
      sent.push(events);
    },
    schedule: (fn) => void tasks.push(fn),
    requestSnapshot: () => {
      snapshotRequests++;
      return () => void cancelled++;
    },
  });
  const tick = () => {
    for (const t of tasks.splice(0)) t();
  };
  const seqs = () => sent.map((m) => m.map((e) => e.seq));
  return {
    f,
    sent,
    tasks,
    tick,
    seqs,
    get snapshotRequests() {
      return snapshotRequests;
    },
    get cancelled() {
      return cancelled;
    },
    failOnce: () => void (failNext = true),
  };
}

describe('Forwarder', () => {
  it('forwards nothing before start (no work when nobody watches)', () => {
    const s = setup();
    for (let i = 0; i < 5; i++) s.f.push(ev(i, i === 0 ? META : 3));
    s.tick();
    expect(s.sent).toEqual([]);
    expect(s.tasks).toEqual([]);
    expect(s.f.forwarding).toBe(false);
  });

  it('starts at the first Meta event after start, then sends one message per macrotask', () => {
    const s = setup();
    s.f.push(ev(10)); // before start
    s.f.start();
    s.f.push(ev(11)); // still before the snapshot: skipped
    s.f.push(ev(12, META));
    s.f.push(ev(13, FULL));
    s.f.push(ev(14));
    expect(s.sent).toEqual([]); // nothing synchronously
    expect(s.tasks.length).toBe(1); // one task scheduled for the whole burst
    s.tick();
    expect(s.seqs()).toEqual([[12, 13, 14]]);
    s.f.push(ev(15));
    s.f.push(ev(16));
    s.tick();
    expect(s.seqs()).toEqual([[12, 13, 14], [15, 16]]);
    expect(s.f.lastForwardedSeq).toBe(16);
    expect(s.f.runs).toBe(1);
    expect(s.f.sentMessages).toBe(2);
    expect(s.f.sentEvents).toBe(5);
  });

  it('stop drops the queue and stops; lastForwardedSeq stays', () => {
    const s = setup();
    s.f.start();
    s.f.push(ev(0, META));
    s.tick();
    s.f.push(ev(1));
    s.f.stop();
    s.tick();
    s.f.push(ev(2));
    s.tick();
    expect(s.seqs()).toEqual([[0]]);
    expect(s.f.lastForwardedSeq).toBe(0);
    expect(s.f.forwarding).toBe(false);
  });

  it('a seq jump ends the run: queued events still go, then nothing until the next Meta (snapshot asked once)', () => {
    const s = setup();
    s.f.start();
    s.f.push(ev(0, META));
    s.f.push(ev(1, FULL));
    s.f.push(ev(5)); // jump
    s.f.push(ev(6));
    expect(s.snapshotRequests).toBe(1);
    expect(s.f.gaps).toBe(1);
    s.tick();
    expect(s.seqs()).toEqual([[0, 1]]);
    s.f.push(ev(7, META));
    expect(s.cancelled).toBe(1); // the Meta came: the deferred snapshot is not needed
    s.f.push(ev(8, FULL));
    s.f.push(ev(9));
    s.tick();
    expect(s.seqs()).toEqual([[0, 1], [7, 8, 9]]);
    expect(s.f.runs).toBe(2);
  });

  it('a jump that is itself a Meta starts the next run at once (tracker re-baselined)', () => {
    const s = setup();
    s.f.start();
    s.f.push(ev(0, META));
    s.f.push(ev(1, FULL));
    s.f.push(ev(40, META));
    s.f.push(ev(41, FULL));
    s.tick();
    expect(s.seqs()).toEqual([[0, 1, 40, 41]]);
    expect(s.snapshotRequests).toBe(0);
    expect(s.f.runs).toBe(2);
    expect(s.f.gaps).toBe(1);
  });

  it('every message is consecutive within its run', () => {
    const s = setup();
    s.f.start();
    let seq = 100;
    s.f.push(ev(seq++, META));
    for (let i = 0; i < 50; i++) {
      s.f.push(ev(seq++));
      if (i % 7 === 0) s.tick();
    }
    s.tick();
    const all = s.seqs().flat();
    for (let i = 1; i < all.length; i++) expect(all[i]).toBe(all[i - 1] + 1);
  });

  it('restart (resync) drops the old queue and waits for the new Meta', () => {
    const s = setup();
    s.f.start();
    s.f.push(ev(0, META));
    s.f.push(ev(1));
    s.f.start(); // live:start again (reason gap)
    s.f.push(ev(2)); // before the snapshot
    s.f.push(ev(3, META));
    s.tick();
    expect(s.seqs()).toEqual([[3]]);
    expect(s.f.runs).toBe(2);
  });

  it('splits huge bursts into messages of at most MAX_EVENTS_PER_MESSAGE', () => {
    const s = setup();
    s.f.start();
    s.f.push(ev(0, META));
    for (let i = 1; i <= MAX_EVENTS_PER_MESSAGE + 10; i++) s.f.push(ev(i));
    s.tick();
    expect(s.sent.map((m) => m.length)).toEqual([MAX_EVENTS_PER_MESSAGE, 11]);
    expect(s.f.lastForwardedSeq).toBe(MAX_EVENTS_PER_MESSAGE + 10);
  });

  it('a failed send starts a new run with a new snapshot instead of leaving a hidden hole', () => {
    const s = setup();
    s.f.start();
    s.f.push(ev(0, META));
    s.failOnce();
    s.tick();
    expect(s.sent).toEqual([]);
    expect(s.snapshotRequests).toBe(1);
    s.f.push(ev(1)); // not a Meta: waits
    s.f.push(ev(2, META));
    s.tick();
    expect(s.seqs()).toEqual([[2]]);
  });
});
