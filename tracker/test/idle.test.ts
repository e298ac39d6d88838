import { afterEach, describe, expect, it, vi } from 'vitest';
import { IDLE_MAX_WAIT_MS, whenIdle } from '../src/idle.js';

const g = globalThis as Record<string, unknown>;

afterEach(() => {
  vi.useRealTimers();
  delete g.requestIdleCallback;
  delete g.requestAnimationFrame;
});

describe('whenIdle', () => {
  it('uses requestIdleCallback with the maximum wait as its timeout', () => {
    const calls: { timeout?: number }[] = [];
    g.requestIdleCallback = (cb: () => void, opts?: { timeout: number }) => {
      calls.push(opts ?? {});
      cb();
      return 1;
    };
    let ran = 0;
    whenIdle(() => ran++);
    expect(ran).toBe(1);
    expect(calls).toEqual([{ timeout: IDLE_MAX_WAIT_MS }]);
  });

  it('without it: after the next frame, or after the maximum wait when no frame comes (background tab); once', async () => {
    // Timers only: vitest would otherwise install its own requestIdleCallback / requestAnimationFrame.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let ran = 0;
    whenIdle(() => ran++); // no requestAnimationFrame either: the timer bounds it
    await vi.advanceTimersByTimeAsync(IDLE_MAX_WAIT_MS - 1);
    expect(ran).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(ran).toBe(1);

    const frames: (() => void)[] = [];
    g.requestAnimationFrame = (cb: () => void) => frames.push(cb);
    whenIdle(() => ran++);
    frames[0]();
    await vi.advanceTimersByTimeAsync(0);
    expect(ran).toBe(2); // right after the frame
    await vi.advanceTimersByTimeAsync(IDLE_MAX_WAIT_MS);
    expect(ran).toBe(2); // the bound does not run it a second time
  });
});
