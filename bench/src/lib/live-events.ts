/**
 * Realistic small live events for the rooms bench: what the assist plugin forwards while an agent
 * watches an ordinary page — a forwarding run starts with Meta + a (small) FullSnapshot, then batches of a
 * few incremental mutation events (text changes, attribute changes, a node added or removed), each with its
 * per-tab `seq`. Pure functions: unit-tested in bench/test/live.test.ts.
 */

/** rrweb EventType / IncrementalSource / NodeType numbers used here. */
const FULL_SNAPSHOT = 2;
const INCREMENTAL = 3;
const META = 4;
const MUTATION = 0;

/** Node ids of the small page the snapshot describes (the mutations below target them). */
export const TEXT_IDS = [8, 11, 14, 17, 20];
export const ELEMENT_IDS = [7, 10, 13, 16, 19];
const LIST_ID = 6;

export interface LiveEvent {
  type: number;
  timestamp: number;
  seq: number;
  data: Record<string, unknown>;
}

/** Meta + FullSnapshot of a ~25-node page (about 1.5 KB of JSON): the start of a forwarding run. */
export function startOfRun(seq: number, ts: number, url = 'https://shop.example.com/cart'): LiveEvent[] {
  const items = ELEMENT_IDS.map((id, i) => ({
    type: 2,
    tagName: 'li',
    attributes: { class: 'item', 'data-i': String(i) },
    childNodes: [{ type: 3, textContent: `Item ${i}: €${(12 + i * 3).toFixed(2)}`, id: TEXT_IDS[i] }],
    id,
  }));
  const snapshot = {
    node: {
      type: 0,
      childNodes: [
        { type: 1, name: 'html', publicId: '', systemId: '', id: 2 },
        {
          type: 2,
          tagName: 'html',
          attributes: { lang: 'en' },
          childNodes: [
            { type: 2, tagName: 'head', attributes: {}, childNodes: [{ type: 2, tagName: 'title', attributes: {}, childNodes: [{ type: 3, textContent: 'Cart', id: 30 }], id: 29 }], id: 4 },
            {
              type: 2,
              tagName: 'body',
              attributes: {},
              childNodes: [
                { type: 2, tagName: 'h1', attributes: {}, childNodes: [{ type: 3, textContent: 'Your cart', id: 32 }], id: 31 },
                { type: 2, tagName: 'ul', attributes: { id: 'lines' }, childNodes: items, id: LIST_ID },
              ],
              id: 5,
            },
          ],
          id: 3,
        },
      ],
      id: 1,
    },
    initialOffset: { left: 0, top: 0 },
  };
  return [
    { type: META, timestamp: ts, seq, data: { href: url, width: 1280, height: 800 } },
    { type: FULL_SNAPSHOT, timestamp: ts, seq: seq + 1, data: snapshot },
  ];
}

/**
 * `count` incremental mutation events with consecutive seqs from `seq`: mostly text and attribute changes
 * of the snapshot's nodes, sometimes a line added to the list (new ids from `nextId`) and removed again.
 * Each is 150–300 bytes of JSON, as small DOM updates are.
 */
export function mutationBatch(r: () => number, seq: number, ts: number, count: number, nextId: { value: number }): LiveEvent[] {
  const out: LiveEvent[] = [];
  for (let i = 0; i < count; i++) {
    const p = r();
    const k = Math.floor(r() * TEXT_IDS.length);
    let data: Record<string, unknown>;
    if (p < 0.45) {
      data = { source: MUTATION, texts: [{ id: TEXT_IDS[k], value: `Item ${k}: €${(10 + r() * 90).toFixed(2)}` }], attributes: [], removes: [], adds: [] };
    } else if (p < 0.8) {
      data = {
        source: MUTATION,
        texts: [],
        attributes: [{ id: ELEMENT_IDS[k], attributes: { class: r() < 0.5 ? 'item selected' : 'item', 'aria-busy': r() < 0.3 ? 'true' : null } }],
        removes: [],
        adds: [],
      };
    } else {
      const id = nextId.value;
      nextId.value += 2;
      data = {
        source: MUTATION,
        texts: [],
        attributes: [],
        removes: id > 1002 ? [{ parentId: LIST_ID, id: id - 2 }] : [],
        adds: [
          { parentId: LIST_ID, nextId: null, node: { type: 2, tagName: 'li', attributes: { class: 'note' }, childNodes: [], id } },
          { parentId: id, nextId: null, node: { type: 3, textContent: `Note ${id}`, id: id + 1 } },
        ],
      };
    }
    out.push({ type: INCREMENTAL, timestamp: ts, seq: seq + i, data });
  }
  return out;
}

/**
 * Relay accounting of one agent's stream: events' send times by seq (a ring, since seqs are consecutive),
 * and what came back — latency samples for events sent inside the measuring window, gaps, duplicates.
 */
export class RelayTracker {
  private readonly sentAt: Float64Array;
  private readonly inWindow: Uint8Array;
  /** next seq the agent should receive (-1: nothing seen yet) */
  expected = -1;
  gaps = 0;
  /** events missing in those gaps */
  missing = 0;
  duplicates = 0;
  sentInWindow = 0;
  receivedInWindow = 0;

  constructor(private readonly ring = 8192) {
    this.sentAt = new Float64Array(ring);
    this.inWindow = new Uint8Array(ring);
  }

  sent(seq: number, at: number, counted: boolean): void {
    const i = seq % this.ring;
    this.sentAt[i] = at;
    this.inWindow[i] = counted ? 1 : 0;
    if (counted) this.sentInWindow++;
  }

  /**
   * Records one received event; pushes its latency into `samples` (and its send time into `sentTimes`,
   * when given) when it was sent in the window.
   */
  received(seq: number, at: number, samples: { push(v: number): unknown }, sentTimes?: { push(v: number): unknown }): void {
    if (this.expected >= 0 && seq !== this.expected) {
      if (seq > this.expected) {
        this.gaps++;
        this.missing += seq - this.expected;
      } else {
        this.duplicates++;
        return;
      }
    }
    this.expected = seq + 1;
    const i = seq % this.ring;
    if (this.inWindow[i]) {
      this.inWindow[i] = 0;
      this.receivedInWindow++;
      samples.push(at - this.sentAt[i]);
      sentTimes?.push(this.sentAt[i]);
    }
  }

  /** A new forwarding run (resync): the tab restarts its stream at `seq`. */
  restartAt(seq: number): void {
    this.expected = seq;
  }
}

/** A growable Float64 sample buffer (millions of latencies without boxing). */
export class Samples {
  private buf = new Float64Array(1 << 16);
  length = 0;
  push(v: number): void {
    if (this.length === this.buf.length) {
      const b = new Float64Array(this.buf.length * 2);
      b.set(this.buf);
      this.buf = b;
    }
    this.buf[this.length++] = v;
  }
  toSorted(): Float64Array {
    return this.buf.slice(0, this.length).sort();
  }
  /** A copy in insertion order. */
  toArray(): Float64Array {
    return this.buf.slice(0, this.length);
  }
}

/** Nearest-rank percentile of an ascending-sorted typed array (NaN when empty). */
export function percentileSorted(s: ArrayLike<number>, p: number): number {
  if (s.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))];
}

/**
 * The latency samples whose send time fell in a "quiet" second: one in which other processes on the
 * machine took less than `maxOtherCores`, and so did they in the second before (queues a busy second
 * filled take a while to drain). Returns them sorted, and how many seconds of the window were quiet.
 * `sentAt` are epoch ms, slices `[from, to)` epoch ms, in order.
 */
export function quietSamples(
  samples: ArrayLike<number>,
  sentAt: ArrayLike<number>,
  slices: { from: number; to: number; otherCores: number }[],
  maxOtherCores: number,
): { sorted: Float64Array; quietSeconds: number; totalSeconds: number } {
  const quiet = slices.filter((s, i) => s.otherCores < maxOtherCores && (i === 0 || slices[i - 1].otherCores < maxOtherCores));
  const out: number[] = [];
  for (let i = 0; i < samples.length; i++) {
    const t = sentAt[i];
    for (const q of quiet) {
      if (t >= q.from && t < q.to) {
        out.push(samples[i]);
        break;
      }
    }
  }
  const secs = (xs: typeof slices) => xs.reduce((a, s) => a + (s.to - s.from) / 1000, 0);
  return { sorted: Float64Array.from(out).sort(), quietSeconds: secs(quiet), totalSeconds: secs(slices) };
}
