import type { TabTimeline, TimelineClick, TimelineCustom, TimelineIdentify } from '@tandem/protocol';

/**
 * The timeline of a whole tab (clicks, custom events, identify calls, moments of user input): the
 * player only holds a window or two, but the scrub bar's markers, the idle stretches and the Events
 * panel cover the whole recording. The server picks it out of the tab's events
 * (`GET /api/v1/sessions/:id/timeline`), so the page never downloads the whole tab for it; input
 * moments come thinned to the edges of quiet stretches (TIMELINE_GAP_MS), which is all
 * `inactivePeriods` needs.
 */
export type { TimelineClick, TimelineCustom, TimelineIdentify };
export type TimelineScan = Pick<TabTimeline, 'clicks' | 'customs' | 'identifies' | 'interactions'>;

export const emptyScan = (): TimelineScan => ({ clicks: [], customs: [], identifies: [], interactions: [] });
