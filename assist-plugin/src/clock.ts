/**
 * The tab's clock against the server's, by `clock:ping` round trips (NTP's simple form): for a ping
 * sent at `sentAt` and answered at `receivedAt` (user clock) with `serverTime`, the server's clock
 * read `serverTime` about half way, so `offset = serverTime - (sentAt + receivedAt) / 2`. The sample
 * with the shortest round trip has the smallest error bound (±rtt/2), so that one wins.
 */

export interface ClockSample {
  /** User clock (Date.now()) when the ping left. */
  sentAt: number;
  /** User clock when the answer arrived. */
  receivedAt: number;
  /** Server clock in the answer. */
  serverTime: number;
}

export interface ClockOffset {
  /** serverClock - userClock, ms. */
  offsetMs: number;
  rttMs: number;
}

export function sampleOffset(s: ClockSample): ClockOffset {
  return { offsetMs: s.serverTime - (s.sentAt + s.receivedAt) / 2, rttMs: s.receivedAt - s.sentAt };
}

/** The offset of the sample with the shortest round trip; undefined when there is none usable. */
export function bestOffset(samples: readonly ClockSample[]): ClockOffset | undefined {
  let best: ClockOffset | undefined;
  for (const s of samples) {
    if (![s.sentAt, s.receivedAt, s.serverTime].every(Number.isFinite) || s.receivedAt < s.sentAt) continue;
    const o = sampleOffset(s);
    if (!best || o.rttMs < best.rttMs) best = o;
  }
  return best && { offsetMs: Math.round(best.offsetMs), rttMs: Math.round(best.rttMs) };
}

export interface MeasureOptions {
  /** Round trips to make (default 5). */
  count?: number;
  /** User clock; default Date.now. */
  now?: () => number;
  /** Monotonic clock for the round trip; default performance.now (Date.now without it). */
  mono?: () => number;
  /** Stops early (the socket disconnected). */
  cancelled?: () => boolean;
}

export const CLOCK_PINGS = 5;

/**
 * Makes `count` pings one after another (never more than one in flight) and returns the best
 * offset. A ping that fails or times out is skipped; undefined if none answered or cancelled.
 */
export async function measureClock(ping: (clientTime: number) => Promise<number>, opts: MeasureOptions = {}): Promise<ClockOffset | undefined> {
  const now = opts.now ?? Date.now;
  const mono = opts.mono ?? (typeof performance !== 'undefined' && typeof performance.now === 'function' ? () => performance.now() : now);
  const samples: ClockSample[] = [];
  const count = opts.count ?? CLOCK_PINGS;
  for (let i = 0; i < count; i++) {
    if (opts.cancelled?.()) return undefined;
    const sentAt = now();
    const t0 = mono();
    let serverTime: number;
    try {
      serverTime = await ping(sentAt);
    } catch {
      continue;
    }
    // The round trip from the monotonic clock: a wall-clock step during the ping cannot skew it.
    const rtt = Math.max(0, mono() - t0);
    if (typeof serverTime === 'number') samples.push({ sentAt, receivedAt: sentAt + rtt, serverTime });
  }
  if (opts.cancelled?.()) return undefined;
  return bestOffset(samples);
}
