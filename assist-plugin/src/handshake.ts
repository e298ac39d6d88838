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
    reconnectionDelay: 1_000,
    reconnectionDelayMax: 30_000,
    randomizationFactor: 0.5,
    timeout: 20_000,
    closeOnBeforeunload: false,
    withCredentials: false,
    auth,
  };
}
