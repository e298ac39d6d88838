import type { AgentToServerEvents } from '@tandem/protocol';
import { AgentConnection } from '../../lib/live/agent-connection';
import { EarlyPeers, type EarlyPeerSocket } from '../../lib/live/early-peers';

/**
 * A tab opened on `#/live/<id>` joins while the app checks the sign-in and loads the live view's
 * chunk (rrweb): App.svelte imports this small module (socket.io only) as it starts, its socket's
 * handshake carries the join (AgentHandshake.join: the server joins as it accepts the socket, not
 * when this page's busy main thread gets to handle the connect), and what the server sends back (the
 * join's answer `live:joined`, the
 * user's snapshot, the watched tab's canvas offer…) is kept in arrival order until the live view is
 * attached and replays it (`take`). Before, `live:join` left only once the sign-in check answered,
 * the page's chunk had loaded and the socket's handshake was done, one after the other.
 *
 * (An earlier early boot, removed in be5d015, built the whole view first and so joined only once the
 * view's chunk had loaded: later than without it. Here nothing waits for that chunk.)
 *
 * Safe before the app's own check: the server authenticates the socket itself (agent cookie,
 * same-origin check); a signed-out agent's socket is refused, and a join nobody claims is closed.
 */

/** A join no live page claimed by then (signed out, or the agent went elsewhere) is closed. */
const UNCLAIMED_MS = 15_000;
/** As the view's own join (live-view.svelte.ts): an unanswered join is an error to show. */
const ACK_TIMEOUT_MS = 10_000;

type JoinAnswer = Parameters<Parameters<AgentToServerEvents['live:join']>[1]>[0];
export type JoinCallback = (err: Error | null, result: JoinAnswer) => void;

type Entry = { kind: 'answer'; err: Error | null; result: JoinAnswer } | { kind: 'event'; name: string; args: unknown[] };

/**
 * What an early join needs of its socket: an AgentConnection (socket.io only, no Svelte: this chunk
 * must not wait for the app's), which the live page's LiveSocket then wraps; a fake in unit tests.
 */
export type EarlySocket = Pick<AgentConnection, 'socket' | 'onConnect' | 'close' | 'joinInHandshake'>;

export class EarlyJoin<S extends EarlySocket = AgentConnection> {
  readonly socket: S;
  readonly sessionId: string;
  readonly tabId: string | undefined;
  /**
   * The canvas peer answered before the view exists (lib/live/early-peers.ts), or null: then the
   * signals wait in the log like every other message.
   */
  readonly peers: EarlyPeers | null;
  #log: Entry[] = [];
  #record = (name: string, ...args: unknown[]) => {
    // The early peers handle these themselves, and the view adopts them (not replayed twice).
    if (this.peers && (name === 'rtc:signal' || name === 'rtc:config')) return;
    this.#log.push({ kind: 'event', name, args });
  };
  /** The join went out on the socket's first connection and that connection still stands. */
  #usable = false;
  #taken: JoinCallback | null = null;
  #done = false;
  #answered = false;
  #offConnect: () => void = () => {};

  constructor(socket: S, sessionId: string, tabId: string | undefined, makePeers?: (io: EarlyPeerSocket) => EarlyPeers) {
    this.socket = socket;
    this.sessionId = sessionId;
    this.tabId = tabId;
    const io = this.socket.socket;
    this.peers = makePeers ? makePeers(io as unknown as EarlyPeerSocket) : null;
    io.onAny(this.#record);
    /** The join's one answer (the first of `live:joined`, the timeout, or `live:join`'s ack). */
    const answered = (err: Error | null, result: JoinAnswer) => {
      if (this.#answered) return;
      this.#answered = true;
      if (this.#taken) this.#taken(err, result);
      else this.#log.push({ kind: 'answer', err, result });
    };
    // The server joins while accepting the socket (AgentHandshake.join) and answers with `live:joined`.
    io.on('live:joined', (msg) => {
      if (msg.sessionId === sessionId && this.#usable) answered(null, msg.result);
    });
    this.#offConnect = this.socket.onConnect(() => {
      // Only the first connection's: a reconnect needs the view's own join.
      if (this.#usable || this.#done) return;
      this.#usable = true;
      this.#offConnect();
      if (this.socket.joinInHandshake) {
        const timer = setTimeout(() => answered(new Error('live:joined timed out'), undefined as never), ACK_TIMEOUT_MS);
        io.on('live:joined', () => clearTimeout(timer));
        return;
      }
      // That connection's handshake did not carry the join (its first attempt failed): join now.
      io.timeout(ACK_TIMEOUT_MS).emit('live:join', { sessionId, ...(tabId ? { tabId } : {}) }, answered);
    });
    // A reconnect needs a new join: the view makes it (its own connect listener).
    io.on('disconnect', () => this.#stop());
  }

  /**
   * Called by the view's first join: true when this join stands for it. Then `answer` gets the
   * join's answer, after what came before it has been handed to the socket's listeners (the view's
   * and the assist modules' are registered by now) in arrival order; from here on messages flow to
   * them directly. False: the view sends its own join.
   */
  take(answer: JoinCallback): boolean {
    if (!this.#usable || this.#done) {
      this.#stop();
      return false;
    }
    this.#stop();
    this.#taken = answer;
    const io = this.socket.socket as unknown as { listeners(name: string): ((...a: unknown[]) => void)[] };
    const log = this.#log;
    this.#log = [];
    for (const entry of log) {
      if (entry.kind === 'answer') {
        answer(entry.err, entry.result);
        continue;
      }
      for (const fn of io.listeners(entry.name)) {
        try {
          fn(...entry.args);
        } catch (err) {
          console.error('[tandem] live view handler failed', err);
        }
      }
    }
    return true;
  }

  #stop(): void {
    if (this.#done) return;
    this.#done = true;
    this.#offConnect();
    this.socket.socket.offAny(this.#record);
  }
}

let early: EarlyJoin | null = null;
/** A page claimed before any early join started: none may start after it (it would join twice). */
let pageFirst = false;
let timer: ReturnType<typeof setTimeout> | undefined;

/**
 * The live view a page at this location opens (`#/live/<id>[?tab=<tabId>]` on the dashboard's own
 * path), or null. The router's rule for the `live` route (lib/router.svelte.ts `matchRoute`), written
 * here again because importing the router would make this chunk load the app's entry chunk; the
 * watch/embed pages (`/watch/<token>`) join through their own socket.
 */
export function liveJoinTarget(loc: { pathname: string; hash: string }): { sessionId: string; tabId: string | undefined } | null {
  if (/^\/(watch|embed)\//.test(loc.pathname)) return null;
  const m = /^#\/live\/([^/?]+)\/?(?:\?(.*))?$/.exec(loc.hash);
  if (!m || m[1] === 'grid') return null;
  let sessionId: string;
  try {
    sessionId = decodeURIComponent(m[1]);
  } catch {
    sessionId = m[1];
  }
  return { sessionId, tabId: new URLSearchParams(m[2] ?? '').get('tab') ?? undefined };
}

/**
 * The early join of the live view this page opened on, if it is one. Runs when this chunk is first
 * evaluated: the build's inline script in index.html (vite.config.ts `liveEarlyJoin`) imports it as
 * the page starts parsing, so the socket opens (and the join rides on its handshake) while the browser
 * still loads and evaluates the app's entry chunk (one task of ~150–200 ms quiet; the join left ~400 ms
 * after navigation when only App.svelte started it, after that task). App.svelte's own call to
 * `startEarlyJoin` then finds the join started and does nothing. A module-level call rather than an
 * export for the inline script: the bundler drops exports no module imports.
 */
export function startEarlyJoinFromLocation(loc: { pathname: string; hash: string }): void {
  const target = liveJoinTarget(loc);
  if (target) startEarlyJoin(target.sessionId, target.tabId);
}

/** Starts the early join of the live view the tab opened on (App.svelte, at start). */
export function startEarlyJoin(sessionId: string, tabId: string | undefined): void {
  if (pageFirst || early) return;
  const connection = new AgentConnection({ join: { sessionId, ...(tabId ? { tabId } : {}) } });
  // The mesh's module (simple-peer) is its own chunk, fetched now: offers are answered without the view's.
  const started = new EarlyJoin(connection, sessionId, tabId, (io) => new EarlyPeers(io, sessionId, () => import('../../lib/assist/peers')));
  early = started;
  timer = setTimeout(() => {
    if (early !== started) return;
    early = null;
    started.peers?.close();
    started.socket.close();
  }, UNCLAIMED_MS);
}

/**
 * The early join for this live page (same session and tab), or null: the page then makes its own
 * socket. Claimed once; an early join for another page is closed.
 */
export function claimEarlyJoin(sessionId: string, tabId: string | undefined): EarlyJoin | null {
  const slot = early;
  early = null;
  pageFirst = true;
  clearTimeout(timer);
  if (!slot) return null;
  if (slot.sessionId === sessionId && slot.tabId === tabId) return slot;
  slot.peers?.close();
  slot.socket.close();
  return null;
}

declare global {
  interface Window {
    /** The live page's JS chunks (vite.config.ts `liveEarlyJoin`), on a live view opened in a new tab. */
    __tandemLiveChunks?: string[];
  }
}

/**
 * Fetches the live page's chunks (rrweb, the view) now that the join is out: App.svelte imports them
 * only after the entry chunk's evaluation (~150 ms quiet) and the mount. After the join, not with it:
 * listed with the early join's own chunks in index.html, the ~400 KB read from the cache alongside
 * delayed this chunk (in a trace at load 14, its import arrived ~220 ms later).
 */
export function preloadLivePage(doc: Document, files: readonly string[]): void {
  for (const href of files) {
    const link = doc.createElement('link');
    link.rel = 'modulepreload';
    link.crossOrigin = '';
    link.href = href;
    doc.head.appendChild(link);
  }
}

if (typeof window !== 'undefined' && window.location) {
  startEarlyJoinFromLocation(window.location);
  if (early && window.__tandemLiveChunks) preloadLivePage(document, window.__tandemLiveChunks);
}
