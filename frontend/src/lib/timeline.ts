import { EventType, IncrementalSource, MouseInteractions } from '@rrweb/types';
import type { ConsoleEntry, ErrorEntry, PageVisit, TandemEvent } from '@tandem/protocol';

/**
 * Pure helpers that relate the player clock to what happened: markers under the scrub bar, stretches
 * without user input (shaded and skipped), and which panel entry is "now".
 * Offsets are milliseconds since the first event of the replayed tab; `ts` values are epoch ms.
 */

/** Index of the last item with `ts <= time` in a list sorted by `ts`, or -1 when all are later. */
export function activeIndex(items: readonly { ts: number }[], time: number): number {
  let lo = 0;
  let hi = items.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (items[mid].ts <= time) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

export function sortByTs<T extends { ts: number; seq?: number }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => a.ts - b.ts || (a.seq ?? 0) - (b.seq ?? 0));
}

export type MarkerKind = 'click' | 'page' | 'error' | 'console';

export interface Marker {
  kind: MarkerKind;
  /** ms since the first replayed event */
  offset: number;
  label: string;
}

export const MARKER_LABELS: Record<MarkerKind, string> = {
  click: 'Click',
  page: 'Page visit',
  error: 'Error',
  console: 'Console error',
};

const CONSOLE_ERROR_LEVELS = new Set(['error', 'assert']);

export interface MarkerSources {
  events: readonly TandemEvent[];
  startTime: number;
  totalTime: number;
  pages: readonly PageVisit[];
  errors: readonly ErrorEntry[];
  consoleEntries: readonly ConsoleEntry[];
}

function isClick(event: TandemEvent): boolean {
  return (
    event.type === EventType.IncrementalSnapshot &&
    event.data.source === IncrementalSource.MouseInteraction &&
    event.data.type === MouseInteractions.Click
  );
}

/** Markers of one tab, sorted by offset; entries outside the recording are left out. */
export function buildMarkers(src: MarkerSources): Marker[] {
  const markers: Marker[] = [];
  const add = (kind: MarkerKind, ts: number, label: string) => {
    const offset = ts - src.startTime;
    if (offset >= 0 && offset <= src.totalTime) markers.push({ kind, offset, label });
  };
  for (const event of src.events) if (isClick(event)) add('click', event.timestamp, 'Click');
  for (const page of src.pages) add('page', page.ts, page.title || page.url);
  for (const error of src.errors) add('error', error.ts, `${error.name || 'Error'}: ${error.message}`);
  for (const entry of src.consoleEntries) {
    if (CONSOLE_ERROR_LEVELS.has(entry.level)) add('console', entry.ts, `console.${entry.level}: ${entry.message}`);
  }
  return markers.sort((a, b) => a.offset - b.offset);
}

function isUserInteraction(event: TandemEvent): boolean {
  return (
    event.type === EventType.IncrementalSnapshot &&
    event.data.source > IncrementalSource.Mutation &&
    event.data.source <= IncrementalSource.Input
  );
}

export interface Period {
  start: number;
  end: number;
}

/**
 * Stretches longer than `thresholdMs` without mouse, touch, scroll or input: the same rule rrweb's
 * Replayer uses to fast-forward when "skip inactivity" is on, so the shading matches the skipping.
 */
export function inactivePeriods(events: readonly TandemEvent[], thresholdMs: number): Period[] {
  if (events.length === 0) return [];
  const start = events[0].timestamp;
  const end = events[events.length - 1].timestamp;
  const periods: Period[] = [];
  let last = start;
  for (const event of events) {
    if (!isUserInteraction(event)) continue;
    if (event.timestamp - last > thresholdMs) periods.push({ start: last - start, end: event.timestamp - start });
    last = event.timestamp;
  }
  if (end - last > thresholdMs) periods.push({ start: last - start, end: end - start });
  return periods;
}
