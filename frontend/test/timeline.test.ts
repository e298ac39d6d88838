import { describe, expect, it } from 'vitest';
import type { TandemEvent } from '@tandem/protocol';
import { emptyScan, scanEvent } from '../src/lib/player/scan';
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

const meta = (ts: number, seq: number) => ({ type: 4, data: { href: 'x', width: 1, height: 1 }, timestamp: ts, seq });
const move = (ts: number, seq: number) => ({ type: 3, data: { source: 1, positions: [] }, timestamp: ts, seq });
const click = (ts: number, seq: number) => ({ type: 3, data: { source: 2, type: 2, id: 1, x: 0, y: 0 }, timestamp: ts, seq });
const mutation = (ts: number, seq: number) => ({
  type: 3,
  data: { source: 0, texts: [], attributes: [], removes: [], adds: [] },
  timestamp: ts,
  seq,
});

describe('buildMarkers', () => {
  it('collects clicks, pages, custom events, failed requests, errors and console errors inside the recording', () => {
    const events = [meta(1000, 0), click(1500, 1), mutation(9000, 2)] as TandemEvent[];
    const scan = emptyScan();
    for (const e of events) scanEvent(e, scan);
    const net = (seq: number, ts: number, status: number, error = '') => ({
      tabId: 't', seq, ts, kind: 'fetch', method: 'GET', url: `https://a/api/${seq}`, status, durationMs: 10, requestBytes: 0, responseBytes: 0, error,
    });
    const markers = buildMarkers({
      startTime: 1000,
      totalTime: 8000,
      clicks: scan.clicks,
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
    const events = [meta(0, 0), move(1000, 1), mutation(5000, 2), click(20_000, 3), move(21_000, 4), mutation(40_000, 5)] as TandemEvent[];
    const scan = emptyScan();
    for (const e of events) scanEvent(e, scan);
    expect(inactivePeriods(scan.interactions, 0, 40_000, 10_000)).toEqual([
      { start: 1000, end: 20_000 },
      { start: 21_000, end: 40_000 },
    ]);
  });

  it('counts a quiet start as inactive and nothing for a busy tab', () => {
    expect(inactivePeriods([30_500, 31_000], 500, 31_000, 10_000)).toEqual([{ start: 0, end: 30_000 }]);
    expect(inactivePeriods([1000, 2000, 3000], 0, 3500, 10_000)).toEqual([]);
  });
});
