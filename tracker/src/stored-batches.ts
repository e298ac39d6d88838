import type { Batch, QueuedEvent, Stream } from './batcher.js';

/**
 * A batch as the IndexedDB store keeps it (pending-store.ts, which comes with the idle chunk): apart from
 * the store so that /tracker.js, which reads records back (Sender), does not carry the store and idb.
 */
export interface PendingRecord {
  sessionId: string;
  tabId: string;
  token: string;
  tokenExpiresAt: number;
  events: QueuedEvent[];
  bytes: number;
  savedAt: number;
}

/**
 * Turns stored records back into batches. Records of one stream share one Stream object (so a
 * token refresh applies to all of them); `current` is reused when the ids match this tab's stream.
 * Events the server already acknowledged for that stream (seq ≤ its ackSeq) are left out: copies
 * stored at unload are usually acknowledged by the keepalive request that carried them.
 */
export function recordsToBatches(records: PendingRecord[], current: Stream | undefined, known: Stream[] = []): Batch[] {
  const streams = [...(current ? [current] : []), ...known];
  const out: Batch[] = [];
  for (const r of records) {
    let stream = streams.find((s) => s.sessionId === r.sessionId && s.tabId === r.tabId);
    if (!stream) {
      stream = { sessionId: r.sessionId, tabId: r.tabId, token: r.token, tokenExpiresAt: r.tokenExpiresAt, ackSeq: -1 };
      streams.push(stream);
    }
    const ack = stream.ackSeq;
    const events = r.events.filter((e) => e.seq > ack);
    if (events.length === 0) continue;
    const bytes = events.length === r.events.length ? r.bytes : events.reduce((n, e) => n + e.json.length + 1, 0);
    out.push({ stream, events, bytes, restored: true });
  }
  return out;
}
