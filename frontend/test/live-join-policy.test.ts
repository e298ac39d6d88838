import type { LiveEventsMessage, TandemEvent } from '@tandem/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  EARLY_MAX, EarlyEvents, NO_PICTURE_MAX_MS, NO_PICTURE_MS, PictureWatchdog, REJOIN_GRACE_MS, RejoinGrace,
} from '../src/pages/live/join-policy';

describe('live view picture watchdog', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function host(over: Partial<{ idle: boolean; satisfied: boolean; holdOff: boolean }> = {}) {
    const state = { idle: false, satisfied: false, holdOff: false, ...over };
    const asks: number[] = [];
    let dog: PictureWatchdog;
    // Like the view: asking (a resync) re-arms at the first delay, then the watchdog doubles it.
    dog = new PictureWatchdog({
      idle: () => state.idle,
      satisfied: () => state.satisfied,
      holdOff: () => state.holdOff,
      ask: () => {
        asks.push(Date.now());
        dog.arm();
      },
    });
    return { state, asks, dog };
  }

  it('asks again after NO_PICTURE_MS, then less and less often up to NO_PICTURE_MAX_MS', () => {
    const { asks, dog } = host();
    const t0 = Date.now();
    dog.arm();
    vi.advanceTimersByTime(NO_PICTURE_MS - 1);
    expect(asks).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(asks.map((t) => t - t0)).toEqual([NO_PICTURE_MS]);
    vi.advanceTimersByTime(60_000);
    const gaps = asks.slice(1).map((t, i) => t - asks[i]!);
    expect(gaps.slice(0, 3)).toEqual([2 * NO_PICTURE_MS, 4 * NO_PICTURE_MS, NO_PICTURE_MAX_MS]);
    expect(Math.max(...gaps)).toBe(NO_PICTURE_MAX_MS);
  });

  it('does not ask once the picture is up, nor when the view is idle, and clear() stops it', () => {
    const up = host({ satisfied: true });
    up.dog.arm();
    vi.advanceTimersByTime(60_000);
    expect(up.asks).toHaveLength(0);

    const idle = host({ idle: true });
    idle.dog.arm();
    vi.advanceTimersByTime(60_000);
    expect(idle.asks).toHaveLength(0);

    const cleared = host();
    cleared.dog.arm();
    cleared.dog.clear();
    vi.advanceTimersByTime(60_000);
    expect(cleared.asks).toHaveLength(0);
  });

  it('holds off without asking while asking is pointless, and asks once it is not', () => {
    const { state, asks, dog } = host({ holdOff: true });
    dog.arm();
    vi.advanceTimersByTime(5 * NO_PICTURE_MS);
    expect(asks).toHaveLength(0);
    state.holdOff = false;
    vi.advanceTimersByTime(NO_PICTURE_MS);
    expect(asks).toHaveLength(1);
  });
});

describe('live view rejoin grace', () => {
  it('allows rejoining for REJOIN_GRACE_MS from the first refusal, and starts over after a join', () => {
    const grace = new RejoinGrace();
    expect(grace.allowed(1_000)).toBe(true);
    expect(grace.allowed(1_000 + REJOIN_GRACE_MS - 1)).toBe(true);
    expect(grace.allowed(1_000 + REJOIN_GRACE_MS)).toBe(false);
    grace.reset();
    expect(grace.allowed(500_000)).toBe(true);
  });
});

describe('live view early events', () => {
  const message = (n: number, seq0 = 0): LiveEventsMessage =>
    ({ sessionId: 's', tabId: 't', events: Array.from({ length: n }, (_, i) => ({ seq: seq0 + i }) as unknown as TandemEvent) }) as LiveEventsMessage;

  it('keeps messages in order up to EARLY_MAX events, drops what would go past it, and empties on take', () => {
    const early = new EarlyEvents();
    const a = message(EARLY_MAX - 10);
    const tooBig = message(11);
    const fits = message(10);
    early.push(a);
    early.push(tooBig);
    early.push(fits);
    expect(early.take()).toEqual([a, fits]);
    expect(early.take()).toEqual([]);
    early.push(message(EARLY_MAX));
    early.clear();
    expect(early.take()).toEqual([]);
  });
});
