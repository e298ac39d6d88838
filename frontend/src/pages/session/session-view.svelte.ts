import type { ConsoleEntry, ErrorEntry, NetworkEntry, ReplayWindow, SessionDetail, TabInfo, TandemEvent } from '@tandem/protocol';
import { ApiError, isAbort, messageOf, type ApiClient } from '../../lib/api/client';
import { openPath, putEarly } from '../../lib/api/early';
import { takeEarlyOpen } from '../../lib/player/early-frame';
import type { StreamProgress } from '../../lib/api/ndjson';
import { readOpenStream, type OpenStream } from '../../lib/player/open-stream';
import type { ShareTarget } from '../../lib/player/share';
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
  /** the first window, streaming in with the detail (open route); taken once by the player */
  #opened: { tabId: string; window: ReplayWindow; stream: OpenStream } | null = null;

  constructor(api: ApiClient, id: string) {
    this.#api = api;
    this.id = id;
  }

  get api(): ApiClient {
    return this.#api;
  }

  /**
   * Loads the session; `share` (a share link's moment and tab) picks the tab to show first, else the
   * first tab. The first load goes through the open route: the detail and the window the player
   * needs first come in one answer (index.html may have asked for it before the app even started).
   */
  async open(share: ShareTarget = { t: null, tabId: null }): Promise<void> {
    this.detailError = null;
    const signal = this.#abort.signal;
    try {
      const opened = this.detail ? null : await this.#openStream(share, signal);
      const detail = opened?.head.session ?? (await this.#api.session(this.id, signal));
      performance.mark('tandem:detail');
      if (opened?.head.tabId && opened.head.window) this.#opened = { tabId: opened.head.tabId, window: opened.head.window, stream: opened.stream };
      this.detail = detail;
      const first = this.tabs.find((t) => t.tabId === (opened?.head.tabId ?? share.tabId)) ?? this.tabs[0];
      if (first) this.selectTab(first.tabId);
    } catch (err) {
      if (!isAbort(err)) this.detailError = messageOf(err);
    }
  }

  /** The open route's head and stream; null when it failed in a way the plain detail route may not (it then answers or explains). */
  async #openStream(share: ShareTarget, signal: AbortSignal) {
    try {
      const path = openPath(this.id, share.t, share.tabId);
      // A share link's early frame (lib/player/early-frame.ts) took index.html's answer: its stream, or
      // the answer back for the client (an error status reads as any other call's).
      const early = await takeEarlyOpen(path);
      if (early && 'response' in early && early.response) putEarly(path, early.response);
      const stream = early && 'stream' in early ? early.stream : readOpenStream(await this.#api.openSession(path, signal));
      return { head: await stream.head, stream };
    } catch (err) {
      if (isAbort(err) || (err instanceof ApiError && (err.status === 401 || err.status === 404))) throw err;
      return null;
    }
  }

  /**
   * The window that came with the detail, if it is `window` of `tabId` (the player asks for the
   * window it planned; the server planned it the same way): its events, with progress. Once.
   */
  takeOpened(tabId: string, window: Pick<ReplayWindow, 'fromSeq' | 'toSeq'>, onProgress: (p: StreamProgress) => void): Promise<TandemEvent[]> | null {
    const opened = this.#opened;
    if (!opened || opened.tabId !== tabId || opened.window.fromSeq !== window.fromSeq || opened.window.toSeq !== window.toSeq) return null;
    this.#opened = null;
    opened.stream.onProgress = onProgress;
    onProgress(opened.stream.progress);
    return opened.stream.events;
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
