import type { Page } from 'playwright-core';

/** rrweb: @rrweb/record with Tandem's options; rrweb-default: @rrweb/record at its default options;
 * tandem-before: another build of the tracker in the same run (OVERHEAD_COMPARE, before/after a change). */
export type VariantName = 'none' | 'rrweb' | 'rrweb-default' | 'tandem' | 'tandem-before';

/** performance.now() marks taken inside the page. */
export interface InPageTimes {
  /** before the workload (or before record()/start() for the snapshot workload) */
  t0: number;
  /** workload's synchronous part returned (or record() returned) */
  t1: number;
  /** MutationObserver callbacks (queued during the workload) have run: the recorder's in-task work ends */
  t2: number;
  /** one rendering frame + a macrotask later: layout/paint of the change is done */
  t3: number;
}

export interface VariantDriver {
  name: VariantName;
  /** Adds the recorder's script to the page (not started). */
  load(page: Page): Promise<void>;
  /** Starts recording; resolves once the first full snapshot is taken. Returns the in-page times. */
  start(page: Page): Promise<InPageTimes>;
  /** Events the recorder produced so far (a sanity check that it records). */
  events(page: Page): Promise<number>;
  /** Sends what the recorder holds now and resolves when sent (no-op for recorders that do not send). */
  flush(page: Page): Promise<void>;
}
