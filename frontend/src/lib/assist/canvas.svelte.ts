import type { CanvasStreamInfo, PeerId } from '@tandem/protocol';
import type { Replayer } from '@rrweb/replay';
import { overlayBox, type Box } from './geometry';
import type { AssistContext, AssistModule } from './module';
import type { RemoteStreams } from './remote-streams.svelte';

/**
 * Canvas video (agent side). The user's tab streams each visible `<canvas>` (2D and WebGL) as a video
 * on its peer and lists them in `canvas:streams`; the replay cannot draw canvases itself (its iframe
 * runs no scripts and rrweb's canvas replay stays off), so the live view lays a `<video>` exactly over
 * each replayed canvas element (CanvasVideos.svelte, with `canvasBox`). The tab starts the peer when
 * the server says we want its canvases (`canvas:want` on join): nothing to ask here.
 */
export class CanvasModule implements AssistModule {
  readonly name = 'canvas' as const;
  #streams: RemoteStreams;
  #off: () => void;

  constructor(ctx: AssistContext, streams: RemoteStreams) {
    this.#streams = streams;
    const onStreams = (msg: { sessionId: string; tabId: string; streams: CanvasStreamInfo[] }) => {
      if (msg.sessionId === ctx.sessionId) this.#streams.setCanvases(msg.tabId, msg.streams);
    };
    ctx.socket.on('canvas:streams', onStreams);
    this.#off = () => ctx.socket.off('canvas:streams', onStreams);
  }

  /** The watched tab's canvases whose video arrived. */
  videos(tabId: string | null): { info: CanvasStreamInfo; stream: MediaStream }[] {
    return this.#streams.canvasesOf(tabId);
  }

  update(_state: unknown, _self: PeerId | null): void {
    // Canvas video needs no consent and follows watching, not the assist state.
  }

  destroy(): void {
    this.#off();
  }
}

/**
 * Where the replayed `<canvas>` with rrweb id `nodeId` is, in the user's viewport px (the overlay
 * layer's coordinates), or null when it is not in the replay now or not on screen.
 */
export function canvasBox(replayer: Replayer, nodeId: number, userWidth: number, userHeight: number): Box | null {
  const node = replayer.getMirror().getNode(nodeId) as Element | null;
  if (!node || typeof (node as Element).getBoundingClientRect !== 'function' || !node.isConnected) return null;
  sizeReplayedCanvas(node);
  const r = node.getBoundingClientRect();
  // The video covers the canvas's pixels (its content box), not its border or padding.
  const cs = node.ownerDocument.defaultView?.getComputedStyle(node);
  const px = (v: string | undefined) => parseFloat(v ?? '') || 0;
  const left = px(cs?.borderLeftWidth) + px(cs?.paddingLeft);
  const top = px(cs?.borderTopWidth) + px(cs?.paddingTop);
  const right = px(cs?.borderRightWidth) + px(cs?.paddingRight);
  const bottom = px(cs?.borderBottomWidth) + px(cs?.paddingBottom);
  return overlayBox({ left: r.left + left, top: r.top + top, width: r.width - left - right, height: r.height - top - bottom }, userWidth, userHeight);
}

/**
 * In a document without scripting, a `<canvas>` is laid out as its fallback content: an empty inline
 * box that ignores its width/height attributes (HTML: canvas "represents its fallback content" when
 * scripting is disabled). The replay iframe must stay without `allow-scripts`, so a replayed canvas
 * collapses to its borders and the page around it reflows. Give it back the box it has on the user's
 * page: `inline-block` (so CSS sizes apply) and, when no CSS size applies, its attributes as CSS px
 * (300×150 being the default canvas size). Only styles change; nothing runs in the iframe.
 */
export function sizeReplayedCanvas(el: Element): void {
  if (el.localName !== 'canvas') return;
  const view = el.ownerDocument.defaultView;
  if (!view) return;
  const style = (el as HTMLElement).style;
  const computed = view.getComputedStyle(el);
  if (computed.display === 'inline') style.setProperty('display', 'inline-block');
  const px = (v: string) => parseFloat(v) || 0;
  const frameX = px(computed.borderLeftWidth) + px(computed.borderRightWidth) + px(computed.paddingLeft) + px(computed.paddingRight);
  const frameY = px(computed.borderTopWidth) + px(computed.borderBottomWidth) + px(computed.paddingTop) + px(computed.paddingBottom);
  const box = el.getBoundingClientRect();
  const attr = (name: string, fallback: number) => {
    const n = parseInt(el.getAttribute(name) ?? '', 10);
    return Number.isFinite(n) && n >= 0 ? n : fallback;
  };
  if (box.width <= frameX + 0.5 && !style.width) style.setProperty('width', `${attr('width', 300)}px`);
  if (box.height <= frameY + 0.5 && !style.height) style.setProperty('height', `${attr('height', 150)}px`);
}
