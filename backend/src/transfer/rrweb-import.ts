import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { RRWEB_EVENT, TandemError, type ImportResponse, type TandemEvent } from '@tandem/protocol';
import type { Store } from '@tandem/storage';
import { describeIssues } from '../ingest/schemas.js';

/**
 * Turning an rrweb events array (what `@rrweb/record` emits, what rrweb-player plays, what our
 * export writes) into a new Tandem session. The events go through the store's normal writer, so the
 * derived tables (keyframes, page visits, console, counters) are filled as for a recorded session.
 */

const ANY_TYPE = Object.values(RRWEB_EVENT);

/** What an rrweb event must have for the replayer not to choke on it; everything else is kept as sent. */
const rrwebEventSchema = z.looseObject({
  type: z.number().int().refine((t) => (ANY_TYPE as number[]).includes(t), { message: `must be an rrweb EventType (${ANY_TYPE.join(', ')})` }),
  timestamp: z.number().finite().positive(),
  data: z.record(z.string(), z.unknown()),
}).superRefine((e, ctx) => {
  const data = e.data as Record<string, unknown>;
  if (e.type === RRWEB_EVENT.FullSnapshot && (typeof data.node !== 'object' || data.node === null)) {
    ctx.addIssue({ code: 'custom', path: ['data', 'node'], message: 'a FullSnapshot needs data.node (the serialized document)' });
  }
});

/** 2,000,000 events: far beyond an hours-long session (~18 events/s), and seq stays well inside UInt32. */
const MAX_EVENTS = 2_000_000;

export const importSchema = z.array(rrwebEventSchema, { message: 'Body must be a JSON array of rrweb events' })
  .min(1, 'The events array is empty')
  .max(MAX_EVENTS, `More than ${MAX_EVENTS} events`);

/**
 * Events are written this many at a time: the writer's default flush size, so each chunk is one
 * INSERT per table and an import never holds more than this queued in the writer (which refuses
 * writes beyond maxQueuedEvents).
 */
const WRITE_CHUNK = 5_000;

export type RrwebEvent = z.infer<typeof rrwebEventSchema>;

/** Validates and orders an import: 400 `bad_request` naming the first bad events. */
export function parseImport(value: unknown): RrwebEvent[] {
  const parsed = importSchema.safeParse(value);
  if (!parsed.success) throw new TandemError('bad_request', describeIssues(parsed.error));
  // rrweb's Replayer plays events in timestamp order whatever the array order; storing them in that
  // order (seq = position) makes seq ranges and time ranges agree, which windowed seeking relies on.
  const events = parsed.data.map((e, i) => ({ e, i })).sort((a, b) => a.e.timestamp - b.e.timestamp || a.i - b.i).map((x) => x.e);
  if (!events.some((e) => e.type === RRWEB_EVENT.FullSnapshot)) {
    throw new TandemError('bad_request', 'No FullSnapshot event (type 2): there is nothing to replay from');
  }
  return events;
}

const newId = () => randomUUID().replaceAll('-', '');

/**
 * Stores the events as a new session (new session, tab and visitor ids) of the project; seq = index.
 * Each stored event starts with seq, type and timestamp (then the rest as sent): the export strips
 * seq with a prefix match, and multi-tab exports find the timestamp without parsing the event.
 */
export async function importSession(store: Store, projectId: string, events: RrwebEvent[]): Promise<ImportResponse> {
  const sessionId = newId();
  const tabId = newId();
  const meta = events.find((e) => e.type === RRWEB_EVENT.Meta)?.data as { href?: unknown; width?: unknown; height?: unknown } | undefined;
  await store.startSession({
    projectId, sessionId, tabId, visitorId: newId(), userId: '',
    // The recording's own time, so the session lists where it happened, not when it was imported.
    startedAt: events[0].timestamp,
    url: typeof meta?.href === 'string' ? meta.href.slice(0, 8192) : '',
    referrer: '',
    userAgent: '',
    screen: Number.isFinite(meta?.width) && Number.isFinite(meta?.height) ? `${meta!.width}x${meta!.height}` : '',
    language: '',
    timezone: '',
    ip: '',
  });
  for (let from = 0; from < events.length; from += WRITE_CHUNK) {
    const chunk = events.slice(from, from + WRITE_CHUNK).map((e, i) => {
      const { seq: _ignored, type, timestamp, ...rest } = e as RrwebEvent & { seq?: unknown };
      return { seq: from + i, type, timestamp, ...rest } as unknown as TandemEvent;
    });
    await store.writeBatch({ projectId, sessionId, tabId, events: chunk });
  }
  return {
    sessionId, tabId, eventCount: events.length,
    keyframeCount: events.filter((e) => e.type === RRWEB_EVENT.FullSnapshot).length,
  };
}
