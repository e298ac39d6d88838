import type { TandemEvent } from '@tandem/protocol';
import type { StreamProgress } from '../api/ndjson';
import { windowsToKeep, type ReplayWindow } from './windows';

export type WindowFetcher = (window: ReplayWindow, onProgress: (p: StreamProgress) => void, signal: AbortSignal) => Promise<TandemEvent[]>;

interface Pending {
  promise: Promise<TandemEvent[]>;
  abort: AbortController;
  progress: StreamProgress;
}

/**
 * Loaded windows of one tab: one fetch per window however many callers want it, and `keepAround`
 * drops (and stops fetching) every window but the one playing and the next. That bound is what keeps
 * the dashboard's heap flat through a 6-hour session.
 */
export class WindowCache {
  #fetch: WindowFetcher;
  #loaded = new Map<number, TandemEvent[]>();
  #pending = new Map<number, Pending>();
  #onChange: () => void;

  constructor(fetch: WindowFetcher, onChange: () => void = () => {}) {
    this.#fetch = fetch;
    this.#onChange = onChange;
  }

  get(index: number): TandemEvent[] | undefined {
    return this.#loaded.get(index);
  }

  /** Holds `events` as window `index`'s (loaded elsewhere: a share link's early frame). */
  put(index: number, events: TandemEvent[]): void {
    this.#pending.get(index)?.abort.abort();
    this.#pending.delete(index);
    this.#loaded.set(index, events);
    this.#onChange();
  }

  /** Indexes of the windows held in memory. */
  loadedIndexes(): number[] {
    return [...this.#loaded.keys()].sort((a, b) => a - b);
  }

  progress(index: number): StreamProgress | null {
    return this.#pending.get(index)?.progress ?? null;
  }

  load(window: ReplayWindow, onProgress?: (p: StreamProgress) => void): Promise<TandemEvent[]> {
    const loaded = this.#loaded.get(window.index);
    if (loaded) return Promise.resolve(loaded);
    const existing = this.#pending.get(window.index);
    if (existing) {
      if (onProgress) {
        const inner = existing.promise;
        // Report the fetch's progress to this caller too while it runs.
        const timer = setInterval(() => onProgress(existing.progress), 100);
        return inner.finally(() => clearInterval(timer));
      }
      return existing.promise;
    }
    const abort = new AbortController();
    const pending: Pending = { abort, progress: { items: 0, bytes: 0 }, promise: Promise.resolve([]) };
    pending.promise = this.#fetch(
      window,
      (p) => {
        pending.progress = p;
        onProgress?.(p);
      },
      abort.signal,
    ).then(
      (events) => {
        if (this.#pending.get(window.index) === pending) {
          this.#pending.delete(window.index);
          this.#loaded.set(window.index, events);
          this.#onChange();
        }
        return events;
      },
      (err: unknown) => {
        if (this.#pending.get(window.index) === pending) this.#pending.delete(window.index);
        throw err;
      },
    );
    this.#pending.set(window.index, pending);
    return pending.promise;
  }

  /** Drops every window but `current` and the next, cancelling their fetches. */
  keepAround(current: number, count: number): void {
    const keep = windowsToKeep(current, count);
    let changed = false;
    for (const index of [...this.#loaded.keys()]) {
      if (!keep.has(index)) (this.#loaded.delete(index), (changed = true));
    }
    for (const [index, pending] of [...this.#pending]) {
      if (!keep.has(index)) {
        pending.abort.abort();
        this.#pending.delete(index);
      }
    }
    if (changed) this.#onChange();
  }

  clear(): void {
    for (const pending of this.#pending.values()) pending.abort.abort();
    this.#pending.clear();
    this.#loaded.clear();
    this.#onChange();
  }
}
