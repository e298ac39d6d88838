import { describe, expect, it } from 'vitest';
import { activeIndex, buildMarkers, inactivePeriods } from '../src/lib/timeline';

const entries = [{ ts: 100 }, { ts: 200 }, { ts: 200 }, { ts: 350 }];

describe('activeIndex', () => {
  it('finds the last entry at or before the player time', () => {
    expect(activeIndex(entries, 50)).toBe(-1);
    expect(activeIndex(entries, 100)).toBe(0);
    expect(activeIndex(entries, 250)).toBe(2);
    expect(activeIndex(entries, 10_000)).toBe(3);
    expect(activeIndex([], 10)).toBe(-1);
  });
});

describe('buildMarkers', () => {
  it('collects clicks, pages, custom events, failed requests, errors and console errors inside the recording', () => {
    const net = (seq: number, ts: number, status: number, error = '') => ({
      tabId: 't', seq, ts, kind: 'fetch', method: 'GET', url: `https://a/api/${seq}`, status, durationMs: 10, requestBytes: 0, responseBytes: 0, error,
    });
    const markers = buildMarkers({
      startTime: 1000,
      totalTime: 8000,
      clicks: [{ ts: 1500 }],
      customs: [{ ts: 5000, name: 'checkout' }],
      pages: [{ tabId: 't', ts: 1000, url: 'https://a/', title: 'Home' }],
      errors: [{ tabId: 't', seq: 3, ts: 4000, kind: 'error', name: 'TypeError', message: 'x is undefined', stack: '', source: '', line: 0, column: 0 }],
      consoleEntries: [
        { tabId: 't', seq: 4, ts: 3000, level: 'log', message: 'hi', trace: '' },
        { tabId: 't', seq: 5, ts: 3500, level: 'error', message: 'boom', trace: '' },
        { tabId: 't', seq: 6, ts: 99_000, level: 'error', message: 'after the end', trace: '' },
      ],
      network: [net(7, 2000, 200), net(8, 6000, 500), net(10, 7000, 0, 'Failed to fetch')],
    });
    expect(markers.map((m) => [m.kind, m.offset])).toEqual([
      ['page', 0],
      ['click', 500],
      ['console', 2500],
      ['error', 3000],
      ['custom', 4000],
      ['network', 5000],
      ['network', 6000],
    ]);
    expect(markers[3].label).toBe('TypeError: x is undefined');
    expect(markers[4].label).toBe('checkout');
    expect(markers[5].label).toBe('GET https://a/api/8 → 500');
    expect(markers[6].label).toBe('GET https://a/api/10 → Failed to fetch');
  });
});

describe('inactivePeriods', () => {
  it('reports gaps between user interactions longer than the threshold, up to the end of the tab', () => {
    // input at 1 s, 20 s and 21 s; the tab's events go on until 40 s
    expect(inactivePeriods([1000, 20_000, 21_000], 0, 40_000, 10_000)).toEqual([
      { start: 1000, end: 20_000 },
      { start: 21_000, end: 40_000 },
    ]);
  });

  it('counts a quiet start as inactive and nothing for a busy tab', () => {
    expect(inactivePeriods([30_500, 31_000], 500, 31_000, 10_000)).toEqual([{ start: 0, end: 30_000 }]);
    expect(inactivePeriods([1000, 2000, 3000], 0, 3500, 10_000)).toEqual([]);
  });
});
