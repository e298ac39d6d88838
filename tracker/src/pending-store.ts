import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { Batch } from './batcher.js';
import type { PendingRecord } from './stored-batches.js';

/**
 * IndexedDB spill for batches that could not be sent: offline for long, the page closing with
 * unsent data, or more than the in-memory bound. Each record keeps the token of its stream so it
 * can be sent by a later page load of any tab of this project, even after the session changed.
 *
 * Measured in Chromium: during pagehide only requests issued synchronously in the handler are
 * committed; anything after a microtask (an await) or in a request callback is lost with the
 * page. So `addSync` issues every write at once and commits, with no read-modify-write. Sizes live
 * in a second store under the same key, so the byte bound is enforced later (next write or open)
 * without reading the event data.
 */

/** IndexedDB bound: 20 MB is minutes of a busy session offline, and far under browsers' per-origin quota. */
export const PENDING_MAX_BYTES = 20 * 1024 * 1024;

/**
 * [first event's time, first seq, random]: ordered by the data's age, not by when it was written,
 * so a batch stored, read back and stored again (stop while offline) keeps its place before
 * newer records of its tab; the server drops a seq that arrives after a higher one.
 */
type Key = [number, number, number];
const keyOf = (b: Batch, now: number): Key => [b.events[0]?.ts ?? now, b.events[0]?.seq ?? 0, Math.random()];

interface PendingSchema extends DBSchema {
  batches: { key: Key; value: PendingRecord };
  sizes: { key: Key; value: { bytes: number; events: number } };
}

export class PendingStore {
  private constructor(
    private readonly db: IDBPDatabase<PendingSchema>,
    private readonly maxBytes: number,
  ) {}

  /** Rejects when IndexedDB is missing or refuses to open (private modes, blocked storage). */
  static async open(name: string, maxBytes = PENDING_MAX_BYTES): Promise<PendingStore | null> {
    if (typeof indexedDB === 'undefined') return null;
    const db = await openDB<PendingSchema>(name, 1, {
      upgrade(db) {
        db.createObjectStore('batches');
        db.createObjectStore('sizes');
      },
    });
    const store = new PendingStore(db, maxBytes);
    await store.enforceBound(); // writes made during an unload skip the bound
    return store;
  }

  /** Issues all writes synchronously and commits (safe inside pagehide). No bound check. */
  addSync(batches: Batch[], now = Date.now()): void {
    if (batches.length === 0) return;
    const tx = this.db.transaction(['batches', 'sizes'], 'readwrite');
    const data = tx.objectStore('batches');
    const sizes = tx.objectStore('sizes');
    for (const b of batches) {
      const key = keyOf(b, now);
      void data.put(toRecord(b, now), key);
      void sizes.put({ bytes: b.bytes, events: b.events.length }, key);
    }
    // Failures (quota) surface on tx.done; nobody is left to tell during an unload.
    tx.done.catch(() => {});
    (tx as unknown as { commit?: () => void }).commit?.();
  }

  /**
   * Saves batches (oldest first). When the store would exceed maxBytes the oldest records are
   * deleted; answers how many events were dropped that way.
   */
  async putMany(batches: Batch[], now = Date.now()): Promise<number> {
    if (batches.length === 0) return 0;
    const tx = this.db.transaction(['batches', 'sizes'], 'readwrite');
    const data = tx.objectStore('batches');
    const sizes = tx.objectStore('sizes');
    await Promise.all(
      batches.flatMap((b) => {
        const key = keyOf(b, now);
        return [data.put(toRecord(b, now), key), sizes.put({ bytes: b.bytes, events: b.events.length }, key)];
      }),
    );
    await tx.done;
    return this.enforceBound();
  }

  /** Deletes the oldest records while the total is over the bound; answers the events dropped. */
  async enforceBound(): Promise<number> {
    const tx = this.db.transaction(['batches', 'sizes'], 'readwrite');
    const sizes = tx.objectStore('sizes');
    const data = tx.objectStore('batches');
    let total = 0;
    for (let c = await sizes.openCursor(); c; c = await c.continue()) total += c.value.bytes;
    let dropped = 0;
    for (let c = total > this.maxBytes ? await sizes.openCursor() : null; c && total > this.maxBytes; c = await c.continue()) {
      total -= c.value.bytes;
      dropped += c.value.events;
      await data.delete(c.key);
      await c.delete();
    }
    await tx.done;
    return dropped;
  }

  /**
   * Removes and returns the oldest records, at least one and up to about budgetBytes. Read and
   * delete are one transaction, so two tabs never both take the same record.
   */
  async takeOldest(budgetBytes: number): Promise<PendingRecord[]> {
    const tx = this.db.transaction(['batches', 'sizes'], 'readwrite');
    const data = tx.objectStore('batches');
    const sizes = tx.objectStore('sizes');
    const out: PendingRecord[] = [];
    let used = 0;
    for (let c = await data.openCursor(); c && (out.length === 0 || used + c.value.bytes <= budgetBytes); c = await c.continue()) {
      out.push(c.value);
      used += c.value.bytes;
      await sizes.delete(c.key);
      await c.delete();
    }
    await tx.done;
    return out;
  }

  async count(): Promise<number> {
    return this.db.count('batches');
  }

  async totalBytes(): Promise<number> {
    let total = 0;
    for (const s of await this.db.getAll('sizes')) total += s.bytes;
    return total;
  }

  close(): void {
    this.db.close();
  }
}

function toRecord(b: Batch, now: number): PendingRecord {
  return {
    sessionId: b.stream.sessionId,
    tabId: b.stream.tabId,
    token: b.stream.token,
    tokenExpiresAt: b.stream.tokenExpiresAt,
    events: b.events,
    bytes: b.bytes,
    savedAt: now,
  };
}
