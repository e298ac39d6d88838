import { RRWEB_EVENT, type ResyncReason, type TabPage, type TandemEvent } from '@tandem/protocol';

/**
 * Checks of what sockets send. Hand-written rather than zod: `live:events` runs for every batch of
 * every watched tab, and these only look at the few fields the server relies on.
 */

const ID = /^[A-Za-z0-9_-]{8,64}$/;
export const isId = (v: unknown): v is string => typeof v === 'string' && ID.test(v);

/** A tab's page info, trimmed to sane sizes; null when it is not an object with a string url. */
export function parsePage(raw: unknown): TabPage | null {
  if (!raw || typeof raw !== 'object') return null;
  const p = raw as Record<string, unknown>;
  if (typeof p.url !== 'string') return null;
  const page: TabPage = {
    url: p.url.slice(0, 4096),
    title: typeof p.title === 'string' ? p.title.slice(0, 1024) : '',
    visible: p.visible !== false,
    focused: p.focused === true,
  };
  if (typeof p.userId === 'string' && p.userId) page.userId = p.userId.slice(0, 256);
  return page;
}

export type BatchCheck = { ok: true; events: TandemEvent[]; metaIndex: number } | { ok: false; why: string };

/**
 * A live batch must be a non-empty array of events with integer, consecutive seqs (the tab forwards
 * its bus in order). `metaIndex` is where the first Meta event is (-1 when none): an agent that needs
 * a fresh start is sent the batch from there.
 */
export function checkBatch(raw: unknown): BatchCheck {
  const events = (raw as { events?: unknown } | null)?.events;
  if (!Array.isArray(events) || events.length === 0) return { ok: false, why: 'events must be a non-empty array' };
  let metaIndex = -1;
  let prev = NaN;
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as { seq?: unknown; type?: unknown; timestamp?: unknown } | null;
    if (!e || typeof e !== 'object') return { ok: false, why: `event ${i} is not an object` };
    const { seq, type, timestamp } = e;
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return { ok: false, why: `event ${i} has no integer seq` };
    if (i > 0 && seq !== prev + 1) return { ok: false, why: `seq ${seq} does not follow ${prev}` };
    if (typeof type !== 'number' || typeof timestamp !== 'number') return { ok: false, why: `event ${i} has no numeric type/timestamp` };
    if (metaIndex < 0 && type === RRWEB_EVENT.Meta) metaIndex = i;
    prev = seq;
  }
  return { ok: true, events: events as TandemEvent[], metaIndex };
}

const RESYNC_REASONS: readonly ResyncReason[] = ['gap', 'behind', 'manual', 'tab_switch'];
export const isResyncReason = (v: unknown): v is ResyncReason => RESYNC_REASONS.includes(v as ResyncReason);

/** Clock offsets beyond a day are a broken clock or a bad measurement, not skew worth correcting. */
export function parseOffset(raw: unknown): number | null {
  const v = (raw as { offsetMs?: unknown } | null)?.offsetMs;
  if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > 86_400_000) return null;
  return Math.round(v);
}
