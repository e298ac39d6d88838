import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ConsolePluginPayload } from '@tandem/protocol';
import { CONSOLE_ARG_MAX, CONSOLE_BURST, createConsoleCapture } from '../src/console.js';
import { Guard } from '../src/safe.js';

beforeAll(() => {
  // The plugin's stringify checks `instanceof Node`; node has no DOM.
  const g = globalThis as Record<string, unknown>;
  g.Node ??= class {};
  g.HTMLElement ??= class {};
});

afterEach(() => {
  vi.useRealTimers();
});

function setup() {
  vi.useFakeTimers();
  let now = 1_000_000;
  const pageCalls: unknown[][] = [];
  const fakeConsole = {
    log: (...a: unknown[]) => void pageCalls.push(a),
    warn: (...a: unknown[]) => void pageCalls.push(a),
    error: (...a: unknown[]) => void pageCalls.push(a),
  };
  const originalLog = fakeConsole.log;
  const win = { console: fakeConsole, addEventListener: vi.fn(), removeEventListener: vi.fn() };
  const captured: ConsolePluginPayload[] = [];
  const capped: number[] = [];
  const capture = createConsoleCapture(new Guard(() => {}), (n) => capped.push(n), win as never, () => now);
  const observer = capture.plugin.observer as (cb: (d: ConsolePluginPayload) => void, w: unknown, o: unknown) => () => void;
  const stopPlugin = observer((d) => captured.push(d), win, capture.plugin.options);
  capture.installGate();
  return { fakeConsole, originalLog, pageCalls, captured, capped, capture, stopPlugin, tick: (ms: number) => (now += ms) };
}

describe('console capture', () => {
  it('captures logs with their level and arguments', () => {
    const { fakeConsole, captured, pageCalls } = setup();
    fakeConsole.log('demo log', { a: 1 });
    fakeConsole.warn('careful');
    expect(captured.map((c) => c.level)).toEqual(['log', 'warn']);
    expect(captured[0].payload).toEqual(['"demo log"', '{"a":1}']);
    expect(pageCalls.length).toBe(2);
  });

  it('drops a flood past the burst, counts it, and still calls the page console each time', async () => {
    const { fakeConsole, captured, capped, pageCalls } = setup();
    for (let i = 0; i < 1_000; i++) fakeConsole.log('flood', i);
    expect(pageCalls.length).toBe(1_000);
    expect(captured.length).toBe(CONSOLE_BURST);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(capped).toEqual([1_000 - CONSOLE_BURST]);
  });

  it('keeps capturing past the plugin default of 1,000 logs when the rate is sane', () => {
    const { fakeConsole, captured, tick } = setup();
    for (let i = 0; i < 2_500; i++) {
      tick(100); // 10 logs/s, under the sustained rate
      fakeConsole.log('steady', i);
    }
    expect(captured.length).toBe(2_500);
  });

  it('bounds each argument', () => {
    const { fakeConsole, captured } = setup();
    fakeConsole.log('x'.repeat(50_000));
    expect(captured[0].payload[0].length).toBeLessThan(CONSOLE_ARG_MAX + 20);
  });

  it('uninstall puts the page console back', () => {
    const { fakeConsole, originalLog, capture, stopPlugin, captured } = setup();
    capture.uninstall();
    stopPlugin();
    expect(fakeConsole.log).toBe(originalLog);
    fakeConsole.log('after');
    expect(captured.length).toBe(0);
  });
});
