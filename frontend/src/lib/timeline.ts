import type { ConsoleEntry, ErrorEntry, NetworkEntry, PageVisit } from '@tandem/protocol';

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

export type MarkerKind = 'click' | 'page' | 'custom' | 'network' | 'console' | 'error';

export interface Marker {
  kind: MarkerKind;
  /** ms since the first replayed event */
  offset: number;
  /** what it is, one line (the tooltip's text) */
  label: string;
}

export const MARKER_LABELS: Record<MarkerKind, string> = {
  click: 'Click',
  page: 'Page visit',
  custom: 'Custom event',
  network: 'Failed request',
  console: 'Console error',
  error: 'Error',
};

const CONSOLE_ERROR_LEVELS = new Set(['error', 'assert']);

export interface MarkerSources {
  startTime: number;
  totalTime: number;
  clicks: readonly { ts: number }[];
  customs: readonly { ts: number; name: string }[];
  pages: readonly PageVisit[];
  errors: readonly ErrorEntry[];
  consoleEntries: readonly ConsoleEntry[];
  network: readonly NetworkEntry[];
}

/** A request that got no answer or an error status (the Network panel shows the same ones in red). */
export function isFailedRequest(entry: NetworkEntry): boolean {
  return entry.status === 0 || entry.status >= 400 || !!entry.error;
}

/** Markers of one tab, sorted by offset; entries outside the recording are left out. */
export function buildMarkers(src: MarkerSources): Marker[] {
  const markers: Marker[] = [];
  const add = (kind: MarkerKind, ts: number, label: string) => {
    const offset = ts - src.startTime;
    if (offset >= 0 && offset <= src.totalTime) markers.push({ kind, offset, label });
  };
  for (const click of src.clicks) add('click', click.ts, 'Click');
  for (const page of src.pages) add('page', page.ts, page.title || page.url);
  for (const custom of src.customs) add('custom', custom.ts, custom.name);
  for (const req of src.network) {
    if (isFailedRequest(req)) add('network', req.ts, `${req.method} ${req.url} → ${req.status || req.error || 'failed'}`);
  }
  for (const error of src.errors) add('error', error.ts, `${error.name || 'Error'}: ${error.message}`);
  for (const entry of src.consoleEntries) {
    if (CONSOLE_ERROR_LEVELS.has(entry.level)) add('console', entry.ts, `console.${entry.level}: ${entry.message}`);
  }
  return markers.sort((a, b) => a.offset - b.offset);
}

export interface Period {
  start: number;
  end: number;
}

/**
 * Stretches longer than `thresholdMs` without mouse, touch, scroll or input (`interactions`: their
 * epoch-ms times, ascending): the same rule rrweb's Replayer uses to fast-forward when "skip
 * inactivity" is on, so the shading matches the skipping. Offsets are ms since `startTime`.
 */
export function inactivePeriods(interactions: readonly number[], startTime: number, totalTime: number, thresholdMs: number): Period[] {
  const periods: Period[] = [];
  let last = 0;
  for (const ts of interactions) {
    const offset = ts - startTime;
    if (offset < last) continue;
    if (offset - last > thresholdMs) periods.push({ start: last, end: Math.min(offset, totalTime) });
    last = offset;
  }
  if (totalTime - last > thresholdMs) periods.push({ start: last, end: totalTime });
  return periods;
}
