import { describe, expect, it } from 'vitest';
import { lastBefore, walkTo } from '../src/lib/player/stepwise';

/** A window: Meta, FullSnapshot, then 500 incremental events 10 ms apart (some sharing a timestamp). */
const t0 = 1_000_000;
const events = [
  { type: 4, timestamp: t0 },
  { type: 2, timestamp: t0 + 1 },
  ...Array.from({ length: 500 }, (_, i) => ({ type: 3, timestamp: t0 + 10 + Math.floor(i / 2) * 10 })),
];

/**
 * A Replayer that applies events as rrweb does (everything before the position that it has not
 * played yet) and costs 1 ms of clock per event applied, 20 ms for the snapshot.
 */
function fakeReplayer() {
  let applied = -1;
  let clock = 0;
  const calls: number[] = [];
  const replayer = {
    pause(offset?: number) {
      const upTo = lastBefore(events, t0 + (offset ?? 0));
      expect(upTo).toBeGreaterThanOrEqual(applied); // never backwards: nothing is rebuilt
      for (let i = applied + 1; i <= upTo; i++) clock += events[i].type === 2 ? 20 : 1;
      applied = upTo;
      calls.push(offset ?? -1);
    },
  };
  return { replayer, calls, now: () => clock, applied: () => applied };
}

describe('walkTo', () => {
  it('applies every event before the target once, in tasks of about the budget, yielding between', async () => {
    const fake = fakeReplayer();
    const taskCosts: number[] = [];
    let taskStart = 0;
    const local = 2000; // 2 s into the window: events up to t0 + 1999
    const done = await walkTo(fake.replayer, events, -1, local, () => true, 30, fake.now, async () => {
      taskCosts.push(fake.now() - taskStart);
      taskStart = fake.now();
    });
    taskCosts.push(fake.now() - taskStart);
    expect(done).toBe(true);
    expect(fake.applied()).toBe(lastBefore(events, t0 + local));
    expect(fake.calls[0]).toBe(2); // the first step rebuilds the snapshot only
    expect(Math.max(...fake.calls)).toBeLessThanOrEqual(local);
    expect(taskCosts.length).toBeGreaterThan(5);
    // Each task stops at the first look at the clock past the budget: one step (40 events) over at most.
    for (const cost of taskCosts) expect(cost).toBeLessThanOrEqual(30 + 40);
  });

  it('continues from where a Replayer already is, and stops when a newer move wants another place', async () => {
    const fake = fakeReplayer();
    fake.replayer.pause(500);
    const from = fake.applied();
    let yields = 0;
    const done = await walkTo(fake.replayer, events, from, 2500, () => yields < 2, 10, fake.now, async () => void yields++);
    expect(done).toBe(false);
    expect(yields).toBe(2);
    expect(fake.applied()).toBeLessThan(lastBefore(events, t0 + 2500));
  });

  it('does nothing when the target is not past what is applied', async () => {
    const fake = fakeReplayer();
    fake.replayer.pause(1000);
    const before = fake.calls.length;
    expect(await walkTo(fake.replayer, events, fake.applied(), 900, () => true, 30, fake.now, async () => {})).toBe(true);
    expect(fake.calls.length).toBe(before);
  });
});
