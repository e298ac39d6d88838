import type { CanvasRecording, TrackerServerConfig } from '@tandem/protocol';
import type { PrivacyOptions } from './privacy.js';

export interface TrackerOptions extends PrivacyOptions {
  /** The project's public key (the `data-project-key` of the snippet). */
  projectKey: string;
  /** Base URL of the Tandem server. Default: the origin the tracker script was loaded from. */
  ingestUrl?: string;
  /** Full snapshot period; default: the server's config. */
  checkoutEveryNms?: number;
  /** Batch period; default: the server's config. */
  flushIntervalMs?: number;
  /** Canvas recording (see canvas.ts); default: the project's setting, from the server. */
  canvas?: CanvasRecording;
  /** Default true each. */
  captureConsole?: boolean;
  captureNetwork?: boolean;
  captureErrors?: boolean;
  /** Tracker-internal failures (never the page's own errors). Default: one console.debug per kind. */
  onError?: (err: unknown) => void;
}

/**
 * Used until the server's start answer brings its own config.
 * - maxBatchBytes 512 KB: a full snapshot of an ordinary page fits in one batch, and a batch
 *   gzips to well under the server's body limits.
 * - flushIntervalMs 10 s: each batch is gzipped on its own, so bigger batches compress better
 *   (measured 2 s → 5 s: 12.7 → 9.5 KB/min, 5 s → 10 s: 9.0 → 7.2 KB/min on the same events);
 *   pagehide still sends what is pending and live viewers get events over the assist socket.
 * - checkoutEveryNms 2 min: seeking replays at most 2 minutes of events after a keyframe (the
 *   backend's default too, so the recording that starts before the start answer rarely restarts).
 */
export const DEFAULT_SERVER_CONFIG: TrackerServerConfig = {
  maxBatchBytes: 512 * 1024,
  flushIntervalMs: 10_000,
  checkoutEveryNms: 2 * 60_000,
};

/**
 * rrweb sampling. Mouse moves every 50 ms still draw a smooth cursor path at a fraction of the
 * events; scroll every 150 ms shows the motion without an event per frame; 'last' keeps only the
 * final value of a burst of input events on one field.
 */
export const SAMPLING = { mousemove: 50, scroll: 150, media: 800, input: 'last' } as const;
/**
 * While an agent watches live: every `input` event, so typing shows as it happens (still masked).
 * With `input: 'last'` rrweb listens to `change` only, i.e. a field's value appears when it loses focus.
 */
export const LIVE_SAMPLING = { mousemove: 50, scroll: 150, media: 800 } as const;

/** Events held before the session is known (first start, rotation): a few seconds of a busy page. */
export const PRESTART_MAX_EVENTS = 1_000;
/** stop() waits this long for the last batches before storing them for a later page load. */
export const STOP_FLUSH_TIMEOUT_MS = 5_000;
/** Custom event payloads (event(), identify traits) are bounded: they are annotations, not data dumps. */
export const CUSTOM_PAYLOAD_MAX_BYTES = 32 * 1024;
