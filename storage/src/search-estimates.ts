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

export function createEstimates(driver: Driver): Estimate {
  const kept = new Map<string, { at: number; reads: Reads | undefined }>();
  /**
   * What `select` (`SELECT 1 FROM … WHERE …`) would read, or undefined: no row, or a server
   * that cannot estimate (a Distributed table on a cluster, which no test here can run). `key` names the statement and
   * the parameters that matter (not a moving bound).
   */
  return async (select, params, key) => {
    const now = Date.now();
    const cached = estimateCacheOn() ? kept.get(key) : undefined;
    if (cached && now - cached.at < ESTIMATE_TTL_MS) return cached.reads;
    const estimate = await driver.query<Record<keyof Reads, number | string>>(`EXPLAIN ESTIMATE ${select}`, params).catch(() => []);
    const reads = estimate.length ? estimate.reduce<Reads>((n, r) => ({ rows: n.rows + Number(r.rows), marks: n.marks + Number(r.marks),
      parts: n.parts + Number(r.parts) }), { rows: 0, marks: 0, parts: 0 }) : undefined;
    kept.delete(key);
    if (kept.size >= ESTIMATES_KEPT) kept.delete(kept.keys().next().value!);
    kept.set(key, { at: now, reads });
    return reads;
  };
}
