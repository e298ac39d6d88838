import { describe, expect, it } from 'vitest';
import { eventSchema } from '../../backend/src/ingest/schemas.js';
import { rng } from '../src/ingest-load.js';
import { RelayTracker, Samples, mutationBatch, percentileSorted, quietSamples, startOfRun, TEXT_IDS } from '../src/lib/live-events.js';
import { cookiePair } from '../src/lib/live-common.js';
import {
  CLOCK_INIT,
  JOIN_WS_TAP_INIT,
  READY_TEXT,
  STAGE_WATCH_INIT,
  WS_TAP_INIT,
  joinWatchInit,
  liveUserPage,
  markText,
  marksIn,
  skewClockScript,
  splitLatencies,
  type MarkTimes,
} from '../src/lib/live-pages.js';
import { percentile } from '../src/lib/stats.js';

describe('live events for the rooms bench', () => {
  it('a forwarding run starts with Meta + FullSnapshot, then small mutation batches with consecutive seqs', () => {
    const start = startOfRun(0, 1000);
    expect(start.map((e) => [e.type, e.seq])).toEqual([
      [4, 0],
      [2, 1],
    ]);
    const r = rng(7);
    const nextId = { value: 1000 };
    let seq = 2;
    const sizes: number[] = [];
    for (let b = 0; b < 200; b++) {
      const batch = mutationBatch(r, seq, 2000 + b, 3, nextId);
      expect(batch.map((e) => e.seq)).toEqual([seq, seq + 1, seq + 2]);
      for (const e of batch) {
        expect(eventSchema.safeParse(e).success).toBe(true);
        expect(e.type).toBe(3);
        expect(e.data.source).toBe(0);
        sizes.push(JSON.stringify(e).length);
      }
      seq += 3;
    }
    // Small DOM updates: a few hundred bytes each at most.
    expect(Math.max(...sizes)).toBeLessThan(400);
    expect(Math.min(...sizes)).toBeGreaterThan(60);
    // Text changes target the snapshot's text nodes.
    const texts = mutationBatch(rng(1), 0, 0, 50, { value: 1000 }).flatMap((e) => (e.data.texts as { id: number }[]) ?? []);
    expect(texts.length).toBeGreaterThan(0);
    for (const t of texts) expect(TEXT_IDS).toContain(t.id);
  });

  it('relay tracker: latencies only for events sent in the window, gaps and duplicates counted', () => {
    const t = new RelayTracker(16);
    const samples: number[] = [];
    t.sent(0, 10, false);
    t.sent(1, 20, true);
    t.sent(2, 20, true);
    t.sent(3, 30, true);
    t.received(0, 15, samples);
    t.received(1, 25, samples);
    t.received(1, 26, samples); // duplicate
    t.received(3, 40, samples); // 2 missing
    expect(samples).toEqual([5, 10]);
    expect(t.sentInWindow).toBe(3);
    expect(t.receivedInWindow).toBe(2);
    expect(t.duplicates).toBe(1);
    expect(t.gaps).toBe(1);
    expect(t.missing).toBe(1);
  });

  it('keeps the samples sent in quiet seconds only', () => {
    const samples = [5, 500, 6, 700];
    const sentAt = [1000, 2100, 3000, 3999];
    const slices = [
      { from: 1000, to: 2000, otherCores: 0.05 },
      { from: 2000, to: 3000, otherCores: 0.9 },
      { from: 3000, to: 4000, otherCores: 0.1 },
    ];
    // The third second is quiet but follows a busy one: its queues may still be draining.
    const q = quietSamples(samples, sentAt, slices, 0.25);
    expect(Array.from(q.sorted)).toEqual([5]);
    expect(q.quietSeconds).toBe(1);
    expect(q.totalSeconds).toBe(3);
    const calm = quietSamples(samples, sentAt, slices.map((x) => ({ ...x, otherCores: 0 })), 0.25);
    expect(Array.from(calm.sorted)).toEqual([5, 6, 500, 700]);
  });

  it('sample buffer grows and gives nearest-rank percentiles like stats.percentile', () => {
    const s = new Samples();
    const xs: number[] = [];
    for (let i = 0; i < 100_000; i++) {
      const v = (i * 7919) % 1000;
      s.push(v);
      xs.push(v);
    }
    const sorted = s.toSorted();
    expect(sorted.length).toBe(100_000);
    for (const p of [50, 95, 99, 100]) expect(percentileSorted(sorted, p)).toBe(percentile(xs, p));
    expect(percentileSorted(new Float64Array(0), 50)).toBeNaN();
  });
});

describe('live benches: parsing and page scripts', () => {
  it('takes the cookie pair out of Set-Cookie', () => {
    expect(cookiePair('tandem_agent=abc.def-1; Path=/; HttpOnly; SameSite=Lax; Max-Age=604800')).toBe('tandem_agent=abc.def-1');
    expect(cookiePair('a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT, b=2; Path=/')).toBe('a=1');
    expect(cookiePair(null)).toBeNull();
    expect(cookiePair('garbage')).toBeNull();
  });

  it('finds every mark in a socket frame, never a prefix of another', () => {
    const frame = `42/assist,["live:events",{"events":[{"data":{"texts":[{"id":9,"value":"${markText(12)}"}]}},{"value":"${markText(123)}"}]}]`;
    expect(marksIn(frame)).toEqual([12, 123]);
    expect(marksIn('live-mark-12')).toEqual([]);
  });

  it('splits mark latencies and counts marks replaced before they showed', () => {
    const t: MarkTimes = {
      sent: { 1: 0, 2: 200, 3: 400, 4: 600 },
      wsSend: { 1: 5, 2: 205, 3: 405 },
      wsRecv: { 1: 7, 2: 208, 3: 407 },
      seen: { 1: 20, 3: 420 },
      drawn: { 1: 30, 3: 430 },
    };
    const s = splitLatencies(t, 1, 4);
    expect(s.marks).toBe(4);
    // mark 2 never showed (3 replaced it): counted up to mark 3's frame; mark 4 never drawn at all.
    expect(s.total).toEqual([30, 230, 30]);
    expect(s.superseded).toBe(1);
    expect(s.missing).toEqual([4]);
    expect(s.userSide).toEqual([5, 5]);
    expect(s.relay).toEqual([2, 2]);
    expect(s.agentApply).toEqual([13, 13]);
    expect(s.frame).toEqual([10, 10]);
  });

  it('user pages carry the known text, the counter and the tracker snippet; heavy ones the extra nodes', () => {
    const light = liveUserPage('pk_x');
    expect(light).toContain(READY_TEXT);
    expect(light).toContain('id="counter"');
    expect(light).toContain('<script src="/tracker.js" data-project-key="pk_x"');
    const heavy = liveUserPage('pk_x', 5000);
    expect(heavy.length).toBeGreaterThan(light.length * 20);
    expect(heavy.match(/<body>/g)?.length).toBe(1);
  });

  it('in-page scripts are valid JavaScript', () => {
    for (const src of [CLOCK_INIT, JOIN_WS_TAP_INIT, WS_TAP_INIT, STAGE_WATCH_INIT, skewClockScript(-60_000), joinWatchInit('[data-testid="live-list"]')]) {
      expect(() => new Function(src)).not.toThrow();
    }
  });
});

describe('rooms bench: splitting the load and merging the generators', () => {
  it('shares a total over processes without losing any', async () => {
    const { share } = await import('../src/rooms.js');
    expect([0, 1].map((i) => share(10_001, 2, i))).toEqual([5001, 5000]);
    expect([0, 1].map((i) => share(1, 2, i))).toEqual([1, 0]);
    expect(share(500, 1, 0)).toBe(500);
  });

  it('merges latency samples and sums counts', async () => {
    const { mergeResults } = await import('../src/rooms.js');
    const one = (samples: number[], sent: number, rec: number, elu: number) => ({
      windowMs: 1000, idleAtStart: 5, idleAtEnd: 5, activeAtStart: 2, activeAtEnd: 2, disconnects: { 'transport close': 1 },
      sentEvents: sent, receivedEvents: rec, sentBatches: sent, gaps: 0, missing: 0, duplicates: 0, resyncs: 0,
      latency: { n: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 },
      samples: Float64Array.from(samples), sampleSentAt: Float64Array.from(samples.map((x) => 1000 + x)), lagSamples: new Float64Array([1]), sendLag: { p50: 1, p99: 1, max: 1 },
      bytesPerBatch: 600, elu, cpuCores: 0.25, rssBytes: 100,
    });
    const m = mergeResults([one([1, 2, 3], 3, 3, 0.5), one([10, 20], 2, 2, 0.7)]);
    expect(Array.from(m.samples)).toEqual([1, 2, 3, 10, 20]);
    expect(Array.from(m.sampleSentAt)).toEqual([1001, 1002, 1003, 1010, 1020]);
    expect(m.latency.p50).toBe(3);
    expect(m.latency.max).toBe(20);
    expect(m.sentEvents).toBe(5);
    expect(m.idleAtEnd).toBe(10);
    expect(m.disconnects).toEqual({ 'transport close': 2 });
    expect(m.elus).toEqual([0.5, 0.7]);
    expect(m.cpuCores).toBe(0.5);
  });
});
