import { ASSIST_NAMESPACE, ASSIST_SOCKET_PATH, PROTOCOL_VERSION, type TabHandshake, type TabPage } from '@tandem/protocol';
import type { ManagerOptions, SocketOptions } from 'socket.io-client';

/** The `auth` payload of the tab socket (built afresh for every connection attempt). */
export function buildTabHandshake(token: string, resume: boolean, page: TabPage): TabHandshake {
  return { role: 'tab', v: PROTOCOL_VERSION, token, resume, page };
}

export interface KeyValue {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export const RESUME_KEY_PREFIX = 'tandem:assist:connected:';

/**
 * "Has this tab connected before?": true after a socket reconnect (memory), and on a later page of
 * the same tab (sessionStorage, keyed by tab id, since the tab id itself lives in sessionStorage).
 * A resuming tab with a valid token skips the server's new-connection rate limit.
 */
export class ResumeFlags {
  private readonly seen = new Set<string>();

  constructor(private readonly storage: KeyValue | undefined) {}

  has(tabId: string): boolean {
    if (this.seen.has(tabId)) return true;
    try {
      return this.storage?.getItem(RESUME_KEY_PREFIX + tabId) === '1';
    } catch {
      return false;
    }
  }

  mark(tabId: string): void {
    this.seen.add(tabId);
    try {
      this.storage?.setItem(RESUME_KEY_PREFIX + tabId, '1');
    } catch {
      /* storage full or denied: memory still knows for this page */
    }
  }
}

export interface SocketTarget {
  /** What `io()` is given: origin + namespace. */
  url: string;
  /** socket.io's path, under the server's path prefix if it has one. */
  path: string;
  /** Prefix of the polling requests, for the tracker's network capture to ignore. */
  ignorePrefix: string;
}

/**
 * `io('https://h/prefix/assist')` would take `/prefix/assist` for the namespace, so a base URL
 * with a path is split: origin + `/assist` for the namespace, `<prefix>/socket.io` for the path.
 */
export function socketTarget(base: string, pageHref?: string): SocketTarget {
  let u: URL;
  try {
    u = new URL(base, pageHref);
  } catch {
    u = new URL(pageHref ?? 'http://localhost/');
  }
  const prefix = u.pathname.replace(/\/+$/, '');
  return {
    url: u.origin + ASSIST_NAMESPACE,
    path: prefix + ASSIST_SOCKET_PATH,
    ignorePrefix: `${u.origin}${prefix}${ASSIST_SOCKET_PATH}/`,
  };
}

/**
 * socket.io's reconnection backoff of the tab socket: first retry 0.5–1.5 s after a cut, then doubling
 * up to 30 s. When a server dies, every tab it held reconnects to the others at once; the spread keeps
 * that storm from arriving in one instant (a server takes a few hundred resuming handshakes a second
 * on a loaded machine, bench/src/failover.ts).
 */
export const RECONNECT = { delayMs: 1_000, maxMs: 30_000, jitter: 0.5 } as const;
/**
 * A tab someone was watching when its connection was cut retries first: 0–200 ms after the cut, ahead
 * of the storm of unwatched tabs, so the agent's picture comes back soonest (issue 9: a watched session
 * draws again within 3 s of a node dying). Few tabs are watched at a time, so this adds little load.
 */
export const WATCHED_RECONNECT = { delayMs: 100, jitter: 1 } as const;

/** The two setters of socket.io's Manager this needs (each also updates its running backoff). */
export interface ReconnectPace {
  reconnectionDelay(ms: number): unknown;
  randomizationFactor(factor: number): unknown;
}

/**
 * Sets the pace of the coming reconnection; call it on `disconnect` (socket.io computes the first
 * delay right after the disconnect handlers ran) and again on `connect` with `watched` false, so an
 * unwatched tab's next cut is back on the normal pace.
 */
export function paceReconnect(manager: ReconnectPace, watched: boolean): void {
  const pace = watched ? WATCHED_RECONNECT : RECONNECT;
  manager.reconnectionDelay(pace.delayMs);
  manager.randomizationFactor(pace.jitter);
}

/** socket.io options of the tab socket; `auth` runs at every (re)connection so each handshake is fresh. */
export function socketOptions(path: string, auth: (cb: (data: object) => void) => void): Partial<ManagerOptions & SocketOptions> {
  return {
    path,
    // WebSocket first; long polling when a proxy refuses it (tryAllTransports falls through).
    transports: ['websocket', 'polling'],
    tryAllTransports: true,
    // A new manager of our own: never shares a connection with the page's own socket.io.
    forceNew: true,
    multiplex: false,
    reconnection: true,
    reconnectionDelay: RECONNECT.delayMs,
    reconnectionDelayMax: RECONNECT.maxMs,
    randomizationFactor: RECONNECT.jitter,
    timeout: 20_000,
    closeOnBeforeunload: false,
    withCredentials: false,
    auth,
  };
}
