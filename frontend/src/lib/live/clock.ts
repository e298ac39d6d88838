/**
 * Clocks in a live session. Three clocks meet here: the user's (event timestamps), the server's
 * (LiveSession/LiveTab times) and the agent's (this browser's `Date.now()`, which the Replayer's
 * live timer runs on). Any of them may be off by a minute or more, so nothing compares timestamps
 * across clocks without the measured offsets:
 *
 * - `tab.clockOffsetMs`  = server − user  (measured by the tab, relayed in `live:session`)
 * - `agentOffsetMs`      = server − agent (measured here with `clock:ping`)
 */

/** One `clock:ping` round trip: sent and received on the agent clock, answered on the server clock. */
export interface ClockSample {
  sentAt: number;
  serverTime: number;
  receivedAt: number;
}

export interface ClockEstimate {
  /** server − agent, ms */
  offsetMs: number;
  rttMs: number;
}

/** NTP's estimate for one round trip: the server answered half-way through it. */
export function offsetOf(sample: ClockSample): ClockEstimate {
  const rttMs = Math.max(0, sample.receivedAt - sample.sentAt);
  return { offsetMs: sample.serverTime - (sample.sentAt + sample.receivedAt) / 2, rttMs };
}

/**
 * The estimate of the fastest round trip: its error is at most half its RTT, so the shortest one
 * is the most trustworthy (queueing only ever adds delay). `null` when there is no sample.
 */
export function bestOffset(samples: readonly ClockSample[]): ClockEstimate | null {
  let best: ClockEstimate | null = null;
  for (const sample of samples) {
    if (!Number.isFinite(sample.serverTime)) continue;
    const estimate = offsetOf(sample);
    if (!best || estimate.rttMs < best.rttMs) best = estimate;
  }
  return best;
}

/** A user-clock timestamp on the server clock. */
export function userToServer(ts: number, tabClockOffsetMs: number): number {
  return ts + tabClockOffsetMs;
}

/** A user-clock timestamp on the agent clock: `ts + tab.clockOffsetMs − agentOffsetMs`. */
export function userToAgent(ts: number, tabClockOffsetMs: number, agentOffsetMs: number): number {
  return ts + tabClockOffsetMs - agentOffsetMs;
}

/** A server-clock time on the user's clock (to find a moment among the tab's own events). */
export function serverToUser(serverTs: number, tabClockOffsetMs: number): number {
  return serverTs - tabClockOffsetMs;
}

/**
 * The timestamp handed to the live Replayer. Its timer draws an event `timestamp − baseline` ms after
 * `startLive(baseline)`, and an event before the baseline is applied "synchronously" (no cursor, no
 * click ripple). Clamping the corrected time into [baseline, now] draws every event on the next
 * animation frame after it arrives, whatever is left of an offset error:
 * - below the baseline: the join snapshot taken just before the Replayer started, or a clock offset
 *   not measured yet (the tab reports 0 until its pings are back);
 * - above now: an event "from the future" would wait for the agent's clock to reach it — with a
 *   user clock 60 s ahead and no correction, the view would freeze for a minute.
 * The clamp is monotonic, so events in seq order stay in order.
 */
export function liveTimestamp(agentTs: number, baseline: number, now: number): number {
  if (agentTs < baseline) return baseline;
  if (agentTs > now) return Math.max(baseline, now);
  return agentTs;
}

/** Median of a small sample window (latency read-out). */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
