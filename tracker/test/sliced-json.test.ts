import { describe, expect, it } from 'vitest';
import { Batcher, batchBody, batchParts, type QueuedEvent, type Stream } from '../src/batcher.js';
import { OWN_PIECE_CHARS, SlicedJson, countContainers, holdsMoreThan } from '../src/sliced-json.js';

/** A snapshot-shaped tree (rrweb's serialized nodes) with every kind of text JSON escapes. */
function snapshotTree(nodes: number, seed = 1): Record<string, unknown> {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const texts = ['plain', 'quote " and \\ backslash', 'tab\tnew\nline\r', '\u0000\u001f\u007f control', 'é ü ß 中文 日本語', '😀 emoji 👩‍👩‍👧', 'lone \ud800 high', 'lone \udc00 low', '\u2028\u2029 separators', '</script><!--'];
  let id = 1;
  const root: Record<string, unknown> = { type: 0, childNodes: [] as unknown[], id: id++ };
  const open: unknown[][] = [root.childNodes as unknown[]];
  while (id <= nodes) {
    const list = open[Math.floor(rnd() * open.length)];
    if (rnd() < 0.45) {
      list.push({ type: 3, textContent: texts[Math.floor(rnd() * texts.length)], id: id++ });
    } else {
      const children: unknown[] = [];
      const el: Record<string, unknown> = {
        type: 2,
        tagName: rnd() < 0.5 ? 'div' : 'span',
        attributes: { class: `c${id}`, 'data-x': texts[id % texts.length], style: rnd() < 0.2 ? undefined : 'color: red' },
        childNodes: children,
        id: id++,
      };
      if (rnd() < 0.1) el.isSVG = true;
      if (rnd() < 0.05) el.rootId = undefined;
      list.push(el);
      open.push(children);
    }
  }
  return { type: 2, data: { node: root, initialOffset: { left: 0, top: -0 } }, timestamp: 1_700_000_000_000, seq: 7 };
}

const runAll = (j: SlicedJson, until = Infinity) => {
  let slices = 1;
  while (!j.run(until)) slices++;
  return slices;
};

describe('SlicedJson: the same text as JSON.stringify', () => {
  it.each([0, 2, 50, 3_000])('on a snapshot-shaped tree with escapes and unicode (walk everything above %i containers)', (wholeMax) => {
    const event = snapshotTree(5_000, wholeMax + 3);
    const j = new SlicedJson(event, wholeMax);
    runAll(j);
    expect(j.result).toBe(JSON.stringify(event));
  });

  it('a wide array of small items (a mutation storm) goes in runs, one native call per run, not one per item', () => {
    const attributes = Array.from({ length: 10_000 }, (_, i) => ({ id: i + 1, attributes: { 'data-i': String(i), style: i % 3 ? null : 'color: red' } }));
    const event = { type: 3, data: { source: 0, texts: [], attributes, removes: [], adds: [] }, timestamp: 1_700_000_000_000 };
    const j = new SlicedJson(event);
    // A clock that has always run out: every run() stops at its first clock check (every 4th member).
    const slices = runAll(j, 0);
    expect(j.result).toBe(JSON.stringify(event));
    // Per item, that is 2,500 slices; in runs of up to WHOLE_MAX_CONTAINERS containers (2 per item), a handful.
    expect(slices).toBeGreaterThan(1);
    expect(slices).toBeLessThan(20);
  });

  it('on JSON.stringify edge cases: undefined, functions, symbols, holes, toJSON, numbers, null prototypes', () => {
    const nullProto = Object.assign(Object.create(null), { a: 1, b: [undefined, () => 1] });
    const sparse = [1, , 3]; // eslint-disable-line no-sparse-arrays
    const value = {
      u: undefined,
      f: () => 1,
      s: Symbol('x'),
      arr: [undefined, () => 1, Symbol('y'), null, sparse, [[[]]], {}],
      date: new Date(0),
      custom: { toJSON: () => ({ replaced: true }) },
      gone: { toJSON: () => undefined },
      nums: [0, -0, NaN, Infinity, -Infinity, 1e21, 1e-7, 0.1 + 0.2, Number.MAX_SAFE_INTEGER],
      boxed: [new String('s'), new Number(2), new Boolean(false)],
      nullProto,
      '': 'empty key',
      'key "quoted" \n': 'k',
      10: 'numeric keys come first',
      deep: { a: { b: { c: { d: [1, { e: 'f' }] } } } },
    };
    for (const wholeMax of [0, 1, 5, 3_000]) {
      const j = new SlicedJson(value, wholeMax);
      runAll(j);
      expect(j.result).toBe(JSON.stringify(value));
    }
    for (const top of [undefined, null, 1, 'str', [undefined], new Date(5)]) {
      const j = new SlicedJson(top, 0);
      runAll(j);
      expect(j.result).toBe(JSON.stringify(top));
    }
  });

  it('throws on a cycle, walked or not, as JSON.stringify does', () => {
    const a: Record<string, unknown> = { x: [1, 2, { y: 3 }] };
    (a.x as unknown[]).push(a);
    expect(() => JSON.stringify(a)).toThrow(TypeError);
    for (const wholeMax of [0, 3_000]) expect(() => runAll(new SlicedJson(a, wholeMax))).toThrow(TypeError);
  });

  it('counts containers with an early exit', () => {
    expect(holdsMoreThan({ a: [{}, {}] }, 4)).toBe(false);
    expect(holdsMoreThan({ a: [{}, {}, {}] }, 4)).toBe(true);
    expect(holdsMoreThan('text', 0)).toBe(false);
  });
});

describe('SlicedJson: slices', () => {
  it('stops at its deadline and continues where it stopped (a 60,000-node snapshot in many short slices)', () => {
    const event = snapshotTree(60_000);
    const whole = JSON.stringify(event);
    const j = new SlicedJson(event);
    let slices = 0;
    let longest = 0;
    for (;;) {
      const t = performance.now();
      const done = j.run(t + 2);
      longest = Math.max(longest, performance.now() - t);
      slices++;
      if (done) break;
    }
    expect(j.result).toBe(whole);
    expect(slices).toBeGreaterThan(3);
    expect(j.pieces.join('')).toBe(whole);
    // Each slice wrote a small share of the text (wall-clock bounds are the browser test's: here a GC pause
    // of Node under load can stretch any slice; e2e/tests/tracker-long-task.test.ts measures CPU per task).
    expect(Math.max(...j.pieces.map((p) => p.length))).toBeLessThan(whole.length / 3);
    console.log(`[sliced-json] ${slices} slices of 2 ms, longest ${longest.toFixed(1)} ms wall`);
  });
});

describe('SlicedJson: what the worker hand-off gets (issue 8: no copies on the page)', () => {
  it('long native outputs are pieces of their own; the text appended around them is a small share', () => {
    const event = snapshotTree(60_000);
    const whole = JSON.stringify(event);
    const j = new SlicedJson(event);
    expect(j.run(Infinity)).toBe(true);
    expect(j.result).toBe(whole);
    expect(j.pieces.join('')).toBe(whole);
    const own = j.pieces.filter((p) => p.length >= OWN_PIECE_CHARS);
    expect(own.length).toBeGreaterThan(5);
    // Each long piece is one native output: a run of whole items (it starts with an item, not a comma).
    for (const p of own) expect(p[0]).toMatch(/[{"\[0-9tfn-]/);
    const glue = j.pieces.filter((p) => p.length < OWN_PIECE_CHARS).reduce((n, p) => n + p.length, 0);
    expect(glue).toBeLessThan(whole.length / 20);
  });

  it('counting stays exact when a count stops early and the next starts (the reused stack)', () => {
    const wide = { a: Array.from({ length: 5_000 }, (_, i) => ({ i, b: [{}, {}] })) };
    expect(countContainers(wide, 10)).toBe(11);
    expect(countContainers({ x: [{}, [{}]] }, 100)).toBe(5);
    expect(countContainers(wide, 1e9)).toBe(2 + 5_000 * 4);
    expect(countContainers([[], {}, null, 'x', [[]]], 100)).toBe(5);
  });
});

describe('Batcher: a big event serialised across idle tasks', () => {
  const stream: Stream = { sessionId: 's', tabId: 't', token: 'k', tokenExpiresAt: Infinity, ackSeq: -1 };

  it('yields between slices, keeps later events behind it, and a flush in between sends only what came before', async () => {
    const tasks: ((d?: { didTimeout: boolean; timeRemaining(): number }) => void)[] = [];
    const b = new Batcher(1e12, { later: (fn) => tasks.push(fn) });
    const small = (seq: number) => ({ type: 3, timestamp: seq, seq, data: { source: 2, type: 1, id: 5 } }) as never;
    b.defer(stream, small(0));
    const snapshot = { ...snapshotTree(60_000), seq: 1 } as never;
    b.defer(stream, snapshot);
    b.defer(stream, small(2));
    let flushed = false;
    void b.serialized().then(() => (flushed = true));
    const sent: number[] = [];
    const collected: QueuedEvent[] = [];
    let ran = 0;
    // Idle periods of 1 ms: each task does its minimum slice (2 ms) and schedules the next.
    while (tasks.length) {
      tasks.shift()!({ didTimeout: false, timeRemaining: () => 1 });
      ran++;
      for (const batch of b.drain()) {
        sent.push(...batch.events.map((e) => e.seq));
        collected.push(...batch.events);
      }
      if (sent.length === 1 && ran === 1) expect(b.isEmpty).toBe(false);
    }
    expect(ran).toBeGreaterThan(3);
    expect(sent).toEqual([0, 1, 2]);
    expect(collected.map((e) => e.seq)).toEqual([0, 1, 2]);
    expect(collected[1].json).toBe(JSON.stringify(snapshot));
    // The worker hand-off gets the body in parts (the snapshot's slices), which join to the body exactly.
    const batch = { stream, events: collected, bytes: collected.reduce((n, e) => n + e.json.length + 1, 0) };
    const parts = batchParts(batch)!;
    expect(parts.length).toBeGreaterThan(3);
    expect(parts.join('')).toBe(batchBody(batch));
    expect(batchParts({ ...batch, events: [collected[0], collected[2]] })).toBeNull();
    await Promise.resolve();
    expect(flushed).toBe(true);
  });

  it('drain(true) finishes a serialisation in progress, in order (pagehide)', () => {
    const tasks: ((d?: { didTimeout: boolean; timeRemaining(): number }) => void)[] = [];
    const b = new Batcher(1e12, { later: (fn) => tasks.push(fn) });
    const snapshot = { ...snapshotTree(60_000), seq: 1 };
    b.defer(stream, snapshot as never);
    b.defer(stream, { type: 3, timestamp: 2, seq: 2, data: {} } as never);
    tasks.shift()!({ didTimeout: false, timeRemaining: () => 1 });
    const out = b.drain(true).flatMap((x) => x.events);
    expect(out.map((e) => e.seq)).toEqual([1, 2]);
    expect(out[0].json).toBe(JSON.stringify(snapshot));
    expect(b.isEmpty).toBe(true);
  });
});
