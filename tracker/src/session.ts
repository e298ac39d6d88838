import type { TrackerServerConfig } from '@tandem/protocol';

/**
 * Session, tab and visitor identity kept in the browser.
 * - visitorId: localStorage, forever (links one browser's sessions).
 * - sessionId + last activity: localStorage, shared by the visitor's tabs; resumed only while the
 *   visitor was active less than SESSION_IDLE_MS ago.
 * - tabId + last assigned seq: sessionStorage, so a reload of the same tab keeps its id and
 *   continues its sequence.
 * The server has the last word: start() sends what we have and we keep what it answers.
 */

/** The usual web-analytics visit boundary (GA, PostHog, Matomo): back after 30 idle minutes is a new visit. */
export const SESSION_IDLE_MS = 30 * 60 * 1000;
/** localStorage writes are synchronous: note activity at most once per 5 s (the expiry check has 30 min of slack). */
export const TOUCH_WRITE_INTERVAL_MS = 5_000;

export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Storage access throws in sandboxed iframes, some private modes and when quota is full: fall back to memory. */
export function safeStorage(get: () => KeyValueStore | undefined | null): KeyValueStore {
  const memory = new Map<string, string>();
  let store: KeyValueStore | undefined | null;
  try {
    store = get();
    if (store) {
      const probe = '__tandem_probe__';
      store.setItem(probe, '1');
      store.removeItem(probe);
    }
  } catch {
    store = undefined;
  }
  return {
    getItem(key) {
      try {
        if (store) return store.getItem(key);
      } catch {
        /* fall through to memory */
      }
      return memory.get(key) ?? null;
    },
    setItem(key, value) {
      memory.set(key, value);
      try {
        store?.setItem(key, value);
      } catch {
        /* memory copy is enough for this page */
      }
    },
    removeItem(key) {
      memory.delete(key);
      try {
        store?.removeItem(key);
      } catch {
        /* ignore */
      }
    },
  };
}

export interface StoredIds {
  sessionId?: string;
  tabId?: string;
  visitorId?: string;
  userId?: string;
}

export class SessionStore {
  private readonly prefix: string;
  private lastWrite = 0;
  /** This tab's last known activity (in memory). */
  private lastKnown = 0;

  constructor(
    projectKey: string,
    private readonly local: KeyValueStore,
    private readonly tab: KeyValueStore,
    private readonly now: () => number = Date.now,
  ) {
    this.prefix = `tandem:${projectKey}:`;
  }

  /** What to send in StartRequest: the session only while it is still fresh. */
  resumeIds(): StoredIds {
    const ids: StoredIds = {};
    const vid = this.local.getItem(this.prefix + 'vid');
    if (vid) ids.visitorId = vid;
    const uid = this.local.getItem(this.prefix + 'uid');
    if (uid) ids.userId = uid;
    const tid = this.tab.getItem(this.prefix + 'tid');
    if (tid) ids.tabId = tid;
    const sid = this.local.getItem(this.prefix + 'sid');
    if (sid && !this.isExpired()) ids.sessionId = sid;
    return ids;
  }

  /** True when the visitor (in any tab) was last active more than SESSION_IDLE_MS ago, or never. */
  isExpired(): boolean {
    const last = Number(this.local.getItem(this.prefix + 'last'));
    return !Number.isFinite(last) || last <= 0 || this.now() - last >= SESSION_IDLE_MS;
  }

  /** Remembers the ids the server chose and marks the visitor active now. */
  save(ids: { sessionId: string; tabId: string; visitorId: string }): void {
    const prevSid = this.local.getItem(this.prefix + 'sid');
    const prevTid = this.tab.getItem(this.prefix + 'tid');
    this.local.setItem(this.prefix + 'sid', ids.sessionId);
    this.local.setItem(this.prefix + 'vid', ids.visitorId);
    this.tab.setItem(this.prefix + 'tid', ids.tabId);
    if (prevSid !== ids.sessionId || prevTid !== ids.tabId) this.tab.removeItem(this.prefix + 'seq');
    this.forceTouch();
  }

  /**
   * Notes user activity. Returns true when the session had already expired before this activity
   * (the caller then starts a new session); the timestamp is then left for the new session to set.
   * Called for every mouse move and scroll event, so it reads localStorage only when this tab's
   * own memory says the session may have expired (another tab may have kept it alive).
   */
  touch(): boolean {
    const now = this.now();
    if (now - this.lastKnown >= SESSION_IDLE_MS && this.isExpired()) return true;
    this.lastKnown = now;
    if (now - this.lastWrite >= TOUCH_WRITE_INTERVAL_MS) this.forceTouch();
    return false;
  }

  private forceTouch(): void {
    this.lastWrite = this.lastKnown = this.now();
    this.local.setItem(this.prefix + 'last', String(this.lastWrite));
  }

  setUserId(userId: string): void {
    this.local.setItem(this.prefix + 'uid', userId);
  }

  /** Highest seq this tab assigned and may have sent or stored (for `ids`), or -1. */
  lastSeq(ids: { sessionId: string; tabId: string }): number {
    const raw = this.tab.getItem(this.prefix + 'seq');
    if (!raw) return -1;
    const [sid, tid, seq] = raw.split('\n');
    if (sid !== ids.sessionId || tid !== ids.tabId) return -1;
    const n = Number(seq);
    return Number.isInteger(n) ? n : -1;
  }

  saveLastSeq(ids: { sessionId: string; tabId: string }, seq: number): void {
    this.tab.setItem(this.prefix + 'seq', `${ids.sessionId}\n${ids.tabId}\n${seq}`);
  }

  /** The tab's stream and the server's config, as the last start answer set them (for the tab's next page). */
  saveStream(s: SavedStream): void {
    this.tab.setItem(this.prefix + 'tok', JSON.stringify(s));
  }

  /** What saveStream kept, while it is this tab's and its session is still fresh (resumeIds). */
  savedStream(): SavedStream | undefined {
    try {
      const s = JSON.parse(this.tab.getItem(this.prefix + 'tok')!) as SavedStream;
      const ids = this.resumeIds();
      if (s.sessionId === ids.sessionId && s.tabId === ids.tabId) return s;
    } catch {
      // none kept, or unreadable
    }
    return undefined;
  }
}

export interface SavedStream {
  sessionId: string;
  tabId: string;
  token: string;
  tokenExpiresAt: number;
  config: TrackerServerConfig;
}
