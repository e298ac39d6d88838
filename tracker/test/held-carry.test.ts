import { describe, expect, it } from 'vitest';
import type { TandemEvent } from '@tandem/protocol';
import type { Stream } from '../src/batcher.js';
import { EventNumbering } from '../src/event-numbering.js';
import type { KeyValueStore } from '../src/session.js';

/** A tab's sessionStorage, shared by the "pages" below as the browser shares it between a tab's page loads. */
function tabStorage(): KeyValueStore & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return { map, getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v), removeItem: (k) => void map.delete(k) };
}

const KEY = 'tandem:p:held';
const stream = { sessionId: 's', tabId: 't', token: 'x', tokenExpiresAt: 0 } as unknown as Stream;
const click = (n: number) => ({ type: 3, data: { source: 2, type: 2, id: n }, timestamp: 1_000 + n }) as never;

function page(kv: KeyValueStore) {
  const got: TandemEvent[] = [];
  const numbering = new EventNumbering((_s, e) => got.push(e), { kv, key: KEY });
  return { numbering, got };
}

describe('events held before the session is known, at pagehide', () => {
  it('go to the tab\'s next page, which sends them first, in order, before its own', () => {
    const kv = tabStorage();
    const a = page(kv);
    a.numbering.take(click(1), undefined);
    a.numbering.take(click(2), undefined);
    a.numbering.keepHeld(); // page A left before its start answer
    expect(a.got).toEqual([]);

    const b = page(kv);
    b.numbering.takeCarried();
    expect(kv.map.has(KEY)).toBe(false);
    b.numbering.take(click(3), undefined);
    b.numbering.seq.reset(-1);
    b.numbering.release(stream);
    expect(b.got.map((e) => [e.seq, (e.data as { id: number }).id])).toEqual([[0, 1], [1, 2], [2, 3]]);
  });

  it('stay with a page that came back and got its answer (its copy removed, nothing sent twice)', () => {
    const kv = tabStorage();
    const a = page(kv);
    a.numbering.take(click(1), undefined);
    a.numbering.keepHeld(); // hidden, not gone
    a.numbering.take(click(2), undefined);
    a.numbering.seq.reset(-1);
    a.numbering.release(stream);
    expect(a.got.map((e) => (e.data as { id: number }).id)).toEqual([1, 2]);
    expect(kv.map.has(KEY)).toBe(false);
  });

  it('are not sent again by a page restored from the back/forward cache after the next page took them', () => {
    const kv = tabStorage();
    const a = page(kv);
    a.numbering.take(click(1), undefined);
    a.numbering.keepHeld();
    const b = page(kv);
    b.numbering.takeCarried(); // the next page has them now
    a.numbering.take(click(2), undefined); // A, back from the cache, records more before its answer
    a.numbering.seq.reset(-1);
    a.numbering.release(stream);
    expect(a.got.map((e) => (e.data as { id: number }).id)).toEqual([2]);
  });
});
