import type { PageVisit } from '@tandem/protocol';
import type { TimelineScan } from '../../lib/player/scan';
import { sortByTs } from '../../lib/timeline';

/** One row of the Events panel: what the user did or the app reported, in time order. */
export type ActivityItem =
  | { kind: 'page'; ts: number; seq: number; url: string; title: string }
  | { kind: 'click'; ts: number; seq: number }
  | { kind: 'custom'; ts: number; seq: number; name: string; payload: unknown }
  | { kind: 'identify'; ts: number; seq: number; userId: string; traits: Record<string, unknown> | null };

export type ActivityKind = ActivityItem['kind'];

export const ACTIVITY_LABELS: Record<ActivityKind, string> = {
  page: 'Page',
  click: 'Click',
  custom: 'Event',
  identify: 'Identify',
};

export function activityOf(pages: readonly PageVisit[], scan: TimelineScan): ActivityItem[] {
  return sortByTs<ActivityItem>([
    ...pages.map((p, i): ActivityItem => ({ kind: 'page', ts: p.ts, seq: i, url: p.url, title: p.title })),
    ...scan.clicks.map((c): ActivityItem => ({ kind: 'click', ts: c.ts, seq: c.seq })),
    ...scan.customs.map((c): ActivityItem => ({ kind: 'custom', ts: c.ts, seq: c.seq, name: c.name, payload: c.payload })),
    ...scan.identifies.map((c): ActivityItem => ({ kind: 'identify', ts: c.ts, seq: c.seq, userId: c.userId, traits: c.traits })),
  ]);
}
