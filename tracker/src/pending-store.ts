import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { Batch, QueuedEvent, Stream } from './batcher.js';

/**
 * IndexedDB spill for batches that could not be sent: offline for long, the page closing with
 * unsent data, or more than the in-memory bound. Each record keeps the token of its stream so it
 * can be sent by a later page load of any tab of this project, even after the session changed.
 */

/** IndexedDB bound: 20 MB is minutes of a busy session offline, and far under browsers' per-origin quota. */
export const PENDING_MAX_BYTES = 20 * 1024 * 1024;

export interface PendingRecord {
  id?: number;
  sessionId: string;
  tabId: string;
  token: string;
  tokenExpiresAt: number;
  events: QueuedEvent[];
  bytes: number;
  savedAt: number;
}

interface PendingSchema extends DBSchema {
  batches: { key: number; value: PendingRecord };
  meta: { key: string; value: { bytes: number } };
}

export class PendingStore {
  private constructor(
    private readonly db: IDBPDatabase<PendingSchema>,
    private readonly maxBytes: number,
  ) {}

  /** null when IndexedDB is missing or refuses to open (private modes, blocked storage). */
  static async open(name: string, maxBytes = PENDING_MAX_BYTES): Promise<PendingStore | null> {
    if (typeof indexedDB === 'undefined') return null;
    const db = await openDB<PendingSchema>(name, 1, {
      upgrade(db) {
        db.createObjectStore('batches', { keyPath: 'id', autoIncrement: true });
        db.createObjectStore('meta');
      },
    });
    return new PendingStore(db, maxBytes);
  }

  /**
   * Saves batches (oldest first). When the store would exceed maxBytes the oldest records are
   * deleted; answers how many events were dropped that way.
   */
  async putMany(batches: Batch[], now = Date.now()): Promise<number> {
    if (batches.length === 0) return 0;
    const tx = this.db.transaction(['batches', 'meta'], 'readwrite');
    const store = tx.objectStore('batches');
    const meta = tx.objectStore('meta');
    const totals = (await meta.get('totals')) ?? { bytes: 0 };
    for (const b of batches) {
      await store.add(toRecord(b, now));
      totals.bytes += b.bytes;
    }
    let dropped = 0;
    let cursor = totals.bytes > this.maxBytes ? await store.openCursor() : null;
    while (cursor && totals.bytes > this.maxBytes) {
      totals.bytes -= cursor.value.bytes;
      dropped += cursor.value.events.length;
      await cursor.delete();
      cursor = await cursor.continue();
    }
    await meta.put({ bytes: Math.max(0, totals.bytes) }, 'totals');
    await tx.done;
    return dropped;
  }

  /**
   * Removes and returns the oldest records, at least one and up to about budgetBytes. Read and
   * delete are one transaction, so two tabs never both take the same record.
   */
  async takeOldest(budgetBytes: number): Promise<PendingRecord[]> {
    const tx = this.db.transaction(['batches', 'meta'], 'readwrite');
    const store = tx.objectStore('batches');
    const meta = tx.objectStore('meta');
    const totals = (await meta.get('totals')) ?? { bytes: 0 };
    const out: PendingRecord[] = [];
    let used = 0;
    let cursor = await store.openCursor();
    while (cursor && (out.length === 0 || used + cursor.value.bytes <= budgetBytes)) {
      out.push(cursor.value);
      used += cursor.value.bytes;
      await cursor.delete();
      cursor = await cursor.continue();
    }
    await meta.put({ bytes: Math.max(0, totals.bytes - used) }, 'totals');
    await tx.done;
    return out;
  }

  async count(): Promise<number> {
    return this.db.count('batches');
  }

  async totalBytes(): Promise<number> {
    return (await this.db.get('meta', 'totals'))?.bytes ?? 0;
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

/**
 * Turns stored records back into batches. Records of one stream share one Stream object (so a
 * token refresh applies to all of them); `current` is reused when the ids match this tab's stream.
 */
export function recordsToBatches(records: PendingRecord[], current: Stream | undefined, known: Stream[] = []): Batch[] {
  const streams = [...(current ? [current] : []), ...known];
  return records.map((r) => {
    let stream = streams.find((s) => s.sessionId === r.sessionId && s.tabId === r.tabId);
    if (!stream) {
      stream = { sessionId: r.sessionId, tabId: r.tabId, token: r.token, tokenExpiresAt: r.tokenExpiresAt };
      streams.push(stream);
    }
    return { stream, events: r.events, bytes: r.bytes };
  });
}
