import { RRWEB_EVENT, TANDEM_EVENT, type IdentifyPayload, type TabPage, type TandemEvent } from '@tandem/protocol';
import type { Guard } from '@tandem/protocol';
import type { AssistHost } from './host.js';

/** focus/blur/visibility changes are sent at most this often. */
export const PAGE_THROTTLE_MS = 250;

export interface PageInfoDeps {
  host(): AssistHost | null;
  doc: Document | null;
  guard(): Guard;
  connected(): boolean;
  send(page: TabPage): void;
}

/**
 * The tab's page info (`tab:page`: URL, title, visible, focused, user): the only thing a tab sends
 * while nobody watches. Leading edge in the next task, then at most one message per
 * PAGE_THROTTLE_MS, never the same page twice.
 */
export class PageInfo {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastAt = 0;
  private lastJson = '';
  private userId: string | undefined;

  constructor(private readonly deps: PageInfoDeps) {}

  current(): TabPage {
    const { doc } = this.deps;
    const host = this.deps.host();
    const fromHost = host?.currentPage ? this.deps.guard().run('current page', () => host.currentPage!()) : undefined;
    let url = fromHost?.url ?? '';
    let title = fromHost?.title ?? '';
    if (!fromHost && doc) {
      // No redaction available without the tracker: no query or fragment at all.
      const loc = doc.location;
      url = loc ? loc.origin + loc.pathname : '';
      title = String(doc.title || '').slice(0, 300);
    }
    const page: TabPage = {
      url,
      title,
      visible: doc ? doc.visibilityState === 'visible' : false,
      focused: doc && typeof doc.hasFocus === 'function' ? doc.hasFocus() : false,
    };
    const uid = fromHost?.userId ?? this.userId;
    if (uid) page.userId = uid;
    return page;
  }

  /** The page as the handshake carries it: later messages only say what changed since. */
  forHandshake(): TabPage {
    const page = this.current();
    this.lastJson = JSON.stringify(page);
    this.lastAt = Date.now();
    return page;
  }

  /** Leading edge soon (next task), then at most one message per PAGE_THROTTLE_MS. */
  soon = (): void => {
    if (this.timer || !this.deps.connected()) return;
    const wait = Math.max(0, this.lastAt + PAGE_THROTTLE_MS - Date.now());
    this.timer = setTimeout(this.deps.guard().wrap('tab page', this.sendNow), wait);
  };

  /** Visibility and focus changes are page info too. */
  listen(doc: Document): void {
    const onChange = this.deps.guard().wrap('page listener', this.soon);
    doc.addEventListener('visibilitychange', onChange);
    doc.defaultView?.addEventListener('focus', onChange);
    doc.defaultView?.addEventListener('blur', onChange);
  }

  /** A disconnect: nothing pending, and the next connection's handshake sets the baseline again. */
  reset(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.lastJson = '';
  }

  /** Page visits and `identify` as they pass on the tracker's bus. */
  onBus = (e: TandemEvent): void => {
    if (e.type !== RRWEB_EVENT.Custom) return;
    const data = e.data as { tag?: string; payload?: unknown };
    if (data.tag === TANDEM_EVENT.pageVisit) {
      this.soon();
    } else if (data.tag === TANDEM_EVENT.identify) {
      const uid = (data.payload as IdentifyPayload | undefined)?.userId;
      if (typeof uid === 'string') this.userId = uid;
      this.soon();
    }
  };

  private sendNow = (): void => {
    this.timer = null;
    if (!this.deps.connected()) return;
    const page = this.current();
    const json = JSON.stringify(page);
    if (json === this.lastJson) return;
    this.lastJson = json;
    this.lastAt = Date.now();
    this.deps.send(page);
  };
}
