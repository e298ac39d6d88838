import { describe, expect, it } from 'vitest';
import type { StartResponse, TandemEvent } from '@tandem/protocol';
import { CanvasLevelMemory } from '../src/canvas.js';
import { EventNumbering } from '../src/event-numbering.js';
import { Guard } from '../src/safe.js';
import { SESSION_IDLE_MS, SessionStore, type KeyValueStore } from '../src/session.js';
import { TabSession } from '../src/tab-session.js';

/** localStorage and the tab's sessionStorage, shared by the "pages" below as a browser shares them. */
function storage(): KeyValueStore {
  const map = new Map<string, string>();
  return { getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v), removeItem: (k) => void map.delete(k) };
}

const click = (n: number) => ({ type: 3, data: { source: 2, type: 2, id: n }, timestamp: 1_000 + n }) as never;

function page(local: KeyValueStore, tab: KeyValueStore, now: () => number = Date.now) {
  const got: TandemEvent[] = [];
  const configs: unknown[] = [];
  const numbering = new EventNumbering((_s, e) => got.push(e));
  const ids = new SessionStore('pk', local, tab, now);
  const session = new TabSession({
    projectKey: 'pk',
    guard: new Guard(),
    ids,
    canvasMemory: new CanvasLevelMemory(local, 'canvas'),
    numbering,
    configure: (c) => configs.push(c),
  });
  return { session, numbering, ids, got, configs };
}

function answer(over: Partial<StartResponse> = {}): StartResponse {
  return {
    v: 1, sessionId: 'S1', tabId: 'T1', visitorId: 'V1', token: 'tok-1', tokenExpiresAt: Date.now() + 3_600_000,
    serverTime: Date.now(), ackSeq: -1, config: { maxBatchBytes: 1234, flushIntervalMs: 5_000, checkoutEveryNms: 60_000 },
    ...over,
  } as StartResponse;
}

describe('a later page of a tab', () => {
  it('numbers and delivers at once, after the tab\'s last seq, on the stream and config of the last start answer', () => {
    const local = storage();
    const tab = storage();
    const first = page(local, tab);
    first.session.apply(answer());
    first.numbering.take(click(1), first.session.stream);
    first.numbering.take(click(2), first.session.stream);
    first.session.rememberSeq(); // pagehide

    const next = page(local, tab);
    next.numbering.take(click(3), next.session.stream); // before resume: held
    expect(next.session.resume(60_000)).toBe(true);
    next.numbering.take(click(4), next.session.stream);
    expect(next.got.map((e) => [e.seq, (e.data as { id: number }).id])).toEqual([[2, 3], [3, 4]]);
    expect(next.session.stream).toMatchObject({ sessionId: 'S1', tabId: 'T1', token: 'tok-1' });
    expect(next.configs).toEqual([expect.objectContaining({ maxBatchBytes: 1234 })]);
    // Plugins and getSessionId still wait for this page's own answer (one connect, with the newest token).
    expect(next.session.info).toBeUndefined();
    expect(next.session.apply(answer({ token: 'tok-2', ackSeq: 1 }))).toBe('same');
    expect(next.session.info?.token).toBe('tok-2');
    next.numbering.take(click(5), next.session.stream);
    expect(next.got.at(-1)!.seq).toBe(4);
  });

  it('waits for its answer when the token is about to expire, the session went idle, or the tab has none', () => {
    const local = storage();
    const tab = storage();
    page(local, tab).session.apply(answer({ tokenExpiresAt: Date.now() + 30_000 }));
    expect(page(local, tab).session.resume(60_000)).toBe(false);

    const local2 = storage();
    const tab2 = storage();
    page(local2, tab2).session.apply(answer());
    const later = Date.now() + SESSION_IDLE_MS + 1;
    expect(page(local2, tab2, () => later).session.resume(60_000)).toBe(false);

    expect(page(local2, storage()).session.resume(60_000)).toBe(false); // another tab
  });
});
