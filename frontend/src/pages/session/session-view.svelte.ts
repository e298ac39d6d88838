import type { ConsoleEntry, ErrorEntry, NetworkEntry, SessionDetail, TabInfo } from '@tandem/protocol';
import { isAbort, messageOf, type ApiClient } from '../../lib/api/client';
import { takeSession } from '../../lib/api/prefetch';
import { emptyScan, type TimelineScan } from '../../lib/player/scan';
import { sortByTs } from '../../lib/timeline';

/** Panel data is loaded once per session; `error` is shown in the panel, not over the player. */
export interface PanelData<T> {
  items: T[] | null;
  error: string | null;
}

/**
 * Everything the session page loads besides the replayed events (the player fetches those window by
 * window): metadata, the console/network/error panels, and per tab its timeline (clicks, custom
 * events, identify calls, user activity), which the server picks out of the tab's events.
 * Big arrays are `$state.raw`: they are replaced, never mutated.
 */
export class SessionView {
  detail = $state.raw<SessionDetail | null>(null);
  detailError = $state<string | null>(null);

  tabId = $state<string | null>(null);
  /** the selected tab's timeline (empty until it arrives) */
  scan = $state.raw<TimelineScan>(emptyScan());
  scanDone = $state(false);

  console = $state.raw<PanelData<ConsoleEntry>>({ items: null, error: null });
  network = $state.raw<PanelData<NetworkEntry>>({ items: null, error: null });
  errors = $state.raw<PanelData<ErrorEntry>>({ items: null, error: null });

  tabs = $derived<TabInfo[]>(this.detail ? [...this.detail.tabs].sort((a, b) => a.startedAt - b.startedAt) : []);
  tab = $derived(this.tabs.find((t) => t.tabId === this.tabId) ?? null);
  /** epoch ms of the session's first recorded event (any tab): share links count from here */
  origin = $derived(this.tabs[0]?.startedAt ?? this.detail?.startedAt ?? 0);

  readonly id: string;
  #api: ApiClient;
  #abort = new AbortController();
  #scanAbort: AbortController | null = null;
  #scans = new Map<string, TimelineScan>();
  #scanning: string | null = null;
  #panelsStarted = false;

  constructor(api: ApiClient, id: string) {
    this.#api = api;
    this.id = id;
  }

  get api(): ApiClient {
    return this.#api;
  }

  /** Loads the session; `tabId` picks the tab to show first (a share link's), else the first tab. */
  async open(tabId?: string | null): Promise<void> {
    this.detailError = null;
    const signal = this.#abort.signal;
    try {
      const prefetched = takeSession(this.id);
      const detail = (prefetched ? await prefetched.catch(() => null) : null) ?? (await this.#api.session(this.id, signal));
      this.detail = detail;
      const first = this.tabs.find((t) => t.tabId === tabId) ?? this.tabs[0];
      if (first) this.selectTab(first.tabId);
    } catch (err) {
      if (!isAbort(err)) this.detailError = messageOf(err);
    }
  }

  selectTab(tabId: string): void {
    if (this.tabId === tabId) return;
    this.#scanAbort?.abort();
    this.tabId = tabId;
    const cached = this.#scans.get(tabId);
    this.scan = cached ?? emptyScan();
    this.scanDone = !!cached;
    this.#scanning = null;
  }

  /**
   * Starts the panels' loads (once) and the selected tab's timeline. The page calls it once the first
   * frame is drawn: storage answers one query at a time, and the window the viewer is waiting for must
   * not queue behind the panels or the timeline.
   */
  ensureScan(): void {
    if (!this.#panelsStarted) {
      this.#panelsStarted = true;
      void this.#loadPanels(this.#abort.signal);
    }
    const tabId = this.tabId;
    if (!tabId || this.scanDone || this.#scanning === tabId) return;
    this.#scanning = tabId;
    void this.#scanTab(tabId);
  }

  async #scanTab(tabId: string): Promise<void> {
    const abort = new AbortController();
    this.#scanAbort = abort;
    const onAbort = () => abort.abort();
    this.#abort.signal.addEventListener('abort', onAbort);
    try {
      const { clicks, customs, identifies, interactions } = await this.#api.timeline(this.id, tabId, abort.signal);
      const scan: TimelineScan = { clicks, customs, identifies, interactions };
      this.#scans.set(tabId, scan);
      if (this.tabId === tabId) {
        this.scan = scan;
        this.scanDone = true;
      }
    } catch {
      // The timeline is an extra: without it the player still plays.
      if (this.tabId === tabId) this.scanDone = true;
    } finally {
      this.#abort.signal.removeEventListener('abort', onAbort);
      if (this.#scanning === tabId) this.#scanning = null;
    }
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
    this.#scanAbort?.abort();
  }
}

/** Entries of one tab. Entries without a tab id (older trackers) belong to every tab. */
export function forTab<T extends { tabId: string }>(items: readonly T[] | null, tabId: string | null): T[] {
  if (!items) return [];
  if (!tabId) return [...items];
  return items.filter((item) => !item.tabId || item.tabId === tabId);
}
