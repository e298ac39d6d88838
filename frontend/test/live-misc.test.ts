import type { ConsoleEntry, TandemEvent } from '@tandem/protocol';
import { describe, expect, it } from 'vitest';
import { appendConsole, consoleEntryOf } from '../src/lib/live/console';
import { endedMessage, parseWatchPath, timeLeft, watchErrorMessage } from '../src/lib/live/watch';
import { matchRoute } from '../src/lib/router.svelte';
import { fitScale, frameLabel } from '../src/lib/stage';

describe('live console rows', () => {
  const plugin = (seq: number, payload: unknown): TandemEvent =>
    ({ seq, type: 6, timestamp: 5, data: { plugin: 'rrweb/console@1', payload } }) as unknown as TandemEvent;

  it('reads console plugin events like storage does', () => {
    expect(consoleEntryOf(plugin(3, { level: 'warn', payload: ['"a"', '2'], trace: ['at x', 'at y'] }), 't1', 99)).toEqual({
      tabId: 't1',
      seq: 3,
      ts: 99,
      level: 'warn',
      message: '"a" 2',
      trace: 'at x\nat y',
    });
    expect(consoleEntryOf(plugin(4, {}), 't1', 1)?.level).toBe('log');
  });

  it('ignores everything else', () => {
    expect(consoleEntryOf({ seq: 1, type: 3, timestamp: 0, data: {} } as unknown as TandemEvent, 't', 0)).toBeNull();
    expect(consoleEntryOf({ seq: 1, type: 6, timestamp: 0, data: { plugin: 'other', payload: {} } } as unknown as TandemEvent, 't', 0)).toBeNull();
  });

  it('appends without repeats, in time order, bounded', () => {
    const e = (seq: number, ts: number): ConsoleEntry => ({ tabId: 't', seq, ts, level: 'log', message: String(seq), trace: '' });
    const list = appendConsole([e(1, 10), e(2, 20)], [e(2, 20), e(4, 15), e(3, 30)]);
    expect(list.map((x) => x.seq)).toEqual([1, 4, 2, 3]);
    expect(appendConsole(list, [e(9, 40)], 3).map((x) => x.seq)).toEqual([2, 3, 9]);
  });
});

describe('watch links', () => {
  it('recognises /watch and /embed paths', () => {
    expect(parseWatchPath('/watch/abc.def-ghi_j')).toEqual({ mode: 'watch', token: 'abc.def-ghi_j' });
    expect(parseWatchPath('/embed/tok/')).toEqual({ mode: 'embed', token: 'tok' });
    expect(parseWatchPath('/')).toBeNull();
    expect(parseWatchPath('/watch/')).toBeNull();
    expect(parseWatchPath('/watch/a/b')).toBeNull();
    expect(parseWatchPath('/watched/a')).toBeNull();
  });

  it('explains errors and endings in plain words', () => {
    expect(watchErrorMessage('unauthorized').message).toMatch(/expired/);
    expect(watchErrorMessage('not_found').title).toMatch(/not live/);
    expect(watchErrorMessage('weird', 'server says').message).toBe('server says');
    for (const r of ['user_stopped', 'consent_declined', 'session_gone', 'link_expired']) expect(endedMessage(r).title).toBeTruthy();
  });

  it('counts the time left', () => {
    expect(timeLeft(10_000, 10_000)).toBe('expired');
    expect(timeLeft(70_000, 10_000)).toBe('1m 00s left');
    expect(timeLeft(3_600_000 + 125_000, 0)).toBe('1h 02m left');
    expect(timeLeft(9_000, 0)).toBe('9s left');
  });
});

describe('routes', () => {
  it('has the live pages and settings', () => {
    expect(matchRoute('/live')).toEqual({ name: 'live-list' });
    expect(matchRoute('/live/grid')).toEqual({ name: 'live-grid' });
    expect(matchRoute('/live/abc')).toEqual({ name: 'live', id: 'abc' });
    expect(matchRoute('/settings')).toEqual({ name: 'settings' });
    expect(matchRoute('/sessions/x')).toEqual({ name: 'session', id: 'x' });
  });
});

describe('stage scale', () => {
  it('fits and never enlarges', () => {
    expect(fitScale(null, 800, 600)).toBe(1);
    expect(fitScale({ width: 400, height: 300 }, 1000, 1000)).toBe(1);
    expect(fitScale({ width: 1400, height: 900 }, 732, 500, 16)).toBeCloseTo(0.5);
  });

  it('labels the size, and the scale only when shown smaller', () => {
    expect(frameLabel({ width: 1280, height: 720 }, 1)).toBe('1280×720');
    expect(frameLabel({ width: 1280, height: 720 }, 0.714)).toBe('1280×720 · 71%');
  });
});
