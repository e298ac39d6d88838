import type { ApiClient } from '../../lib/api/client';
import type { LiveSocket } from '../../lib/live/socket.svelte';
import { matchRoute, parseHash } from '../../lib/router.svelte';
import type { LiveViewController } from './live-view.svelte';

/**
 * An agent opening a live view (`#/live/<id>`, often a new tab from a link) used to wait for, one
 * after the other: the app's code, the sign-in check (`/api/auth/me`), the live page's chunk (rrweb,
 * socket.io), the socket's handshake, then the join: ~590 ms before `live:join` left on a quiet
 * machine (BENCHMARKS.md, join bench), most of it waiting. So App.svelte calls `bootLive` as it
 * starts: the live page's chunk loads, its socket connects and its view joins (live-view.svelte.ts
 * `start`; what arrives waits for `attach`) while the sign-in check runs; LivePage adopts the view
 * (`claimLiveView`). The server checks the agent's cookie on the socket itself, so joining before the
 * app's own check answered gives nothing away: a signed-out agent's socket is refused, and a view
 * nobody claims is closed.
 */

/** A view no live page claimed by then (signed out, or the agent went elsewhere) is closed. */
const UNCLAIMED_MS = 15_000;

export interface EarlyView {
  socket: LiveSocket;
  view: LiveViewController;
}

interface Slot {
  sessionId: string;
  tabId: string | undefined;
  socket: LiveSocket | null;
  view: LiveViewController | null;
  claimed: boolean;
  timer?: ReturnType<typeof setTimeout>;
}

let early: Slot | null = null;

function close(slot: Slot): void {
  clearTimeout(slot.timer);
  slot.view?.destroy();
  slot.socket?.close();
}

/** Starts the live view's chunk, socket and join if the page opens on one (`hash`: location.hash). */
export function bootLive(hash: string, api: ApiClient): void {
  const { path, params } = parseHash(hash);
  const route = matchRoute(path);
  if (route.name !== 'live') return;
  // The same module App.svelte imports for the route: one fetch, one compile, started now.
  void import('./LivePage.svelte').catch(() => {
    /* App.svelte's own import reports it */
  });
  const slot: Slot = { sessionId: route.id, tabId: params.get('tab') ?? undefined, socket: null, view: null, claimed: false };
  early = slot;
  const live = () => !slot.claimed && early === slot;
  slot.timer = setTimeout(() => {
    if (early === slot) early = null;
    if (!slot.claimed) close(slot);
  }, UNCLAIMED_MS);
  // The socket's chunk is small: it connects while the view's (rrweb) still loads.
  const socketReady = import('../../lib/live/socket.svelte').then(({ LiveSocket }) => {
    if (live()) slot.socket = new LiveSocket();
  });
  Promise.all([socketReady, import('./live-view.svelte')]).then(
    ([, { LiveViewController }]) => {
      if (!live() || !slot.socket) return;
      slot.view = new LiveViewController(slot.socket, api, slot.sessionId, { tabId: slot.tabId });
      slot.view.start();
    },
    () => {
      /* the page makes its own */
    },
  );
}

/**
 * The view started at boot for `sessionId` (and `tabId`), or null (another one, not started, or its
 * code not loaded yet): the caller then makes its own. Whatever was started is claimed once, so
 * nothing is left open.
 */
export function claimLiveView(sessionId: string, tabId: string | undefined): EarlyView | null {
  const slot = early;
  early = null;
  if (!slot) return null;
  slot.claimed = true;
  clearTimeout(slot.timer);
  if (slot.sessionId === sessionId && slot.tabId === tabId && slot.socket && slot.view) return { socket: slot.socket, view: slot.view };
  close(slot);
  return null;
}
