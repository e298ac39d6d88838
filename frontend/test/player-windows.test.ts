import { describe, expect, it } from 'vitest';
import type { TandemEvent } from '@tandem/protocol';
import { readWindow } from '../src/lib/player/fetch-window';
import { WindowCache } from '../src/lib/player/window-cache';
import { outsideSnapshotGaps, planWindows, shouldPrefetch, snapshotGaps, windowAt, windowsToKeep, type KeyframeRef, type ReplayWindow } from '../src/lib/player/windows';

const MIN = 60_000;
const tab = { tabId: 't1', startedAt: 1_000_000, endedAt: 1_000_000 + 60 * MIN };
/** A checkout every 2 minutes: Meta at seq n, FullSnapshot at n+1, 100 events per segment. */
const keyframes: KeyframeRef[] = Array.from({ length: 30 }, (_, i) => ({
  tabId: 't1',
  seq: i * 100 + 1,
  ts: tab.startedAt + i * 2 * MIN + 5,
  metaSeq: i * 100,
  metaTs: tab.startedAt + i * 2 * MIN,
}));

describe('planWindows', () => {
  it('starts every window at a Meta + FullSnapshot pair, at least the minimum span long, covering the tab without gaps', () => {
    const windows = planWindows(tab, keyframes, 5 * MIN);
    // keyframes every 2 min, windows of ≥ 5 min: boundaries at 6, 12, … 54 min
    expect(windows.map((w) => w.start / MIN)).toEqual([0, 6, 12, 18, 24, 30, 36, 42, 48, 54]);
    expect(windows[0]).toMatchObject({ fromSeq: 0, toSeq: 299 });
    expect(windows[1]).toMatchObject({ fromSeq: 300, toSeq: 599 });
    expect(windows.at(-1)).toMatchObject({ fromSeq: 2700, toSeq: null, end: 60 * MIN });
    for (let i = 1; i < windows.length; i++) {
      expect(windows[i].start).toBe(windows[i - 1].end);
      expect(windows[i].fromSeq).toBe((windows[i - 1].toSeq ?? -1) + 1);
      // the window's first seq is a keyframe's Meta
      expect(keyframes.some((k) => k.metaSeq === windows[i].fromSeq)).toBe(true);
    }
  });

  it('is one window without keyframes, and ignores other tabs and keyframes without a Meta before them', () => {
    expect(planWindows(tab, [])).toEqual([{ index: 0, fromSeq: 0, toSeq: null, start: 0, end: 60 * MIN }]);
    const other = keyframes.map((k) => ({ ...k, tabId: 't2' }));
    expect(planWindows(tab, other)).toHaveLength(1);
    const noMeta: KeyframeRef[] = [{ tabId: 't1', seq: 500, ts: tab.startedAt + 20 * MIN, metaSeq: -1, metaTs: tab.startedAt + 20 * MIN }];
    expect(planWindows(tab, noMeta).map((w) => w.fromSeq)).toEqual([0, 500]);
  });

  it('leaves no sliver window at the very end', () => {
    const late: KeyframeRef[] = [{ tabId: 't1', seq: 9001, ts: tab.endedAt - 10_000, metaSeq: 9000, metaTs: tab.endedAt - 10_000 }];
    expect(planWindows(tab, late)).toHaveLength(1);
  });
});

describe('windowAt / prefetch / keep', () => {
  const windows = planWindows(tab, keyframes, 5 * MIN);

  it('finds the window holding an offset', () => {
    expect(windowAt(windows, 0).index).toBe(0);
    expect(windowAt(windows, 6 * MIN - 1).index).toBe(0);
    expect(windowAt(windows, 6 * MIN).index).toBe(1);
    expect(windowAt(windows, 59 * MIN).index).toBe(9);
    expect(windowAt(windows, 99 * MIN).index).toBe(9);
  });

  it('prefetches the next window near the end of the current one, earlier at high speed, never past the last', () => {
    const w = windows[1]; // 6..12 min
    expect(shouldPrefetch(w, 7 * MIN, 1, windows.length)).toBe(false);
    expect(shouldPrefetch(w, 12 * MIN - 10_000, 1, windows.length)).toBe(true);
    expect(shouldPrefetch(w, 7 * MIN, 16, windows.length)).toBe(true);
    expect(shouldPrefetch(windows[9], 59.9 * MIN, 1, windows.length)).toBe(false);
  });

  it('keeps only the playing window and the next', () => {
    expect([...windowsToKeep(3, 10)].sort()).toEqual([3, 4]);
    expect([...windowsToKeep(9, 10)]).toEqual([9]);
  });
});

const ev = (seq: number, ts: number): TandemEvent => ({ type: 3, data: { source: 1, positions: [] }, timestamp: ts, seq }) as TandemEvent;
function ndjson(events: TandemEvent[], chunkSize = 37, state = { cancelled: false }): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  let at = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + chunkSize));
      at += chunkSize;
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return stream;
}

describe('readWindow', () => {
  it('keeps only the window seqs, stops reading past toSeq, and sorts by timestamp', async () => {
    const all = [ev(0, 10), ev(1, 30), ev(2, 20), ev(3, 40), ev(4, 50), ev(5, 60)];
    const state = { cancelled: false };
    const body = ndjson(all, 37, state);
    const got = await readWindow(body, { fromSeq: 1, toSeq: 3 });
    expect(got.map((e) => e.seq)).toEqual([2, 1, 3]);
    await new Promise((r) => setTimeout(r, 10));
    expect(state.cancelled).toBe(true);
    const tail = await readWindow(ndjson(all), { fromSeq: 4, toSeq: null });
    expect(tail.map((e) => e.seq)).toEqual([4, 5]);
  });
});

describe('WindowCache', () => {
  const windows: ReplayWindow[] = planWindows(tab, keyframes, 5 * MIN);

  it('fetches a window once however many ask, and drops all but the playing window and the next', async () => {
    const fetched: number[] = [];
    const aborted: number[] = [];
    const cache = new WindowCache(async (w, _p, signal) => {
      fetched.push(w.index);
      signal.addEventListener('abort', () => aborted.push(w.index));
      await new Promise((r) => setTimeout(r, 5));
      return [ev(w.fromSeq, w.start)];
    });
    const [a, b] = await Promise.all([cache.load(windows[2]), cache.load(windows[2])]);
    expect(a).toBe(b);
    await cache.load(windows[3]);
    await cache.load(windows[5]);
    expect(fetched).toEqual([2, 3, 5]);
    expect(cache.loadedIndexes()).toEqual([2, 3, 5]);
    const pending = cache.load(windows[7]);
    cache.keepAround(2, windows.length);
    expect(cache.loadedIndexes()).toEqual([2, 3]);
    expect(aborted).toEqual([7]);
    await pending; // the fetch above ignores its signal; what it returns is not kept
    expect(cache.loadedIndexes()).toEqual([2, 3]);
    await cache.load(windows[5]);
    expect(fetched).toEqual([2, 3, 5, 7, 5]);
  });
});

describe('snapshot gaps', () => {
  it('moves a target between a Meta and its FullSnapshot onto the snapshot', () => {
    const gaps = snapshotGaps(tab, keyframes);
    expect(outsideSnapshotGaps(gaps, 2 * MIN)).toBe(2 * MIN + 6);
    expect(outsideSnapshotGaps(gaps, 2 * MIN + 4)).toBe(2 * MIN + 6);
    expect(outsideSnapshotGaps(gaps, 2 * MIN + 5)).toBe(2 * MIN + 6);
    expect(outsideSnapshotGaps(gaps, 2 * MIN + 6)).toBe(2 * MIN + 6);
    expect(outsideSnapshotGaps(gaps, 3 * MIN)).toBe(3 * MIN);
  });
});
