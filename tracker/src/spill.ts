import type { Batch } from './batcher.js';
import type { PendingStore } from './pending-store.js';

/**
 * Which batches leave memory for IndexedDB when the queue is past `maxBytes`. IndexedDB must only hold
 * batches older than every waiting batch in memory (the sender reads it first), so a spill is always
 * the oldest waiting batches, in order: it skips the one in flight (returned as `skippedInFlight`: if
 * it is sent again, it goes before them) and restored ones, and **stops** at `next`, the next batch to
 * send while sending works (no backoff). Writing that one only to read it back at once cost ~120 ms of
 * main thread for one 2 MB mutation (structured clone in and out of IndexedDB); spilling the batches
 * behind it instead sent them first (the server then drops the older seqs as duplicates: a big page's
 * first snapshot spilled behind its Meta event lost the Meta). So while sending works, memory may
 * exceed the bound by the batches behind the next one until that one is in flight (the next enqueue
 * spills them).
 */
export function chooseSpill(
  queue: readonly Batch[],
  queueBytes: number,
  maxBytes: number,
  inFlight: Batch | null,
  next: Batch | undefined,
): { spill: Batch[]; skippedInFlight: Batch | null } {
  const spill: Batch[] = [];
  let skippedInFlight: Batch | null = null;
  let bytes = queueBytes;
  for (const b of queue) {
    if (bytes <= maxBytes || b === next) break;
    if (b === inFlight) {
      skippedInFlight = b;
      continue;
    }
    // Restored batches stay: they were just read back, spilling them would ping-pong.
    if (b.restored) continue;
    spill.push(b);
    bytes -= b.bytes;
  }
  return { spill, skippedInFlight };
}

/**
 * Saves batches to IndexedDB. `dropped` is told how many events were lost and why: all of them
 * without a store or when the write fails, the store's oldest when it is full.
 */
export async function storeBatches(
  store: Promise<PendingStore | null>,
  batches: Batch[],
  now: number,
  dropped: (events: number, err: unknown, kind: string) => void,
): Promise<void> {
  if (batches.length === 0) return;
  const n = batches.reduce((s, b) => s + b.events.length, 0);
  try {
    const s = await store;
    if (!s) return dropped(n, new Error('tandem: offline buffer full and no IndexedDB; events dropped'), 'dropped: memory full');
    const lost = await s.putMany(batches, now);
    if (lost > 0) dropped(lost, new Error(`tandem: offline store full; ${lost} oldest events dropped`), 'dropped: store full');
  } catch (err) {
    dropped(n, err, 'pending store write');
  }
}
