import type { SignalOut } from '@tandem/protocol';

/**
 * The canvas offer goes before the join's snapshot on a page with a canvas on screen.
 *
 * Measured (bench canvas-video, quiet machine): the tab's canvas offer left ~50 ms after its snapshot,
 * and the agent's page read it only after applying that snapshot (same socket, same main thread), so
 * its answer left after the DOM was drawn, and the video's first frame came ~220 ms after the DOM's.
 * Holding the snapshot until the offer is out lets the agent start answering first; the DOM pays the
 * offer's set-up (capture, peer connection, SDP: ~50 ms quiet), on pages with canvases only.
 */

/**
 * The snapshot waits at most this long for the offer (the WebRTC chunk may still have to load, the
 * agent may not get a canvas peer, the page may be slow): past it, the snapshot leaves as before.
 */
export const CANVAS_OFFER_WAIT_MS = 120;
/** Canvases looked at for "one is on screen" (each costs a getBoundingClientRect). */
const MAX_CANVASES_CHECKED = 8;

/** A `<canvas>` on screen, so a canvas offer will follow the agent's `canvas:want` (rtc/canvas.ts). */
export function hasCanvasOnScreen(doc: Document | null): boolean {
  const win = doc?.defaultView;
  if (!doc || !win) return false;
  const canvases = doc.getElementsByTagName('canvas');
  for (let i = 0; i < canvases.length && i < MAX_CANVASES_CHECKED; i++) {
    const canvas = canvases[i];
    if (typeof canvas.captureStream !== 'function') continue;
    const r = canvas.getBoundingClientRect();
    if (r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0 && r.left < win.innerWidth && r.top < win.innerHeight) return true;
  }
  return false;
}

/** The tab's offer on a canvas peer (`rtc:signal`, channel `canvas`). */
export function isCanvasOffer(msg: unknown): boolean {
  const m = msg as Partial<SignalOut> | null;
  return !!m && typeof m === 'object' && m.channel === 'canvas' && !!m.signal && (m.signal as { type?: string }).type === 'offer';
}
