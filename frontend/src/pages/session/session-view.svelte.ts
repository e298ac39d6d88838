import type { ConsoleEntry, ErrorEntry, NetworkEntry, SessionDetail, TabInfo, TandemEvent } from '@tandem/protocol';
import { isAbort, messageOf, type ApiClient } from '../../lib/api/client';
import type { StreamProgress } from '../../lib/api/ndjson';
import { sortByTs } from '../../lib/timeline';

/** Panel data is loaded once per session; `error` is shown in the panel, not over the player. */
export interface PanelData<T> {
  items: T[] | null;
  error: string | null;
}

/**
 * Everything the session page loads: metadata, the events of the replayed tab (streamed with
 * progress, cached per tab so switching back is instant) and the console/network/error panels.
 * Big arrays are `$state.raw`: they are replaced, never mutated, and proxying 100k events would
 * cost more than the replay itself.
 */
export class SessionView {
  detail = $state.raw<SessionDetail | null>(null);
  detailError = $state<string | null>(null);

  tabId = $state<string | null>(null);
  events = $state.raw<TandemEvent[] | null>(null);
  eventsError = $state<string | null>(null);
  progress = $state.raw<StreamProgress>({ items: 0, bytes: 0 });

  console = $state.raw<PanelData<ConsoleEntry>>({ items: null, error: null });
  network = $state.raw<PanelData<NetworkEntry>>({ items: null, error: null });
  errors = $state.raw<PanelData<ErrorEntry>>({ items: null, error: null });

  tabs = $derived<TabInfo[]>(this.detail ? [...this.detail.tabs].sort((a, b) => a.startedAt - b.startedAt) : []);
  tab = $derived(this.tabs.find((t) => t.tabId === this.tabId) ?? null);

  readonly id: string;
  #api: ApiClient;
  #abort = new AbortController();
  #eventsAbort: AbortController | null = null;
  #cache = new Map<string, TandemEvent[]>();

  constructor(api: ApiClient, id: string) {
    this.#api = api;
    this.id = id;
  }

  async open(): Promise<void> {
    this.detailError = null;
    const signal = this.#abort.signal;
    void this.#loadPanels(signal);
    try {
      const detail = await this.#api.session(this.id, signal);
      this.detail = detail;
      const first = this.tabs[0];
      if (first) await this.selectTab(first.tabId);
    } catch (err) {
      if (!isAbort(err)) this.detailError = messageOf(err);
    }
  }

  async selectTab(tabId: string): Promise<void> {
    if (this.tabId === tabId && (this.events || this.#eventsAbort)) return;
    this.#eventsAbort?.abort();
    this.tabId = tabId;
    this.eventsError = null;
    const cached = this.#cache.get(tabId);
    if (cached) {
      this.events = cached;
      return;
    }
    this.events = null;
    this.progress = { items: 0, bytes: 0 };
    const abort = new AbortController();
    this.#eventsAbort = abort;
    const onAbort = () => abort.abort();
    this.#abort.signal.addEventListener('abort', onAbort);
    try {
      const events = await this.#api.events(this.id, tabId, (p) => (this.progress = p), abort.signal);
      // rrweb replays in timestamp order; seq order is nearly that, and a stable sort keeps ties in seq order.
      events.sort((a, b) => a.timestamp - b.timestamp);
      this.#cache.set(tabId, events);
      if (this.tabId === tabId) this.events = events;
    } catch (err) {
      if (!isAbort(err) && this.tabId === tabId) this.eventsError = messageOf(err);
    } finally {
      this.#abort.signal.removeEventListener('abort', onAbort);
      if (this.#eventsAbort === abort) this.#eventsAbort = null;
    }
  }

  retryEvents(): void {
    if (!this.tabId) return;
    const tabId = this.tabId;
    this.tabId = null;
    void this.selectTab(tabId);
  }

  async #loadPanels(signal: AbortSignal): Promise<void> {
    const load = async <T extends { ts: number; seq: number }>(
      fetcher: (id: string, signal: AbortSignal) => Promise<T[]>,
      set: (data: PanelData<T>) => void,
    ) => {
      try {
        set({ items: sortByTs(await fetcher(this.id, signal)), error: null });
      } catch (err) {
        if (!isAbort(err)) set({ items: [], error: messageOf(err) });
      }
    };
    await Promise.all([
      load((id, s) => this.#api.console(id, s), (d) => (this.console = d)),
      load((id, s) => this.#api.network(id, s), (d) => (this.network = d)),
      load((id, s) => this.#api.errors(id, s), (d) => (this.errors = d)),
    ]);
  }

  destroy(): void {
    this.#abort.abort();
    this.#eventsAbort?.abort();
  }
}

/** Entries of one tab. Entries without a tab id (older trackers) belong to every tab. */
export function forTab<T extends { tabId: string }>(items: readonly T[] | null, tabId: string | null): T[] {
  if (!items) return [];
  if (!tabId) return [...items];
  return items.filter((item) => !item.tabId || item.tabId === tabId);
}
