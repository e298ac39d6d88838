import type { Batch, QueuedEvent, Stream } from './batcher.js';
import type { KeyValueStore } from './session.js';

/**
 * Unsent events handed from a page to the next page load of the same tab through sessionStorage.
 *
 * Why not only IndexedDB: measured in Chromium, an IndexedDB write made in pagehide by a page
 * entering the back/forward cache is often not visible to the next page (the frozen page's
 * transaction waits), and the server drops a seq that arrives after a higher one, so the next page
 * must have these events before it sends its own. sessionStorage writes are synchronous and
 * always visible to the next page of the tab. IndexedDB still gets a copy for other cases (tab
 * closed, too big for this).
 */

/**
 * sessionStorage quota is about 5 MB per origin and shared with the host page: we use at most
 * 256 KB (in UTF-16 chars), a few seconds of a busy page. Larger leftovers rely on IndexedDB alone.
 */
export const HANDOFF_MAX_CHARS = 256 * 1024;

interface Stored {
  s: string;
  t: string;
  k: string;
  x: number;
  e: QueuedEvent[];
}

export class UnloadHandoff {
  constructor(
    private readonly kv: KeyValueStore,
    private readonly key: string,
  ) {}

  /** Saves the events of `batches` (one stream, in order). False when too big or refused. */
  save(batches: Batch[]): boolean {
    try {
      if (batches.length === 0) {
        this.kv.removeItem(this.key);
        return true;
      }
      const s = batches[0].stream;
      const data: Stored = { s: s.sessionId, t: s.tabId, k: s.token, x: s.tokenExpiresAt, e: batches.flatMap((b) => b.events) };
      const json = JSON.stringify(data);
      if (json.length > HANDOFF_MAX_CHARS) {
        this.kv.removeItem(this.key);
        return false;
      }
      this.kv.setItem(this.key, json);
      return true;
    } catch {
      return false;
    }
  }

  /** Takes (and removes) what the previous page left, as restored batches. */
  take(current: Stream | undefined): Batch[] {
    let data: Stored;
    try {
      const raw = this.kv.getItem(this.key);
      if (!raw) return [];
      this.kv.removeItem(this.key);
      data = JSON.parse(raw) as Stored;
      if (!data || typeof data.s !== 'string' || !Array.isArray(data.e)) return [];
    } catch {
      return [];
    }
    const stream: Stream =
      current && current.sessionId === data.s && current.tabId === data.t
        ? current
        : { sessionId: data.s, tabId: data.t, token: data.k, tokenExpiresAt: data.x, ackSeq: -1 };
    const events = data.e.filter((e) => e && typeof e.json === 'string' && Number.isInteger(e.seq) && e.seq > stream.ackSeq);
    if (events.length === 0) return [];
    return [{ stream, events, bytes: events.reduce((n, e) => n + e.json.length + 1, 0), restored: true }];
  }
}
