import type { Store } from '@tandem/storage';

/**
 * Stored events back to plain rrweb events (`eventWithTime`): Tandem's envelope is the `seq` field,
 * which the writer keeps first in the stored JSON. Anything else is returned byte for byte.
 */
const SEQ_PREFIX = /^\{"seq":\d+,/;

export function toRrwebLine(stored: string): string {
  if (SEQ_PREFIX.test(stored)) return stored.replace(SEQ_PREFIX, '{');
  // Not written by our writer's key order (should not happen): the slow, exact way.
  const { seq: _seq, ...event } = JSON.parse(stored) as Record<string, unknown>;
  return JSON.stringify(event);
}

/** Top-level timestamp of a stored event: `seq,type,timestamp` come first, so the first match is it. */
const TIMESTAMP = /"timestamp":(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/;
function timestampOf(stored: string): number {
  const m = TIMESTAMP.exec(stored.slice(0, 200));
  return m ? Number(m[1]) : Number((JSON.parse(stored) as { timestamp?: unknown }).timestamp) || 0;
}

/**
 * One tab's events, or every tab's merged by timestamp (ties: tab order, then seq), as rrweb lines.
 * Each tab is read by its own paged iterator; a page is drained from storage before it is used, so
 * several iterators can be open at once (chDB runs one query stream at a time).
 */
export async function* exportLines(store: Store, projectId: string, sessionId: string, tabIds: string[]): AsyncIterable<string> {
  if (tabIds.length === 1) {
    for await (const line of store.streamEvents(projectId, sessionId, { tabId: tabIds[0] })) yield toRrwebLine(line);
    return;
  }
  const heads = await Promise.all(tabIds.map(async (tabId) => {
    const it = store.streamEvents(projectId, sessionId, { tabId })[Symbol.asyncIterator]();
    const first = await it.next();
    return { it, line: first.done ? null : first.value, ts: first.done ? 0 : timestampOf(first.value) };
  }));
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      if (heads[i].line !== null && (best < 0 || heads[i].ts < heads[best].ts)) best = i;
    }
    if (best < 0) return;
    const head = heads[best];
    yield toRrwebLine(head.line!);
    const next = await head.it.next();
    head.line = next.done ? null : next.value;
    head.ts = next.done ? 0 : timestampOf(next.value);
  }
}
