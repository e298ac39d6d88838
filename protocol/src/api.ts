/** Shapes returned by the agent-facing query API (`/api/v1/...`). */

import type { CanvasRecording } from './ingest.js';

export interface LoginRequest {
  email: string;
  password: string;
}

export interface AgentInfo {
  id: string;
  email: string;
  name: string;
  projectId: string;
  role: 'admin' | 'agent';
}

export interface SessionSummary {
  sessionId: string;
  projectId: string;
  visitorId: string;
  userId: string;
  startedAt: number; // epoch ms
  endedAt: number; // epoch ms of the last event
  durationMs: number;
  firstUrl: string;
  lastUrl: string;
  pageCount: number;
  eventCount: number;
  errorCount: number;
  consoleErrorCount: number;
  clickCount: number;
  tabCount: number;
  userAgent: string;
  browser: string;
  browserVersion: string;
  os: string;
  device: string;
  country?: string;
  screen: string;
}

export interface SessionListResponse {
  sessions: SessionSummary[];
  nextCursor: string | null;
}

/**
 * Sessions list search (`GET /api/v1/sessions`); every field narrows the list (AND). Text fields are
 * case-insensitive substrings unless said otherwise.
 */
export interface SessionQuery {
  /** Started at or after (epoch ms). */
  from?: number;
  /** Started at or before (epoch ms). */
  to?: number;
  /** Exact user id (as given to identify). */
  userId?: string;
  /** Any URL of the session: landing, exit or a visited page. */
  url?: string;
  /** Free text: user id, URLs, browser, OS, device; or an exact session/visitor id. */
  q?: string;
  hasErrors?: boolean;
  minDuration?: number; // ms
  maxDuration?: number; // ms
  /** Browser, OS or device name as listed, or its start (`Windows` finds `Windows 10`), any case. */
  browser?: string;
  os?: string;
  device?: string;
  /** A console line's text contains this. */
  console?: string;
  /** A custom event (`Tandem.track(name)`) with exactly this name, any case. */
  event?: string;
  /** A visited page whose URL or title contains this. */
  page?: string;
  limit?: number;
  cursor?: string;
}

/** `GET /api/v1/sessions/stats`: the same filters (no limit/cursor), counted per day. */
export type SessionStatsQuery = Omit<SessionQuery, 'limit' | 'cursor'> & {
  /** IANA time zone whose calendar days bucket the counts (default UTC). */
  tz?: string;
};

export interface SessionDayStats {
  /** The day, `YYYY-MM-DD` in the query's time zone. */
  day: string;
  sessions: number;
  /** Sessions with at least one error. */
  sessionsWithErrors: number;
  /** Errors recorded in those sessions. */
  errors: number;
}

export interface SessionStatsResponse {
  /** Every day from the first to the last of the range, oldest first, days without sessions as zeros. */
  days: SessionDayStats[];
  tz: string;
}

export interface PageVisit {
  tabId: string;
  ts: number;
  url: string;
  title: string;
}

export interface TabInfo {
  tabId: string;
  startedAt: number;
  endedAt: number;
  eventCount: number;
}

/**
 * Where a tab's replay can start: a FullSnapshot (`seq`, `ts`) and the Meta event before it. A replayer
 * needs both, so a seek fetches `GET /api/v1/sessions/:id/events?tabId=<tabId>&fromSeq=<metaSeq>&toTs=<t + window>`
 * (or `fromSeq=<seq>` when `metaSeq` is -1: an imported recording whose snapshot has no Meta before it).
 */
export interface Keyframe {
  tabId: string;
  /** seq of the FullSnapshot event. */
  seq: number;
  /** Its timestamp (epoch ms, recorder's clock). */
  ts: number;
  /** seq of the last Meta event before this FullSnapshot in the tab; -1 when there is none. */
  metaSeq: number;
  /** ts of that Meta event (the snapshot's own ts when there is none). */
  metaTs: number;
}

/**
 * Query of `GET /api/v1/sessions/:id/events` (NDJSON, one stored event per line, each with its `seq`),
 * ordered by (tabId, seq). Every bound is optional and inclusive; they combine with AND.
 * - `tabId`: one tab only (all tabs, one after the other, when absent).
 * - `fromSeq`/`toSeq`: seq range (per tab); `fromSeq` is the cheap way in (primary-key range).
 * - `fromTs`/`toTs`: time range, epoch ms.
 * - `limit`: at most this many events (1..EVENTS_MAX_LIMIT); a windowed reader continues with `fromSeq = last seq + 1`.
 */
export interface EventRangeQuery {
  tabId?: string;
  fromSeq?: number;
  toSeq?: number;
  fromTs?: number;
  toTs?: number;
  limit?: number;
}

/** Largest `limit` of an events request (a window, not a whole session: stream without limit for that). */
export const EVENTS_MAX_LIMIT = 1_000_000;

/** `GET /api/v1/sessions/:id/keyframes?tabId=` — keyframes ordered by (ts, tabId, seq). */
export interface KeyframesResponse {
  items: Keyframe[];
}

/** A click on the replay's timeline (rrweb MouseInteraction Click). */
export interface TimelineClick {
  ts: number;
  seq: number;
}

/** `Tandem('event', name, payload)`. */
export interface TimelineCustom {
  ts: number;
  seq: number;
  name: string;
  payload: unknown;
}

/** `Tandem('identify', userId, traits)`. */
export interface TimelineIdentify {
  ts: number;
  seq: number;
  userId: string;
  traits: Record<string, unknown> | null;
}

/**
 * Moments of user input in `TabTimeline.interactions` are thinned to the first and last input of every
 * bucket of this many ms (epoch-aligned): quiet stretches of this length or more come out exactly as from
 * every input (the player's idle threshold is 10 s), from at most two moments per bucket.
 */
export const TIMELINE_GAP_MS = 10_000;

/**
 * `GET /api/v1/sessions/:id/timeline?tabId=` (tabId required): what the scrub bar and the Events panel
 * show about a whole tab, read by the server from the tab's small events so the page never downloads
 * the whole tab for it. Arrays ascending by time.
 */
export interface TabTimeline {
  tabId: string;
  clicks: TimelineClick[];
  customs: TimelineCustom[];
  identifies: TimelineIdentify[];
  /** epoch ms of mouse, touch, scroll, resize or input events, thinned (see TIMELINE_GAP_MS) */
  interactions: number[];
  /** true when a list reached TIMELINE_MAX_ITEMS and was cut (the latest items are missing) */
  truncated: boolean;
}

/** Each timeline list (and the input buckets) stops at this many: one response stays small however busy the tab. */
export const TIMELINE_MAX_ITEMS = 20_000;

// ------------------------------------------------------------------------------ import / export

/**
 * `GET /api/v1/sessions/:id/export?format=rrweb|html&tabId=`:
 * - `rrweb`: a JSON array of rrweb events (`eventWithTime`: Tandem's `seq` removed), one tab's, or
 *   all tabs' merged by timestamp when tabId is absent;
 * - `html`: one self-contained file that plays the session offline with rrweb-player (one tab: the
 *   given one, else the session's first).
 */
export type ExportFormat = 'rrweb' | 'html';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['rrweb', 'html'];

/**
 * `POST /api/v1/sessions/import` (API key or signed-in agent): the body is an rrweb events JSON
 * array (gzip allowed); it becomes a new session of the caller's project, one tab, seq = index.
 */
export interface ImportResponse {
  sessionId: string;
  tabId: string;
  eventCount: number;
  /** FullSnapshot events found: where the player can start (at least 1). */
  keyframeCount: number;
}

export interface SessionDetail extends SessionSummary {
  tabs: TabInfo[];
  pages: PageVisit[];
  keyframes: Keyframe[];
}

export interface ConsoleEntry {
  tabId: string;
  seq: number;
  ts: number;
  level: string;
  message: string;
  trace: string;
}

export interface NetworkEntry {
  tabId: string;
  seq: number;
  ts: number;
  kind: string;
  method: string;
  url: string;
  status: number;
  durationMs: number;
  requestBytes: number;
  responseBytes: number;
  error: string;
}

export interface ErrorEntry {
  tabId: string;
  seq: number;
  ts: number;
  kind: string;
  name: string;
  message: string;
  stack: string;
  source: string;
  line: number;
  column: number;
}

export interface PanelResponse<T> {
  items: T[];
}

// ------------------------------------------------------------------------------------ settings

/** `GET /api/v1/project` (any agent); `PATCH /api/v1/project` (admins) takes the editable fields. */
export interface ProjectInfo {
  id: string;
  name: string;
  /** Public key for the snippet. */
  key: string;
  /** Origins allowed to send data; empty = any origin. */
  allowedOrigins: string[];
  /** Users must accept before an agent sees their page (the assist plugin asks them). */
  requireConsent: boolean;
  /** Canvas recording level sent to trackers in the start answer (default off). */
  canvasRecording: CanvasRecording;
}

export interface ProjectPatch {
  name?: string;
  allowedOrigins?: string[];
  requireConsent?: boolean;
  canvasRecording?: CanvasRecording;
}

/** An API key as listed; the secret itself is only returned once, by `POST /api/v1/api-keys`. */
export interface ApiKeyInfo {
  id: string;
  name: string;
  /** First characters of the secret, to recognise it (`tk_ab12…`). */
  prefix: string;
  createdAt: number;
  createdBy: string; // agent id
  lastUsedAt: number | null;
}

export interface CreateApiKeyRequest {
  name: string;
}

export interface CreateApiKeyResponse {
  key: ApiKeyInfo;
  /** `tk_...`: send as `Authorization: Bearer <secret>`. Shown once, stored hashed. */
  secret: string;
}

/** `POST /api/v1/agents` (admins). */
export interface CreateAgentRequest {
  email: string;
  name: string;
  password: string;
  role?: 'admin' | 'agent';
}

export interface ListResponse<T> {
  items: T[];
}
