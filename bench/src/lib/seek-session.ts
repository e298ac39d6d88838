/**
 * A generated recording of a shop page, as long as asked (60 minutes, 6 hours), written straight through
 * the storage writer: the `seek` bench and the player e2e tests use it.
 *
 * What it contains, per second of recording (rates picked to look like a busy SPA tab, not a toy):
 * - the page's clock `#clock` shows `T+<seconds since start>` (a text mutation every second), so a test
 *   can tell which moment a replay shows;
 * - a feed line appended every 5 s (the oldest removed past 20), a product's price attribute changed every 3 s;
 * - user input while active: mouse positions every 500 ms, a scroll every 10 s, a click every 20 s;
 *   every 15 minutes a 3-minute stretch without input (the page keeps ticking);
 * - a checkout (Meta + FullSnapshot of the current DOM, ~1,500 nodes, ~150 KB) every 2 minutes, as the
 *   tracker's `checkoutEveryNms` does;
 * - a console line every 30 s, a request every 20 s (one in five fails), a custom event every 5 minutes,
 *   an error every 10 minutes, an identify call at 30 s and a page visit every 10 minutes.
 */
import type { TandemStore } from '@tandem/storage';

export const CHECKOUT_MS = 2 * 60_000;
const PRODUCTS = 300;
const FEED_MAX = 20;
const VIEWPORT = { width: 1280, height: 800 };
const HREF = 'https://shop.example/catalog';

export interface GeneratedEvent {
  type: number;
  data: Record<string, unknown>;
  timestamp: number;
  seq: number;
}

/** Seeded, so a run is reproducible. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/** The second shown by `#clock` at `offsetMs` into the recording (the tick lands 3 ms after each second). */
export function clockAt(offsetMs: number): number {
  return Math.max(0, Math.floor((offsetMs - 3) / 1000));
}

/** Is the user idle at `offsetMs` (the 3 minutes starting at every 15-minute mark after the first)? */
export function idleAt(offsetMs: number): boolean {
  const inCycle = offsetMs % (15 * 60_000);
  return offsetMs >= 15 * 60_000 && inCycle < 3 * 60_000;
}

interface PageState {
  clock: number;
  feed: { id: number; text: string }[];
  prices: number[];
  nextId: number;
}

const CLOCK_TEXT_ID = 7;
const FEED_ID = 8;
const PRODUCTS_ID = 9;
const productId = (i: number) => 1000 + i * 5;

function el(id: number, tagName: string, attributes: Record<string, string>, childNodes: unknown[] = []) {
  return { type: 2, tagName, attributes, childNodes, id };
}
function text(id: number, textContent: string) {
  return { type: 3, textContent, id };
}
function feedNode(item: { id: number; text: string }) {
  return el(item.id, 'li', { class: 'feed-item' }, [text(item.id + 1, item.text)]);
}

const CSS = `body{font:14px system-ui;margin:0}#clock{font-size:28px;padding:12px;background:#eef}.p{display:inline-block;width:180px;margin:6px;padding:8px;border:1px solid #ddd}.feed-item{color:#334}`;

function snapshotNode(state: PageState, label: string) {
  const products = Array.from({ length: PRODUCTS }, (_, i) =>
    el(productId(i), 'div', { class: 'p', 'data-i': String(i) }, [
      el(productId(i) + 1, 'span', { class: 'name' }, [text(productId(i) + 2, `Product ${i} — a fine thing`)]),
      el(productId(i) + 3, 'button', { 'data-price': String(state.prices[i]) }, [text(productId(i) + 4, 'Add to cart')]),
    ]),
  );
  return {
    type: 0,
    id: 1,
    childNodes: [
      { type: 1, name: 'html', publicId: '', systemId: '', id: 2 },
      el(3, 'html', {}, [
        el(4, 'head', {}, [el(5, 'style', {}, [text(6, CSS)])]),
        el(10, 'body', {}, [
          el(11, 'h1', { id: 'clock' }, [text(CLOCK_TEXT_ID, `${label}+${state.clock}`)]),
          el(FEED_ID, 'ul', { id: 'feed' }, state.feed.map(feedNode)),
          el(PRODUCTS_ID, 'div', { id: 'products' }, products),
        ]),
      ]),
    ],
  };
}

export interface GenerateOptions {
  durationMs: number;
  startedAt: number;
  seed?: number;
  /** events per yielded batch */
  batchSize?: number;
  /** what `#clock` shows before `+<seconds>` (tells two generated tabs apart) */
  label?: string;
}

/** The tab's events in seq order, in batches (a 6-hour session is never all in memory at once). */
export function* generateSession(opts: GenerateOptions): Generator<GeneratedEvent[]> {
  const random = rng(opts.seed ?? 42);
  const label = opts.label ?? 'T';
  /** the page's URL: checkouts' Meta events carry it, as rrweb's do */
  let url = HREF;
  const batchSize = opts.batchSize ?? 2000;
  const state: PageState = { clock: 0, feed: [], prices: Array.from({ length: PRODUCTS }, (_, i) => 10 + (i % 90)), nextId: 200_000 };
  let seq = 0;
  let batch: GeneratedEvent[] = [];
  const push = (offset: number, type: number, data: Record<string, unknown>) => {
    batch.push({ type, data, timestamp: opts.startedAt + offset, seq: seq++ });
  };
  const custom = (offset: number, tag: string, payload: Record<string, unknown>) => push(offset, 5, { tag, payload });
  const checkout = (offset: number) => {
    push(offset, 4, { href: url, ...VIEWPORT });
    push(offset + 1, 2, { node: snapshotNode(state, label), initialOffset: { left: 0, top: 0 } });
  };

  checkout(0);
  custom(2, 'tandem/page@1', { url: HREF, title: 'Catalog', via: 'load' });
  let nextCheckout = CHECKOUT_MS;
  for (let sec = 1; sec * 1000 <= opts.durationMs; sec++) {
    const base = sec * 1000;
    // Checkouts follow the tracker's rule: taken just before the first event after the interval.
    if (base >= nextCheckout) {
      checkout(base);
      nextCheckout = base + CHECKOUT_MS;
    }
    state.clock = sec;
    push(base + 3, 3, { source: 0, texts: [{ id: CLOCK_TEXT_ID, value: `${label}+${sec}` }], attributes: [], removes: [], adds: [] });
    if (sec % 5 === 0) {
      const item = { id: state.nextId, text: `Order #${sec} placed by a customer somewhere` };
      state.nextId += 2;
      const removes = [];
      if (state.feed.length >= FEED_MAX) {
        const old = state.feed.shift()!;
        removes.push({ parentId: FEED_ID, id: old.id });
      }
      state.feed.push(item);
      // rrweb records every added node on its own (a parent before its children), as the replayer expects.
      const li = { ...feedNode(item), childNodes: [] };
      const adds = [
        { parentId: FEED_ID, nextId: null, node: li },
        { parentId: item.id, nextId: null, node: text(item.id + 1, item.text) },
      ];
      push(base + 120, 3, { source: 0, texts: [], attributes: [], removes, adds });
    }
    if (sec % 3 === 0) {
      const i = Math.floor(random() * PRODUCTS);
      state.prices[i] = 10 + Math.floor(random() * 90);
      push(base + 250, 3, { source: 0, texts: [], attributes: [{ id: productId(i) + 3, attributes: { 'data-price': String(state.prices[i]) } }], removes: [], adds: [] });
    }
    if (!idleAt(base)) {
      for (const half of [0, 500]) {
        const positions = Array.from({ length: 5 }, (_, k) => ({
          x: Math.floor(random() * VIEWPORT.width), y: Math.floor(random() * VIEWPORT.height), id: 10, timeOffset: -400 + k * 100,
        }));
        push(base + half + 400, 3, { source: 1, positions });
      }
      if (sec % 10 === 0) push(base + 600, 3, { source: 3, id: 1, x: 0, y: Math.floor(random() * 2000) });
      if (sec % 20 === 0) push(base + 700, 3, { source: 2, type: 2, id: productId(sec % PRODUCTS) + 3, x: 300, y: 200 });
    }
    if (sec % 30 === 0) {
      push(base + 800, 6, { plugin: 'rrweb/console@1', payload: { level: sec % 90 === 0 ? 'warn' : 'log', payload: [`"tick ${sec}"`, `{"cart":${sec % 7},"user":"u-1"}`], trace: [] } });
    }
    if (sec % 20 === 10) {
      const failed = sec % 100 === 10;
      custom(base + 850, 'tandem/network@1', {
        kind: 'fetch', method: 'GET', url: `https://shop.example/api/stock?page=${sec}`, status: failed ? 503 : 200,
        startTs: opts.startedAt + base + 850 - 120, durationMs: 120, responseBytes: failed ? 0 : 2048,
      });
    }
    if (sec % 300 === 150) custom(base + 900, 'tandem/custom@1', { name: 'checkout-step', payload: { step: sec / 150, total: 42.5 } });
    if (sec % 600 === 300) custom(base + 950, 'tandem/error@1', { kind: 'error', name: 'TypeError', message: `cart is undefined (${sec})`, stack: 'TypeError: cart\n    at checkout (app.js:1:2)' });
    if (sec % 600 === 0) {
      url = `${HREF}?page=${sec / 600}`;
      custom(base + 960, 'tandem/page@1', { url, title: `Catalog page ${sec / 600}`, via: 'pushState' });
    }
    if (sec === 30) custom(base + 970, 'tandem/identify@1', { userId: 'u-1', traits: { plan: 'pro' } });
    if (batch.length >= batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

/** The store surface this needs. */
type StoreLike = Pick<TandemStore, 'startSession' | 'writeBatch'>;

/** Writes a generated tab through the storage writer; resolves with its event count and JSON bytes. */
export async function writeGeneratedSession(
  store: StoreLike,
  ids: { projectId: string; sessionId: string; tabId: string },
  opts: GenerateOptions,
): Promise<{ events: number; bytes: number }> {
  await store.startSession({
    ...ids, visitorId: `v-${ids.sessionId}`, userId: '', startedAt: opts.startedAt, url: HREF, referrer: '',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36', screen: '1280x800', language: 'en', timezone: 'UTC', ip: '127.0.0.1',
  });
  let events = 0;
  let bytes = 0;
  for (const batch of generateSession(opts)) {
    events += batch.length;
    for (const e of batch) bytes += JSON.stringify(e).length;
    await store.writeBatch({ ...ids, events: batch });
  }
  return { events, bytes };
}

/** The same pseudo-random moments in every run of a bench (a linear congruential generator from `seed`). */
export function seededRandom(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

/**
 * The ids of the `minutes`-long generated session the open diagnostics use (`<prefix><minutes>m`), written
 * first when `write` (a data directory kept from an earlier run already has it).
 */
export async function generatedOpenSession(
  store: StoreLike, projectId: string, prefix: string, minutes: number, write: boolean,
): Promise<{ projectId: string; sessionId: string; tabId: string }> {
  const ids = { projectId, sessionId: `${prefix}${minutes}m`, tabId: `${prefix}tab${minutes}m` };
  if (write) await writeGeneratedSession(store, ids, { durationMs: minutes * 60_000, startedAt: Date.now() - minutes * 60_000 - 3_600_000, seed: minutes });
  return ids;
}
