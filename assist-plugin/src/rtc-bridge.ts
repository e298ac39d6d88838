import type { AssistState as SessionAssistState } from '@tandem/protocol';
import type { Guard, TabToServerEvents } from '@tandem/protocol';
import type { AssistHost, AssistSession } from './host.js';
import { EMPTY_RTC_SUMMARY, RTC_GLOBAL, type RtcContext, type RtcController, type RtcModule, type RtcServerEvent, type RtcSummary } from './rtc-api.js';
import type { AssistUi } from './ui.js';
import { loadChunkScript } from './chunk-loader.js';

/**
 * The core's side of the WebRTC chunk (in /tracker.js, so it stays small): it listens for the
 * server's assist messages, loads the chunk the first time one needs it, and hands every message
 * over in order. Nobody who never gets a call, control, drawing or canvas request downloads it.
 */

/** Every server → tab message of signal.ts: all go to the chunk. */
export const RTC_EVENTS: readonly RtcServerEvent[] = [
  'assist:request',
  'assist:state',
  'rtc:config',
  'rtc:signal',
  'control:input',
  'annotate:stroke',
  'canvas:want',
  'canvas:stop',
  'assist:refused',
];

/**
 * Messages kept while the chunk loads (a few seconds of control input, ICE candidates and states);
 * beyond that the oldest go: a stale pointer move is worth less than the newest state.
 */
export const MAX_PENDING_RTC_MESSAGES = 500;

/** Does this message need the chunk (R1: a request to answer, or a grant this tab already holds)? */
export function needsRtc(name: RtcServerEvent, msg: unknown, tabId: string | null): boolean {
  switch (name) {
    case 'assist:request':
    case 'canvas:want':
    case 'control:input':
    case 'annotate:stroke':
      return true;
    case 'assist:state': {
      const s = msg as SessionAssistState | null;
      if (!s || typeof s !== 'object') return false;
      // After a reload the grant is in the first state: control resumes without a prompt (R4).
      return (!!tabId && (s.call?.tabId === tabId || s.control?.tabId === tabId)) || (s.annotate?.length ?? 0) > 0;
    }
    default:
      return false;
  }
}

export interface RtcBridgeDeps {
  load(): Promise<RtcModule>;
  /** The context for a new controller; null when the plugin has no session (nothing to run). */
  context(): RtcContext | null;
  tabId(): string | null;
  report(err: unknown, where: string): void;
}

export class RtcBridge {
  private controller: RtcController | null = null;
  private loading = false;
  private pending: [RtcServerEvent, unknown][] = [];

  constructor(private readonly deps: RtcBridgeDeps) {}

  receive(name: RtcServerEvent, msg: unknown): void {
    if (this.controller) {
      this.deliver(this.controller, name, msg);
      return;
    }
    this.pending.push([name, msg]);
    if (this.pending.length > MAX_PENDING_RTC_MESSAGES) this.pending.shift();
    if (needsRtc(name, msg, this.deps.tabId())) this.start();
  }

  liveStopped(): void {
    this.controller?.liveStopped();
  }

  summary(): RtcSummary {
    return this.controller ? this.controller.summary() : { ...EMPTY_RTC_SUMMARY, peers: [], canvasPeers: [], remoteMedia: [], prompts: [], controlRefusals: {} };
  }

  connections(): Map<string, RTCPeerConnection> {
    return this.controller?.connections() ?? new Map();
  }

  /** Ends the local side of everything (another session, the tracker stopped). A new trigger starts afresh. */
  dispose(): void {
    const c = this.controller;
    this.controller = null;
    this.pending = [];
    c?.dispose();
  }

  private start(): void {
    if (this.loading) return;
    this.loading = true;
    this.deps
      .load()
      .then((mod) => {
        this.loading = false;
        if (this.controller || !this.pending.length) return; // disposed meanwhile: wait for the next trigger
        const ctx = this.deps.context();
        if (!ctx) return;
        const controller = mod.createRtc(ctx);
        this.controller = controller;
        for (const [name, msg] of this.pending.splice(0)) this.deliver(controller, name, msg);
      })
      .catch((err) => {
        // The next message that needs it tries again (a flaky network, a deploy in progress).
        this.loading = false;
        this.deps.report(err, 'rtc load');
      });
  }

  private deliver(c: RtcController, name: RtcServerEvent, msg: unknown): void {
    try {
      (c.handle as (n: RtcServerEvent, m: unknown) => void)(name, msg);
    } catch (err) {
      this.deps.report(err, name);
    }
  }
}

/** The chunk's default URL: `<ingestUrl>/tracker-rtc.js` (the backend serves it next to /tracker.js). */
export function rtcChunkUrl(ingestUrl: string): string {
  return `${ingestUrl.replace(/\/+$/, '')}/tracker-rtc.js`;
}

/** Loads the WebRTC chunk (see chunk-loader.ts); the chunk sets `window[RTC_GLOBAL]`. */
export function loadRtcScript(doc: Document, url: string): Promise<RtcModule> {
  return loadChunkScript<RtcModule>(doc, url, RTC_GLOBAL, (m) => !!m);
}

export interface RtcWiring {
  doc: Document | null;
  session(): AssistSession | null;
  host(): AssistHost | null;
  ui(doc: Document): AssistUi;
  uiHost(): HTMLElement | null;
  guard(): Guard;
  send<E extends keyof TabToServerEvents>(name: E, ...args: Parameters<TabToServerEvents[E]>): void;
  /** `options.rtcUrl`; default `<ingestUrl>/tracker-rtc.js`. */
  rtcUrl?: string;
  /** The chunk's content hash from the build (`?v=`), '' outside the built tracker. */
  version: string;
  /** Injected loader (tests); default a `<script>`. */
  load?: () => Promise<RtcModule>;
}

/** The plugin's bridge to the chunk, with the context the chunk gets. */
export function createRtcBridge(w: RtcWiring): RtcBridge {
  const context = (): RtcContext | null => {
    const d = w.doc;
    if (!d || !w.session()) return null;
    return {
      doc: d,
      tabId: () => w.session()?.tabId ?? null,
      sessionId: () => w.session()?.sessionId ?? null,
      send: (name, ...args) => w.send(name, ...args),
      mirror: () => {
        const host = w.host();
        return host?.getMirror ? (w.guard().run('mirror', () => host.getMirror!()) ?? null) : null;
      },
      ui: {
        mount: (el) => w.ui(d).mount(el),
        addStyles: (id, css) => w.ui(d).addStyles(id, css),
        get host() {
          return w.uiHost();
        },
      },
      wrap: (where, fn) => w.guard().wrap(where, fn as never) as never,
      report: (err, where) => w.guard().report(err, where),
    };
  };
  const load = () => {
    const url = w.rtcUrl || rtcChunkUrl(w.host()?.ingestUrl ?? '');
    return loadRtcScript(w.doc!, w.version && !url.includes('?') ? `${url}?v=${w.version}` : url);
  };
  return new RtcBridge({
    load: w.load ?? load,
    context,
    tabId: () => w.session()?.tabId ?? null,
    report: (err, where) => w.guard().report(err, `rtc ${where}`),
  });
}
