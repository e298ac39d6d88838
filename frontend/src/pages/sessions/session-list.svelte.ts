import type { SessionSummary } from '@tandem/protocol';
import { isAbort, messageOf, type ApiClient } from '../../lib/api/client';
import { filtersToQuery, type SessionFilters } from '../../lib/filters';
import { mergeNewest } from './merge';

/** Rows per request: one screenful and a bit, cheap for the server's `LIMIT`. */
const PAGE_SIZE = 50;
/** New sessions should show up "within seconds" without hammering the server or the user's battery. */
const REFRESH_MS = 5_000;

/**
 * The session list of the sessions page: first page, "load more" by cursor, and a quiet
 * auto-refresh that merges the newest page in without losing what the user already loaded.
 */
export class SessionList {
  sessions = $state.raw<SessionSummary[]>([]);
  nextCursor = $state<string | null>(null);
  loaded = $state(false);
  loading = $state(false);
  loadingMore = $state(false);
  error = $state<string | null>(null);
  /** Clock for relative times, advanced at each refresh so "2 min ago" stays true. */
  now = $state(Date.now());

  #api: ApiClient;
  #filters: SessionFilters | null = null;
  #generation = 0;
  #pages = 0;
  #refreshing = false;
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(api: ApiClient) {
    this.#api = api;
  }

  /** Starts over with `filters`; answers to older requests are dropped. */
  async load(filters: SessionFilters): Promise<void> {
    this.#filters = filters;
    const generation = ++this.#generation;
    this.loading = true;
    this.error = null;
    try {
      this.now = Date.now();
      const page = await this.#api.sessions({ ...filtersToQuery(filters, this.now), limit: PAGE_SIZE });
      if (generation !== this.#generation) return;
      this.sessions = page.sessions;
      this.nextCursor = page.nextCursor;
      this.#pages = 1;
      this.loaded = true;
    } catch (err) {
      if (generation !== this.#generation || isAbort(err)) return;
      this.error = messageOf(err);
    } finally {
      if (generation === this.#generation) this.loading = false;
    }
  }

  async loadMore(): Promise<void> {
    if (!this.#filters || !this.nextCursor || this.loadingMore) return;
    const generation = this.#generation;
    this.loadingMore = true;
    try {
      const page = await this.#api.sessions({
        ...filtersToQuery(this.#filters, this.now),
        limit: PAGE_SIZE,
        cursor: this.nextCursor,
      });
      if (generation !== this.#generation) return;
      const seen = new Set(this.sessions.map((s) => s.sessionId));
      this.sessions = [...this.sessions, ...page.sessions.filter((s) => !seen.has(s.sessionId))];
      this.nextCursor = page.nextCursor;
      this.#pages++;
    } catch (err) {
      if (generation === this.#generation) this.error = messageOf(err);
    } finally {
      this.loadingMore = false;
    }
  }

  /** Fetches the first page again and merges it in: updated rows change in place, new ones go on top. */
  async refresh(): Promise<void> {
    if (!this.#filters || this.loading || this.loadingMore || this.#refreshing) return;
    const generation = this.#generation;
    this.#refreshing = true;
    try {
      const now = Date.now();
      const page = await this.#api.sessions({ ...filtersToQuery(this.#filters, now), limit: PAGE_SIZE });
      if (generation !== this.#generation) return;
      this.now = now;
      this.error = null;
      if (this.#pages <= 1) {
        this.sessions = page.sessions;
        this.nextCursor = page.nextCursor;
      } else {
        this.sessions = mergeNewest(this.sessions, page.sessions);
      }
    } catch {
      // A failed background refresh is not worth an error banner; the next tick tries again.
    } finally {
      this.#refreshing = false;
    }
  }

  startAutoRefresh(): void {
    this.stopAutoRefresh();
    this.#timer = setInterval(() => {
      if (!document.hidden) void this.refresh();
    }, REFRESH_MS);
  }

  stopAutoRefresh(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}
