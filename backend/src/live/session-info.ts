import UAParser from 'ua-parser-js';
import type { Logger } from 'pino';
import type { Store } from '@tandem/storage';

/** Browser and OS names as the stored sessions spell them (storage parses the same header the same way). */
export function describeUserAgent(userAgent: string): { browser: string; os: string } {
  if (!userAgent) return { browser: '', os: '' };
  const ua = UAParser(userAgent.slice(0, 1024));
  return { browser: ua.browser.name ?? '', os: [ua.os.name, ua.os.version].filter(Boolean).join(' ') };
}

export interface StoredSessionInfo {
  startedAt: number;
  userId: string;
  browser: string;
  os: string;
}

/** At most this many lookups at once: a server restart reconnects every tab within seconds. */
const CONCURRENCY = 2;
/** Beyond this many waiting, new sessions keep their first-connect time rather than queue forever. */
const MAX_QUEUED = 2_000;
const CACHE_MAX = 20_000;

/**
 * When a live session really started is in its stored row. Reading it costs a few queries, so it is
 * done once per session in the background (a join never waits for it), a couple at a time, and
 * remembered: a session whose tabs come and go is looked up once.
 */
export class StoredSessionLookup {
  private readonly cache = new Map<string, StoredSessionInfo | null>();
  private readonly queue: { projectId: string; sessionId: string; done: (info: StoredSessionInfo | null) => void }[] = [];
  private running = 0;
  private closed = false;

  constructor(private readonly store: Store, private readonly log: Logger) {}

  /** Calls `done` later (never synchronously) with the stored info, or null when unknown. */
  lookup(projectId: string, sessionId: string, done: (info: StoredSessionInfo | null) => void): void {
    const key = `${projectId}\u0000${sessionId}`;
    if (this.cache.has(key)) {
      const hit = this.cache.get(key)!;
      queueMicrotask(() => done(hit));
      return;
    }
    if (this.queue.length >= MAX_QUEUED) return;
    this.queue.push({ projectId, sessionId, done });
    this.pump();
  }

  close(): void {
    this.closed = true;
    this.queue.length = 0;
  }

  private pump(): void {
    while (!this.closed && this.running < CONCURRENCY && this.queue.length) {
      const job = this.queue.shift()!;
      this.running++;
      void this.load(job.projectId, job.sessionId)
        .then((info) => {
          if (!this.closed) job.done(info);
        })
        .finally(() => {
          this.running--;
          this.pump();
        });
    }
  }

  private async load(projectId: string, sessionId: string): Promise<StoredSessionInfo | null> {
    const key = `${projectId}\u0000${sessionId}`;
    try {
      const s = await this.store.getSession(projectId, sessionId);
      const info = s ? { startedAt: s.startedAt, userId: s.userId, browser: s.browser, os: s.os } : null;
      // A miss is not cached: the row may be a moment away (the writer groups inserts for ~50 ms).
      if (info) {
        if (this.cache.size >= CACHE_MAX) this.cache.clear();
        this.cache.set(key, info);
      }
      return info;
    } catch (err) {
      if (!this.closed) this.log.warn({ err, sessionId }, 'live: stored session lookup failed');
      return null;
    }
  }
}
