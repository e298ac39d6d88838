import type { SessionDayStats } from '@tandem/protocol';
import { isAbort, messageOf, type ApiClient } from '../../lib/api/client';
import { filtersToQuery, type SessionFilters } from '../../lib/filters';

/**
 * Per-day counts for the chart above the list, with the list's filters. Days are the viewer's
 * calendar days (their time zone goes with the query); a newer load drops the answer of an older one.
 */
export class SessionStats {
  days = $state.raw<SessionDayStats[]>([]);
  loading = $state(false);
  error = $state<string | null>(null);

  #api: ApiClient;
  #generation = 0;
  #controller: AbortController | null = null;

  constructor(api: ApiClient) {
    this.#api = api;
  }

  async load(filters: SessionFilters, quiet = false): Promise<void> {
    const generation = ++this.#generation;
    this.#controller?.abort();
    const controller = (this.#controller = new AbortController());
    if (!quiet) this.loading = true;
    try {
      const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
      const stats = await this.#api.sessionStats({ ...filtersToQuery(filters, Date.now()), tz }, controller.signal);
      if (generation !== this.#generation) return;
      this.days = stats.days;
      this.error = null;
    } catch (err) {
      if (generation !== this.#generation || isAbort(err)) return;
      if (!quiet) this.error = messageOf(err);
    } finally {
      if (generation === this.#generation) this.loading = false;
    }
  }

  stop(): void {
    this.#generation++;
    this.#controller?.abort();
  }
}
