import type { TandemEvent } from './events.js';

/** `POST /ingest/v1/start`: opens a session or resumes the visitor's current one. */
export interface StartRequest {
  v: number;
  projectKey: string;
  /** Present when the tab already has a session (localStorage, < 30 min idle); the server resumes it. */
  sessionId?: string;
  /** Present when this tab already has an id (sessionStorage): a reload keeps it. */
  tabId?: string;
  /** Stable per browser (localStorage); links sessions of one visitor. */
  visitorId?: string;
  url: string;
  referrer?: string;
  title?: string;
  userAgent?: string;
  screen?: { width: number; height: number };
  viewport?: { width: number; height: number };
  language?: string;
  timezone?: string;
  /** Client clock at the request, epoch ms: lets the server measure skew. */
  clientTime: number;
  userId?: string;
}

export interface StartResponse {
  v: number;
  sessionId: string;
  tabId: string;
  visitorId: string;
  /** Signed session token; Bearer on every batch and on the assist socket. */
  token: string;
  /** Epoch ms when the token expires; the tracker calls start again before then. */
  tokenExpiresAt: number;
  serverTime: number;
  /** Highest seq already stored for this tab (-1 when none): a resumed tab continues after it. */
  ackSeq: number;
  config: TrackerServerConfig;
}

/** Server-chosen limits the tracker obeys; each limit's reason is at its definition in the backend. */
export interface TrackerServerConfig {
  maxBatchBytes: number;
  flushIntervalMs: number;
  checkoutEveryNms: number;
  /** The project's canvas recording level (absent from older servers: off). */
  canvas?: CanvasRecording;
  /**
   * The batch packing version the server unpacks (backend/src/ingest/unpack.ts); absent from older
   * servers, which then get batches unpacked.
   */
  pack?: number;
}

/**
 * Canvas recording, a project setting: `off` records no pixels; `low` and `high` sample every
 * 2D and WebGL canvas as images at a rate and quality the tracker picks for each level.
 */
export const CANVAS_RECORDING_LEVELS = ['off', 'low', 'high'] as const;
export type CanvasRecording = (typeof CANVAS_RECORDING_LEVELS)[number];

/** `POST /ingest/v1/batch` body (JSON, optionally `Content-Encoding: gzip`). */
export interface BatchRequest {
  v: number;
  sessionId: string;
  tabId: string;
  events: TandemEvent[];
}

/** Answer to a batch: every seq up to ackSeq for this tab is durable. */
export interface BatchResponse {
  ackSeq: number;
}

/** Claims inside the session token (signed HS256 by the backend). */
export interface SessionTokenClaims {
  /** project id */
  pid: string;
  /** session id */
  sid: string;
  /** tab id */
  tid: string;
  /** visitor id */
  vid: string;
}

export const INGEST_ROUTES = {
  start: '/ingest/v1/start',
  batch: '/ingest/v1/batch',
} as const;
