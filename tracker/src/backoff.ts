/**
 * Retry schedule for 429/503/5xx/network failures: exponential with jitter.
 * BASE 1 s: a blip costs about a second of delay. MAX 30 s: once the server is back, data flows
 * again within half a minute. The jitter spreads many tabs that failed together (a server
 * restart) over [d/2, d] so they do not come back in one synchronized wave.
 */
export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_MAX_MS = 30_000;
/** A server's Retry-After is obeyed up to 5 min: longer would look like the tracker died. */
export const RETRY_AFTER_MAX_MS = 5 * 60_000;

/** Delay before retry number `attempt` (0 for the first retry): within [d/2, d], d = min(MAX, BASE·2^attempt). */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const n = Math.max(0, Math.min(attempt, 30)); // 2^30 s is already far past MAX: avoid Infinity math
  const d = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** n);
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(d / 2 + (r * d) / 2);
}

/** Parses Retry-After (seconds or HTTP date) into ms within [BASE, RETRY_AFTER_MAX]; undefined when absent/invalid. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  let ms: number;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) ms = Number(value) * 1000;
  else {
    const at = Date.parse(value);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(RETRY_AFTER_MAX_MS, Math.max(BACKOFF_BASE_MS, ms));
}
