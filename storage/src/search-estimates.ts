import type { Driver } from './types.js';

/**
 * The index's estimate of the rows a list query's key step would read (EXPLAIN ESTIMATE: primary-key and skip-index
 * analysis only, 2–6 ms CPU), which picks its window policy (search.ts): one read of everything when the rows are few,
 * a day first otherwise. Reused for ESTIMATE_TTL_MS per statement and parameters: the policy barely moves in a minute.
 * ~4 ms CPU of a ~70 ms call. TANDEM_SEARCH_ESTIMATE_CACHE=0 asks every time (A/B measurements).
 */
const ESTIMATE_TTL_MS = 60_000;
const ESTIMATES_KEPT = 256;
const estimateCacheOn = () => process.env.TANDEM_SEARCH_ESTIMATE_CACHE !== '0';

/** What a statement would read: rows, granules (marks) and parts, summed over its tables. */
export interface Reads { rows: number; marks: number; parts: number }
export type Estimate = (select: string, params: Record<string, unknown>, key: string) => Promise<Reads | undefined>;

/** Values kept per key for ttlMs, at most ESTIMATES_KEPT of them (the oldest written goes first); `on()` false: never a hit. */
function keptFor<T>(ttlMs: number, on: () => boolean) {
  const kept = new Map<string, { at: number; value: T }>();
  return {
    get(key: string): { value: T } | undefined {
      const hit = on() ? kept.get(key) : undefined;
      return hit && Date.now() - hit.at < ttlMs ? { value: hit.value } : undefined;
    },
    set(key: string, value: T): void {
      kept.delete(key);
      if (kept.size >= ESTIMATES_KEPT) kept.delete(kept.keys().next().value!);
      kept.set(key, { at: Date.now(), value });
    },
  };
}

export function createEstimates(driver: Driver): Estimate {
  const kept = keptFor<Reads | undefined>(ESTIMATE_TTL_MS, estimateCacheOn);
  /**
   * What `select` (`SELECT 1 FROM … WHERE …`) would read, or undefined: no row, or a server
   * that cannot estimate (a Distributed table on a cluster, which no test here can run). `key` names the statement and
   * the parameters that matter (not a moving bound).
   */
  return async (select, params, key) => {
    const cached = kept.get(key);
    if (cached) return cached.value;
    const estimate = await driver.query<Record<keyof Reads, number | string>>(`EXPLAIN ESTIMATE ${select}`, params).catch(() => []);
    const reads = estimate.length ? estimate.reduce<Reads>((n, r) => ({ rows: n.rows + Number(r.rows), marks: n.marks + Number(r.marks),
      parts: n.parts + Number(r.parts) }), { rows: 0, marks: 0, parts: 0 }) : undefined;
    kept.set(key, reads);
    return reads;
  };
}

/**
 * How far back the last call of the same list query had to read before its page was full (or Infinity: to the oldest
 * row), reused for SPAN_TTL_MS as its first window (search.ts). The first window is a day so that a common filter reads
 * a day only; a rare one (q "user-4242": 11 user ids, ~10 sessions each, spread over the month) then pays that day's
 * reads (~12 ms CPU of fixed costs: three key sources) before the window that finds its matches. Nothing cheaper tells
 * a rare needle from a dense one before reading (the n-gram index keeps most granules for it, an estimate counts rows
 * read, not matches), so the answer of the last call is kept: a list refreshed, re-sorted or re-opened within a minute
 * starts with the span it needed. Only the windows change, never the rows. TANDEM_SEARCH_SPAN_CACHE=0 turns it off.
 */
const SPAN_TTL_MS = 60_000;
const spanCacheOn = () => process.env.TANDEM_SEARCH_SPAN_CACHE !== '0';
export interface SpanMemory { get(key: string): number | undefined; set(key: string, span: number): void }
export function createSpanMemory(): SpanMemory {
  const kept = keptFor<number>(SPAN_TTL_MS, spanCacheOn);
  return { get: (key) => kept.get(key)?.value, set: (key, span) => kept.set(key, span) };
}
