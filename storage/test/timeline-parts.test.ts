import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TandemEvent } from '@tandem/protocol';
import { openStore, type TandemStore } from '../src/index.js';
import { createTimelineReader } from '../src/timeline.js';
import { batch, click, custom, fullSnapshot, identify, meta, mouseMove, start, uid } from './fixtures.js';

/**
 * The timeline is read in parts of a tab's seqs (a background read the next page's open can pass between
 * parts). Read in parts of 7 seqs, it must be the same answer as read whole: marks in order, and each
 * 10 s bucket's first and last input moment when the bucket's events fall in several parts.
 */
const dir = mkdtempSync(join(tmpdir(), 'tandem-timeline-parts-'));
let store: TandemStore;
const projectId = uid('p');
const sessionId = uid('s');
const tabId = uid('t');

beforeAll(async () => {
  store = await openStore({ dataDir: dir, maxDelayMs: 20 });
  const t0 = Math.floor(Date.now() / 10_000) * 10_000 - 600_000;
  const events: TandemEvent[] = [meta(0, t0, 'https://shop.test/'), fullSnapshot(1, t0 + 1)];
  // 3 moves a second for 25 s (buckets of 10 s hold ~30 seqs each, cut by parts of 7), clicks and customs between.
  for (let i = 0; i < 75; i++) {
    const seq = events.length;
    const ts = t0 + 1000 + Math.round((i * 1000) / 3);
    events.push(i % 11 === 5 ? click(seq, ts) : i % 17 === 3 ? custom(seq, ts, 'tandem/custom@1', { name: `step-${i}`, payload: { i } }) : mouseMove(seq, ts));
  }
  events.push(identify(events.length, t0 + 30_000, 'u-9'));
  await store.startSession(start(projectId, sessionId, tabId, { startedAt: t0 }));
  await store.writeBatch(batch(projectId, sessionId, tabId, events));
});

afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('timeline read in parts', () => {
  it('is the same answer as the whole tab read at once', async () => {
    const whole = await createTimelineReader(store.driver, 'tandem', 1_000_000).getTimeline(projectId, sessionId, tabId);
    const parts = await createTimelineReader(store.driver, 'tandem', 7).getTimeline(projectId, sessionId, tabId);
    expect(whole.clicks.length).toBe(7);
    expect(whole.customs.length).toBe(4);
    expect(whole.identifies).toHaveLength(1);
    // 25 s of input: first and last of each of the 3–4 buckets it touches.
    expect(whole.interactions.length).toBeGreaterThanOrEqual(6);
    expect(parts).toEqual(whole);
    expect(await store.getTimeline(projectId, sessionId, tabId)).toEqual(whole);
  });

  it('is empty for an unknown tab, and stops when its page is gone', async () => {
    expect(await store.getTimeline(projectId, sessionId, uid('t'))).toEqual({ tabId: expect.any(String), clicks: [], customs: [], identifies: [], interactions: [], truncated: false });
    const gone = new AbortController();
    gone.abort(new Error('page closed'));
    await expect(createTimelineReader(store.driver, 'tandem', 7).getTimeline(projectId, sessionId, tabId, { signal: gone.signal })).rejects.toThrow('page closed');
  });
});
