import type { LiveSession } from '@tandem/protocol';
import { describe, expect, it } from 'vitest';
import { activeTab, agentNames, gridQuery, keepLive, liveDuration, liveRow, parseGridIds, sortLive, toggleSelection } from '../src/lib/live/list';

function session(over: Partial<LiveSession> = {}): LiveSession {
  return {
    sessionId: 's1',
    visitorId: 'visitor-0123456789',
    userId: '',
    startedAt: 1_000_000,
    activeTabId: 't2',
    tabs: [
      { tabId: 't1', url: 'https://shop.example/cart', title: 'Cart', visible: false, focused: false, connectedAt: 0, clockOffsetMs: 0, watchers: [] },
      { tabId: 't2', url: 'https://shop.example/checkout?step=2', title: 'Checkout', visible: true, focused: true, connectedAt: 0, clockOffsetMs: 0, watchers: [] },
    ],
    agents: [],
    browser: 'Chrome',
    os: 'macOS',
    awaitingConsent: false,
    ...over,
  };
}

describe('live list rows', () => {
  it('shows the active tab as the current page', () => {
    const row = liveRow(session());
    expect(activeTab(session())?.tabId).toBe('t2');
    expect(row.pageTitle).toBe('Checkout');
    expect(row.pageDisplay).toBe('shop.example/checkout?step=2');
    expect(row.tabs).toBe(2);
  });

  it('falls back to the first tab when the active one is unknown', () => {
    expect(liveRow(session({ activeTabId: 'gone' })).pageTitle).toBe('Cart');
    expect(liveRow(session({ tabs: [] })).pageDisplay).toBe('');
  });

  it('names the user, or the visitor when anonymous', () => {
    expect(liveRow(session({ userId: 'u-42' }))).toMatchObject({ user: 'u-42', anonymous: false });
    expect(liveRow(session())).toMatchObject({ user: 'anonymous', anonymous: true, visitor: 'visitor-' });
  });

  it('lists each watching agent once, optionally without me', () => {
    const agents = [
      { id: 'a1', name: 'Ada', via: 'login' as const },
      { id: 'a2', name: 'Grace', via: 'watch-link' as const },
      { id: 'a1', name: 'Ada', via: 'login' as const },
    ];
    expect(agentNames(agents)).toEqual(['Ada', 'Grace']);
    expect(agentNames(agents, 'a1')).toEqual(['Grace']);
    expect(liveRow(session({ agents })).agents).toEqual(['Ada', 'Grace']);
  });

  it('ticks the duration on the server clock', () => {
    expect(liveDuration(1_000_000, 1_000_000 + 192_000)).toBe('3m 12s');
    expect(liveDuration(1_000_000, 999_000)).toBe('0s');
  });

  it('sorts newest first, stable by id', () => {
    const sorted = sortLive([session({ sessionId: 'b', startedAt: 1 }), session({ sessionId: 'c', startedAt: 2 }), session({ sessionId: 'a', startedAt: 1 })]);
    expect(sorted.map((s) => s.sessionId)).toEqual(['c', 'a', 'b']);
  });
});

describe('grid selection', () => {
  it('picks up to 4 and unpicks', () => {
    let sel: string[] = [];
    for (const id of ['a', 'b', 'c', 'd', 'e']) sel = toggleSelection(sel, id);
    expect(sel).toEqual(['a', 'b', 'c', 'd']);
    sel = toggleSelection(sel, 'b');
    expect(sel).toEqual(['a', 'c', 'd']);
  });

  it('drops picks of sessions that left', () => {
    const sel = ['s1', 'gone'];
    expect(keepLive(sel, [session()])).toEqual(['s1']);
    const same = ['s1'];
    expect(keepLive(same, [session()])).toBe(same);
  });

  it('reads and writes the ids of the grid route', () => {
    expect(parseGridIds('a,b,,a, c ,d,e')).toEqual(['a', 'b', 'c', 'd']);
    expect(parseGridIds('ok,bad id,<x>')).toEqual(['ok']);
    expect(parseGridIds(null)).toEqual([]);
    expect(gridQuery(['a', 'b'])).toBe('ids=a,b');
    expect(gridQuery([])).toBe('');
  });
});
