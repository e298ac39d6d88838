import { describe, expect, it } from 'vitest';
import { bestOffset, measureClock, sampleOffset } from '../src/clock.js';

describe('clock offset', () => {
  it('offset = serverTime - (sent + received) / 2', () => {
    expect(sampleOffset({ sentAt: 1_000, receivedAt: 1_100, serverTime: 61_050 })).toEqual({ offsetMs: 60_000, rttMs: 100 });
    expect(sampleOffset({ sentAt: 1_000, receivedAt: 1_010, serverTime: 5 })).toEqual({ offsetMs: -1_000, rttMs: 10 });
  });

  it('takes the sample with the shortest round trip and ignores nonsense', () => {
    const best = bestOffset([
      { sentAt: 0, receivedAt: 300, serverTime: 5_000 }, // rtt 300, offset 4850
      { sentAt: 1_000, receivedAt: 1_020, serverTime: 6_010 }, // rtt 20, offset 5000
      { sentAt: 2_000, receivedAt: 2_080, serverTime: 7_000 }, // rtt 80
      { sentAt: 3_000, receivedAt: 2_000, serverTime: 1 }, // negative rtt
      { sentAt: NaN, receivedAt: 1, serverTime: 1 },
    ]);
    expect(best).toEqual({ offsetMs: 5_000, rttMs: 20 });
    expect(bestOffset([])).toBeUndefined();
  });

  it('measureClock pings one at a time and survives failures', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let wall = 10_000;
    let mono = 0;
    const rtts = [50, 10, 30];
    let i = 0;
    const ping = async (clientTime: number) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const rtt = rtts[i++];
      if (rtt === undefined) {
        inFlight--;
        throw new Error('timeout');
      }
      await Promise.resolve();
      const serverTime = clientTime + rtt / 2 + 2_000; // server 2 s ahead
      wall += rtt;
      mono += rtt;
      inFlight--;
      return serverTime;
    };
    const r = await measureClock(ping, { count: 4, now: () => wall, mono: () => mono });
    expect(maxInFlight).toBe(1);
    expect(r).toEqual({ offsetMs: 2_000, rttMs: 10 });
  });

  it('measureClock stops when cancelled', async () => {
    let calls = 0;
    let cancel = false;
    const r = await measureClock(
      async () => {
        calls++;
        cancel = true;
        return 1;
      },
      { count: 5, cancelled: () => cancel },
    );
    expect(calls).toBe(1);
    expect(r).toBeUndefined();
  });
});
