import { describe, expect, it } from 'vitest';
import { SESSION_IDLE_MS, SessionStore, TOUCH_WRITE_INTERVAL_MS, safeStorage, type KeyValueStore } from '../src/session.js';

class MemStore implements KeyValueStore {
  map = new Map<string, string>();
  writes = 0;
  getItem(k: string) {
    return this.map.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.writes++;
    this.map.set(k, v);
  }
  removeItem(k: string) {
    this.map.delete(k);
  }
}

function setup() {
  let now = 1_700_000_000_000;
  const local = new MemStore();
  const tab = new MemStore();
  const clock = { advance: (ms: number) => (now += ms) };
  const store = () => new SessionStore('pk', local, tab, () => now);
  return { local, tab, clock, store };
}

const ids = { sessionId: 'S1', tabId: 'T1', visitorId: 'V1' };

describe('SessionStore', () => {
  it('sends nothing to resume on a first visit', () => {
    const { store } = setup();
    expect(store().resumeIds()).toEqual({});
  });

  it('resumes the session while the visitor was active less than 30 min ago', () => {
    const { store, clock } = setup();
    store().save(ids);
    clock.advance(SESSION_IDLE_MS - 1);
    expect(store().resumeIds()).toEqual({ sessionId: 'S1', tabId: 'T1', visitorId: 'V1' });
  });

  it('drops the session id after 30 idle minutes but keeps visitor and tab', () => {
    const { store, clock } = setup();
    store().save(ids);
    clock.advance(SESSION_IDLE_MS);
    expect(store().resumeIds()).toEqual({ tabId: 'T1', visitorId: 'V1' });
  });

  it('activity extends the session', () => {
    const { store, clock } = setup();
    const s = store();
    s.save(ids);
    clock.advance(20 * 60_000);
    expect(s.touch()).toBe(false);
    clock.advance(20 * 60_000); // 40 min after save, 20 after the touch
    expect(s.isExpired()).toBe(false);
    expect(s.resumeIds().sessionId).toBe('S1');
  });

  it('touch reports an already expired session instead of reviving it', () => {
    const { store, clock } = setup();
    const s = store();
    s.save(ids);
    clock.advance(SESSION_IDLE_MS + 1);
    expect(s.touch()).toBe(true);
    expect(s.resumeIds().sessionId).toBeUndefined();
  });

  it('another tab’s activity keeps this tab’s session alive', () => {
    const { local, tab } = setup();
    let t = 0;
    const a = new SessionStore('pk', local, tab, () => t);
    const b = new SessionStore('pk', local, new MemStore(), () => t);
    t = 1_000_000;
    a.save(ids);
    t += 25 * 60_000;
    expect(b.touch()).toBe(false); // tab B active at minute 25
    t += 25 * 60_000; // tab A idle for 50 min, but the visitor was active 25 min ago
    expect(a.touch()).toBe(false);
  });

  it('reads localStorage only when its own memory says the session may be over', () => {
    const { store, clock, local } = setup();
    const s = store();
    s.save(ids);
    let reads = 0;
    const get = local.getItem.bind(local);
    local.getItem = (k: string) => (reads++, get(k));
    for (let i = 0; i < 50; i++) {
      clock.advance(1_000);
      s.touch();
    }
    expect(reads).toBe(0);
  });

  it('throttles localStorage writes of activity', () => {
    const { store, clock, local } = setup();
    const s = store();
    s.save(ids);
    const before = local.writes;
    for (let i = 0; i < 100; i++) {
      s.touch();
      clock.advance(10);
    }
    expect(local.writes - before).toBe(0);
    clock.advance(TOUCH_WRITE_INTERVAL_MS);
    s.touch();
    expect(local.writes - before).toBe(1);
  });

  it('a new tab (empty sessionStorage) of an active visitor joins the session with no tab id', () => {
    const local = new MemStore();
    let now = 5_000_000;
    new SessionStore('pk', local, new MemStore(), () => now).save(ids);
    now += 60_000;
    expect(new SessionStore('pk', local, new MemStore(), () => now).resumeIds()).toEqual({ sessionId: 'S1', visitorId: 'V1' });
  });

  it('remembers the last seq per (session, tab) and forgets it when ids change', () => {
    const { store } = setup();
    const s = store();
    s.save(ids);
    s.saveLastSeq(ids, 57);
    expect(s.lastSeq(ids)).toBe(57);
    expect(s.lastSeq({ sessionId: 'S1', tabId: 'T2' })).toBe(-1);
    s.save({ ...ids, sessionId: 'S2' });
    expect(s.lastSeq({ sessionId: 'S2', tabId: 'T1' })).toBe(-1);
    expect(s.lastSeq(ids)).toBe(-1);
  });

  it('keys are scoped by project', () => {
    const { local, tab } = setup();
    new SessionStore('A', local, tab, () => 1e12).save(ids);
    expect(new SessionStore('B', local, tab, () => 1e12).resumeIds()).toEqual({});
  });
});

describe('safeStorage', () => {
  it('falls back to memory when storage throws', () => {
    const throwing: KeyValueStore = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('QuotaExceeded');
      },
      removeItem: () => {
        throw new Error('SecurityError');
      },
    };
    const s = safeStorage(() => throwing);
    expect(() => s.setItem('a', '1')).not.toThrow();
    expect(s.getItem('a')).toBe('1');
    const s2 = safeStorage(() => {
      throw new Error('denied');
    });
    s2.setItem('b', '2');
    expect(s2.getItem('b')).toBe('2');
  });
});
