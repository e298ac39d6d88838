import type { TandemEvent } from '@tandem/protocol';

/**
 * What the assist plugin needs from the tracker. Structural on purpose: `@tandem/tracker` depends
 * on this package (its /tracker.js bundles the plugin), so this package cannot import the tracker.
 * The tracker's `Tracker` class satisfies it (checked by a type test in tracker/test).
 */
export interface AssistSession {
  sessionId: string;
  tabId: string;
  visitorId: string;
  /** Session token from `/ingest/v1/start`: authenticates the tab socket. */
  token: string;
}

/** The page as the host reports it, URL already redacted (secret-looking query keys replaced). */
export interface AssistHostPage {
  url: string;
  title: string;
  userId?: string;
}

/** rrweb's mirror as the recorder keeps it: the node ids the agent's replay uses. */
export interface NodeMirror {
  /** The node's id, -1 when the recorder does not know it. */
  getId(node: Node | null | undefined): number;
  getNode(id: number): Node | null;
}

export interface AssistHost {
  /** Origin (and optional path prefix) of the Tandem server: the socket goes to `<ingestUrl>/assist`. */
  readonly ingestUrl: string;
  /** Every event the tracker emits, with its seq, in seq order. */
  readonly bus: { subscribe(fn: (e: TandemEvent) => void): () => void };
  /** A new Meta + FullSnapshot now (published on the bus synchronously when recording). */
  takeFullSnapshot(): void;
  /**
   * Record every input event (typing shows live) instead of the recording's value-on-change. Returns
   * true when switching restarted the recorder, which already drew a new Meta + FullSnapshot.
   */
  setLiveSampling?(on: boolean): boolean;
  /** Called with the session now (if known) and on every id or token change; returns an unsubscribe. */
  onSession(fn: (s: AssistSession) => void): () => void;
  /** Called when the site stops the tracker: the plugin closes its socket (a later start reconnects). */
  onStop?(fn: () => void): () => void;
  /** The current page, URL redacted the tracker's way, and the identified user. */
  currentPage?(): AssistHostPage;
  /** Adds a URL prefix the host's network capture must not record (the socket's polling requests). */
  ignoreNetwork?(urlPrefix: string): void;
  /**
   * The recorder's node mirror (`record.mirror`), null while not recording. Remote control maps the
   * agent's node ids to this page's elements with it; canvas video names its canvases by it.
   */
  getMirror?(): NodeMirror | null;
  /** The host's error reporting (the tracker's `onError`, reported once per kind). */
  reportError?(err: unknown, where: string): void;
}
