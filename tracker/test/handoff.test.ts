import { describe, expect, it } from 'vitest';
import { cutBatches, type Stream } from '../src/batcher.js';
import { HANDOFF_MAX_CHARS, UnloadHandoff } from '../src/handoff.js';
import type { KeyValueStore } from '../src/session.js';

class Mem implements KeyValueStore {
  map = new Map<string, string>();
  getItem = (k: string) => this.map.get(k) ?? null;
  setItem = (k: string, v: string) => void this.map.set(k, v);
  removeItem = (k: string) => void this.map.delete(k);
}

const stream = (): Stream => ({ sessionId: 's', tabId: 't', token: 'tok', tokenExpiresAt: 5, ackSeq: -1 });
const events = (from: number, n: number, pad = 10) => Array.from({ length: n }, (_, i) => ({ seq: from + i, json: `{"seq":${from + i},"p":"${'x'.repeat(pad)}"}` }));

describe('UnloadHandoff', () => {
  it('hands the events to the next page of the tab, once', () => {
    const kv = new Mem();
    const h = new UnloadHandoff(kv, 'k');
    expect(h.save(cutBatches(stream(), events(3, 4), 1e9))).toBe(true);
    const current: Stream = { ...stream(), token: 'new' };
    const got = new UnloadHandoff(kv, 'k').take(current);
    expect(got).toHaveLength(1);
    expect(got[0].stream).toBe(current); // same ids: the new page's stream and token
    expect(got[0].restored).toBe(true);
    expect(got[0].events.map((e) => e.seq)).toEqual([3, 4, 5, 6]);
    expect(new UnloadHandoff(kv, 'k').take(current)).toEqual([]);
  });

  it('leaves out what the server already acknowledged', () => {
    const kv = new Mem();
    new UnloadHandoff(kv, 'k').save(cutBatches(stream(), events(3, 4), 1e9));
    const got = new UnloadHandoff(kv, 'k').take({ ...stream(), ackSeq: 4 });
    expect(got[0].events.map((e) => e.seq)).toEqual([5, 6]);
  });

  it('keeps its own token for another stream', () => {
    const kv = new Mem();
    new UnloadHandoff(kv, 'k').save(cutBatches(stream(), events(0, 1), 1e9));
    const got = new UnloadHandoff(kv, 'k').take({ ...stream(), sessionId: 'other' });
    expect(got[0].stream.sessionId).toBe('s');
    expect(got[0].stream.token).toBe('tok');
  });

  it('refuses more than its share of sessionStorage', () => {
    const kv = new Mem();
    const h = new UnloadHandoff(kv, 'k');
    h.save(cutBatches(stream(), events(0, 1), 1e9));
    expect(h.save(cutBatches(stream(), events(0, 10, HANDOFF_MAX_CHARS / 8), 1e9))).toBe(false);
    expect(kv.getItem('k')).toBeNull(); // no stale smaller copy left behind either
  });

  it('ignores garbage', () => {
    const kv = new Mem();
    kv.setItem('k', '{not json');
    expect(new UnloadHandoff(kv, 'k').take(stream())).toEqual([]);
  });
});
