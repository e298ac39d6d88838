import type { eventWithTime } from '@rrweb/types';

/**
 * rrweb's EventType, repeated as constants so packages that only need the numbers do not import
 * rrweb at run time. Values are rrweb's own and never change.
 */
export const RRWEB_EVENT = {
  DomContentLoaded: 0,
  Load: 1,
  FullSnapshot: 2,
  IncrementalSnapshot: 3,
  Meta: 4,
  Custom: 5,
  Plugin: 6,
  Asset: 7,
  Annotation: 8,
} as const;

/** rrweb IncrementalSource values Tandem reads on the server (clicks and input for counts). */
export const RRWEB_SOURCE = { Mutation: 0, MouseMove: 1, MouseInteraction: 2, Scroll: 3, Input: 5 } as const;
/** rrweb MouseInteractions.Click */
export const RRWEB_CLICK = 2;

/** Name of rrweb's console plugin events (`@rrweb/rrweb-plugin-console-record`). */
export const CONSOLE_PLUGIN = 'rrweb/console@1';

/** Tags of Tandem's own rrweb custom events (type 5). The `@N` is the payload version. */
export const TANDEM_EVENT = {
  network: 'tandem/network@1',
  error: 'tandem/error@1',
  pageVisit: 'tandem/page@1',
  identify: 'tandem/identify@1',
  custom: 'tandem/custom@1',
  consoleCapped: 'tandem/console-capped@1',
} as const;
export type TandemEventTag = (typeof TANDEM_EVENT)[keyof typeof TANDEM_EVENT];

/** An rrweb event plus Tandem's per-tab sequence number (monotonic from 0, no gaps). */
export type TandemEvent = eventWithTime & { seq: number };

export interface NetworkPayload {
  kind: 'fetch' | 'xhr';
  method: string;
  /** URL with query values of sensitive-looking keys replaced; never a body. */
  url: string;
  status: number; // 0 when the request failed before a response
  startTs: number; // epoch ms
  durationMs: number;
  requestBytes?: number;
  responseBytes?: number;
  error?: string;
}

export interface ErrorPayload {
  kind: 'error' | 'unhandledrejection';
  message: string;
  name?: string;
  stack?: string;
  source?: string;
  line?: number;
  column?: number;
}

export interface PageVisitPayload {
  url: string;
  title: string;
  referrer?: string;
  /** How the page was reached: first load, history push/replace, back/forward or hash change. */
  via: 'load' | 'pushState' | 'replaceState' | 'popstate' | 'hashchange';
}

export interface IdentifyPayload {
  userId: string;
  traits?: Record<string, string | number | boolean | null>;
}

export interface CustomPayload {
  name: string;
  payload?: unknown;
}

/** The `data` of an rrweb console plugin event, as @rrweb/rrweb-plugin-console-record emits it. */
export interface ConsolePluginPayload {
  level: string;
  payload: string[];
  trace: string[];
}

export interface TandemCustomEventMap {
  'tandem/network@1': NetworkPayload;
  'tandem/error@1': ErrorPayload;
  'tandem/page@1': PageVisitPayload;
  'tandem/identify@1': IdentifyPayload;
  'tandem/custom@1': CustomPayload;
  'tandem/console-capped@1': { dropped: number };
}
