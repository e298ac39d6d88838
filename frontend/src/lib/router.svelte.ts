/**
 * Hash routing (`#/sessions?range=7d`, `#/sessions/<id>`) so the backend serves one index.html
 * with no fallback rules. The router only parses; App.svelte picks the page.
 */

export type Route =
  | { name: 'login' }
  | { name: 'sessions' }
  | { name: 'session'; id: string }
  | { name: 'live-list' }
  | { name: 'live-grid' }
  | { name: 'live'; id: string }
  | { name: 'settings' }
  | { name: 'not-found' };

export function parseHash(hash: string): { path: string; params: URLSearchParams } {
  const raw = hash.replace(/^#/, '');
  const q = raw.indexOf('?');
  const path = (q >= 0 ? raw.slice(0, q) : raw) || '/';
  return { path, params: new URLSearchParams(q >= 0 ? raw.slice(q + 1) : '') };
}

export function matchRoute(path: string): Route {
  if (path === '/login') return { name: 'login' };
  if (path === '/' || path === '/sessions' || path === '/sessions/') return { name: 'sessions' };
  const m = /^\/sessions\/([^/]+)\/?$/.exec(path);
  if (m) return { name: 'session', id: decodeURIComponent(m[1]) };
  if (path === '/live' || path === '/live/') return { name: 'live-list' };
  if (path === '/live/grid' || path === '/live/grid/') return { name: 'live-grid' };
  const live = /^\/live\/([^/]+)\/?$/.exec(path);
  if (live) return { name: 'live', id: safeDecode(live[1]) };
  if (path === '/settings' || path === '/settings/') return { name: 'settings' };
  return { name: 'not-found' };
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

export function buildHash(path: string, params?: URLSearchParams): string {
  const query = params?.toString();
  return `#${path}${query ? `?${query}` : ''}`;
}

export class Router {
  path = $state('/');
  params = $state(new URLSearchParams());
  route = $derived(matchRoute(this.path));

  constructor() {
    this.#read();
    window.addEventListener('hashchange', () => this.#read());
  }

  #read() {
    const { path, params } = parseHash(window.location.hash);
    this.path = path;
    this.params = params;
  }

  /** The hash of the current location, to come back to after login. */
  get current(): string {
    return buildHash(this.path, this.params);
  }

  navigate(path: string, params?: URLSearchParams, options: { replace?: boolean } = {}) {
    const hash = buildHash(path, params);
    if (hash === window.location.hash) return;
    if (options.replace) {
      history.replaceState(history.state, '', hash);
      this.#read();
    } else {
      window.location.hash = hash;
    }
  }
}
