import { TandemError, type StartRequest, type StartResponse, type TrackerServerConfig } from '@tandem/protocol';
import type { Stream } from './batcher.js';
import type { CanvasLevelMemory } from './canvas.js';
import type { EventNumbering } from './event-numbering.js';
import { DEFAULT_SERVER_CONFIG } from './options.js';
import type { Guard } from './safe.js';
import type { OpenResult, SessionOpener } from './session-opener.js';
import type { SessionStore } from './session.js';
import { startRequest } from './start-request.js';

export interface SessionInfo {
  sessionId: string;
  tabId: string;
  visitorId: string;
  token: string;
}

export interface TabSessionDeps {
  projectKey: string;
  guard: Guard;
  /** localStorage / sessionStorage ids (kept across page loads). */
  ids: SessionStore;
  canvasMemory: CanvasLevelMemory;
  numbering: EventNumbering;
  /** The server's config for this session, as the answer brought it (batch size, packing). */
  configure(config: TrackerServerConfig): void;
}

/**
 * Who this tab is on the server: its stream (session, tab, token), visitor and user ids and the
 * server's config, as the last start answer set them; builds the next start request and tells
 * listeners when the session, tab or token changes.
 */
export class TabSession {
  stream: Stream | undefined;
  visitor: string | undefined;
  userId: string | undefined;
  config: TrackerServerConfig = { ...DEFAULT_SERVER_CONFIG };
  private readonly listeners = new Set<(s: SessionInfo) => void>();

  constructor(private readonly deps: TabSessionDeps) {
    this.config.canvas = deps.canvasMemory.recall();
    this.userId = deps.ids.resumeIds().userId;
  }

  get info(): SessionInfo | undefined {
    const s = this.stream;
    if (!s || !this.visitor) return undefined;
    return { sessionId: s.sessionId, tabId: s.tabId, visitorId: this.visitor, token: s.token };
  }

  /** The start request's ids: a token refresh keeps this tab's ids even if another tab has since moved to a newer session. */
  request(fresh: boolean): StartRequest {
    const stored = this.deps.ids.resumeIds();
    return startRequest(this.deps.projectKey, {
      visitorId: this.visitor ?? stored.visitorId,
      sessionId: fresh ? undefined : (this.stream?.sessionId ?? stored.sessionId),
      tabId: fresh ? undefined : (this.stream?.tabId ?? stored.tabId),
      userId: this.userId,
    });
  }

  /**
   * Applies a start answer. Synchronous on purpose: no event may be numbered between the seq reset
   * and the release of the events held meanwhile.
   */
  apply(res: StartResponse): OpenResult {
    const { ids, numbering } = this.deps;
    const offset = res.serverTime - Date.now();
    const tokenExpiresAt = res.tokenExpiresAt - offset;
    const prev = this.stream;
    let result: OpenResult;
    if (prev && prev.sessionId === res.sessionId && prev.tabId === res.tabId) {
      prev.token = res.token; // queued batches of this stream share the object: all get the new token
      prev.tokenExpiresAt = tokenExpiresAt;
      prev.ackSeq = Math.max(prev.ackSeq, res.ackSeq);
      result = 'same';
    } else {
      const floor = ids.lastSeq(res);
      this.stream = { sessionId: res.sessionId, tabId: res.tabId, token: res.token, tokenExpiresAt, ackSeq: res.ackSeq };
      numbering.seq.reset(res.ackSeq, floor);
      result = prev ? 'new' : 'first';
    }
    this.visitor = res.visitorId;
    this.config = { ...DEFAULT_SERVER_CONFIG, canvas: 'off', ...res.config };
    this.deps.canvasMemory.remember(this.config.canvas ?? 'off');
    this.deps.configure(this.config);
    ids.save(res);
    ids.saveStream({ ...this.stream!, config: this.config });
    if (!numbering.ready) numbering.seq.reset(res.ackSeq, ids.lastSeq(res)); // rotation kept the ids
    numbering.release(this.stream!);
    const info = this.info!;
    for (const fn of this.listeners) this.deps.guard.run('session listener', () => fn(info));
    return result;
  }

  /**
   * A later page of this tab numbers and sends at once, on the stream (and config) the tab's last start
   * answer gave, while its session is fresh and its token good for `marginMs` more: holding the events
   * until this page's own answer lost them all when the tab closed first (a server slow under load).
   * That answer still comes and applies (same ids: a new token; other ids: a new baseline). Listeners
   * wait for it (the visitor is unset until then): plugins connect once, with the newest token.
   */
  resume(marginMs: number): boolean {
    const { ids, numbering } = this.deps;
    const saved = ids.savedStream();
    if (!saved || saved.tokenExpiresAt - Date.now() < marginMs) return false;
    const { config, ...stream } = saved;
    this.stream = { ...stream, ackSeq: -1 };
    this.config = config;
    this.deps.configure(config);
    numbering.seq.reset(-1, ids.lastSeq(stream));
    numbering.release(this.stream);
    return true;
  }

  /** Called with the session now (if any) and whenever the session, tab or token changes. */
  onChange(fn: (s: SessionInfo) => void): () => void {
    this.listeners.add(fn);
    const info = this.info;
    if (info) this.deps.guard.run('session listener', () => fn(info));
    return () => {
      this.listeners.delete(fn);
    };
  }

  /** The session once known; rejects with the server's refusal if the tracker is refused for good. */
  whenKnown(opener: SessionOpener): Promise<SessionInfo> {
    const now = this.info;
    if (now) return Promise.resolve(now);
    if (opener.fatal) return Promise.reject(opener.fatalError ?? new TandemError('unauthorized', 'tandem: the server refused this tracker', 0));
    return new Promise((resolve, reject) => {
      let off: (() => void) | undefined;
      const fail = (err: unknown) => {
        off?.();
        reject(err);
      };
      const unwait = opener.onRefusal(fail);
      off = this.onChange((s) => {
        unwait();
        off?.();
        resolve(s);
      });
    });
  }

  /** Before events leave memory, note the last seq, so a reload never reuses one (see session.ts). */
  rememberSeq(): void {
    const { numbering, ids } = this.deps;
    if (this.stream && numbering.ready) ids.saveLastSeq(this.stream, numbering.seq.last);
  }
}
