import { CONSOLE_PLUGIN, RRWEB_EVENT, type ConsoleEntry, type TandemEvent } from '@tandem/protocol';

/**
 * A console plugin event of the live stream as the panel row the recorded player shows (the same
 * fields storage derives: level, the payload joined by spaces, the trace by newlines).
 * `ts` is given by the caller, already on the clock the panel uses. `null` for any other event.
 */
export function consoleEntryOf(event: TandemEvent, tabId: string, ts: number): ConsoleEntry | null {
  if (event.type !== RRWEB_EVENT.Plugin) return null;
  const data = event.data as { plugin?: unknown; payload?: unknown };
  if (data?.plugin !== CONSOLE_PLUGIN) return null;
  const p = (data.payload && typeof data.payload === 'object' ? data.payload : {}) as Record<string, unknown>;
  const level = typeof p.level === 'string' && p.level ? p.level : 'log';
  const message = Array.isArray(p.payload) ? p.payload.map(text).join(' ') : text(p.payload);
  const trace = Array.isArray(p.trace) ? p.trace.map(text).join('\n') : text(p.trace);
  return { tabId, seq: event.seq, ts, level, message, trace };
}

function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '';
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/**
 * Appends live console rows, keeping them in time order without repeats (a reconnect may replay
 * nothing twice, but a resync must never duplicate a row) and the list bounded.
 */
export function appendConsole(list: readonly ConsoleEntry[], added: readonly ConsoleEntry[], max = 2_000): ConsoleEntry[] {
  if (added.length === 0) return list as ConsoleEntry[];
  const seen = new Set(list.map((e) => `${e.tabId}:${e.seq}`));
  const next = [...list];
  for (const entry of added) {
    const key = `${entry.tabId}:${entry.seq}`;
    if (seen.has(key)) continue;
    seen.add(key);
    next.push(entry);
  }
  next.sort((a, b) => a.ts - b.ts || a.seq - b.seq);
  return next.length > max ? next.slice(next.length - max) : next;
}
