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
  const r = node.getBoundingClientRect();
  return overlayBox({ left: r.left, top: r.top, width: r.width, height: r.height }, userWidth, userHeight);
}
