import { describe, expect, it } from 'vitest';
import { bestOffset, liveTimestamp, median, offsetOf, serverToUser, userToAgent, userToServer } from '../src/lib/live/clock';

describe('clock offsets', () => {
  it('takes the server answer as half-way through the round trip', () => {
    // agent sends at 1000, server (60 s ahead) answers 61_010, agent receives at 1020
    expect(offsetOf({ sentAt: 1000, serverTime: 61_010, receivedAt: 1020 })).toEqual({ offsetMs: 60_000, rttMs: 20 });
  });

  it('keeps the fastest round trip of a few', () => {
    const best = bestOffset([
      { sentAt: 0, serverTime: 5_200, receivedAt: 400 }, // rtt 400, offset 5000
      { sentAt: 1000, serverTime: 6_005, receivedAt: 1010 }, // rtt 10, offset 5000
      { sentAt: 2000, serverTime: 7_300, receivedAt: 2100 }, // rtt 100, offset 5250
    ]);
    expect(best).toEqual({ offsetMs: 5_000, rttMs: 10 });
    expect(bestOffset([])).toBeNull();
  });

  it('moves user timestamps onto the server and agent clocks', () => {
    // the user's clock is 60 s behind the server (server − user = +60 000), the agent's 2 s ahead (server − agent = −2 000)
    const userTs = 1_000_000;
    expect(userToServer(userTs, 60_000)).toBe(1_060_000);
    expect(userToAgent(userTs, 60_000, -2_000)).toBe(1_062_000);
    expect(serverToUser(1_060_000, 60_000)).toBe(userTs);
    // ahead by 60 s
    expect(userToAgent(userTs, -60_000, 0)).toBe(940_000);
  });
});

describe('live timestamps for the Replayer', () => {
  const baseline = 10_000;
  it('leaves a corrected time inside [baseline, now] alone', () => {
    expect(liveTimestamp(10_500, baseline, 11_000)).toBe(10_500);
  });
  it('lifts anything before the baseline to it (drawn now, not "synchronously" without cursor)', () => {
    expect(liveTimestamp(9_000, baseline, 11_000)).toBe(baseline);
    // 60 s behind and not corrected yet
    expect(liveTimestamp(10_500 - 60_000, baseline, 11_000)).toBe(baseline);
  });
  it('brings a time from the future down to now (a 60 s fast clock must not freeze the view)', () => {
    expect(liveTimestamp(10_500 + 60_000, baseline, 11_000)).toBe(11_000);
  });
  it('is monotonic, so seq order survives', () => {
    const raw = [5_000, 9_999, 10_000, 10_700, 10_700, 70_000, 80_000];
    const out = raw.map((t) => liveTimestamp(t, baseline, 11_000));
    for (let i = 1; i < out.length; i++) expect(out[i]).toBeGreaterThanOrEqual(out[i - 1]);
  });
});

describe('median', () => {
  it('of odd and even windows', () => {
    expect(median([])).toBeNull();
    expect(median([30, 10, 20])).toBe(20);
    expect(median([40, 10, 20, 30])).toBe(25);
  });
});
