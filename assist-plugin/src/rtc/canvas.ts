import type { CanvasStreamInfo, PeerId } from '@tandem/protocol';
import type { FeatureFactory } from './feature.js';

/**
 * Canvas video: every visible `<canvas>` of the page (2D and WebGL: rrweb records neither's
 * pixels here, `recordCanvas: false`) reaches the agents who watch it as a live video stream,
 * `canvas.captureStream(30)` on the tab↔agent peer, named by its rrweb node id in `canvas:streams`
 * so the agent draws it exactly over the replayed element.
 *
 * - Starts on `canvas:want` (an agent started watching, or lost its peer), per agent.
 * - Unchanged canvas: no frames. A captureStream with a frame rate only captures a new frame when the
 *   canvas was painted (HTML spec, "canvas capture"), so a still canvas sends (almost) nothing;
 *   `requestFrame()` pushes one frame when an agent joins or the canvas comes back on screen.
 * - Off screen (IntersectionObserver): its senders carry nothing (`replaceTrack(null)`) until it is
 *   visible again; the agent keeps the last frame.
 * - Nobody watching (`live:stop`, every watcher's peer gone): captures stop, streams leave the peers.
 */

/** Frames per second asked of captureStream: what a screen share of an animation needs, no more. */
export const CANVAS_FPS = 30;
/**
 * Canvases appear and go with the page (SPAs): looked for this often while someone watches. A
 * querySelectorAll is microseconds; a MutationObserver would run on every mutation of a busy page.
 */
const RESCAN_MS = 1_000;
/** More canvases than this are not streamed: each is an encoder on the user's CPU, per agent. */
export const MAX_CANVAS_STREAMS = 8;

const USER = 'canvas';

interface Capture {
  canvas: HTMLCanvasElement;
  stream: MediaStream;
  track: MediaStreamTrack;
  nodeId: number;
  visible: boolean;
}

export const createCanvas: FeatureFactory = (ctx) => {
  const watchers = new Set<PeerId>();
  const captures = new Map<HTMLCanvasElement, Capture>();
  /** Canvases on screen now (IntersectionObserver), captured or not. */
  const onScreen = new Set<HTMLCanvasElement>();
  let observer: IntersectionObserver | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;
  let announced = '';

  const win = ctx.doc.defaultView as (Window & typeof globalThis) | null;

  const announce = () => {
    const streams: CanvasStreamInfo[] = [...captures.values()].map((c) => ({ nodeId: c.nodeId, streamId: c.stream.id }));
    const json = JSON.stringify(streams);
    if (json === announced) return;
    announced = json;
    ctx.send('canvas:streams', { streams });
  };

  const attach = (peerId: PeerId, c: Capture) => {
    ctx.peers.addStream(peerId, c.stream);
    ctx.peers.setTrack(peerId, c.stream, c.track, c.visible);
  };

  const requestFrame = (c: Capture) => {
    (c.track as MediaStreamTrack & { requestFrame?: () => void }).requestFrame?.();
  };

  const startCapture = (canvas: HTMLCanvasElement): Capture | null => {
    if (captures.size >= MAX_CANVAS_STREAMS || typeof canvas.captureStream !== 'function') return null;
    const nodeId = ctx.mirror()?.getId(canvas) ?? -1;
    if (!(nodeId > 0)) return null; // not in the agent's replay yet: the next scan tries again
    let stream: MediaStream;
    try {
      stream = canvas.captureStream(CANVAS_FPS);
    } catch (err) {
      ctx.report(err, 'canvas capture'); // a tainted (cross-origin) canvas cannot be captured
      return null;
    }
    const track = stream.getVideoTracks()[0];
    if (!track) return null;
    // A still image matters more than motion for a UI canvas: keep detail when the encoder has to choose.
    if ('contentHint' in track) track.contentHint = 'detail';
    const c: Capture = { canvas, stream, track, nodeId, visible: true };
    captures.set(canvas, c);
    for (const id of watchers) attach(id, c);
    requestFrame(c);
    return c;
  };

  const stopCapture = (c: Capture) => {
    captures.delete(c.canvas);
    for (const id of watchers) ctx.peers.removeStream(id, c.stream);
    c.track.stop();
  };

  const setVisible = (c: Capture, visible: boolean) => {
    if (c.visible === visible) return;
    c.visible = visible;
    for (const id of watchers) ctx.peers.setTrack(id, c.stream, c.track, visible);
    if (visible) requestFrame(c);
  };

  const scan = () => {
    if (!watchers.size) return;
    const canvases = Array.from(ctx.doc.querySelectorAll('canvas'));
    const present = new Set(canvases);
    for (const c of [...captures.values()]) {
      // Gone, or a node the recorder renumbered (a new snapshot after a restart): start it again.
      const id = ctx.mirror()?.getId(c.canvas) ?? -1;
      if (!present.has(c.canvas) || !c.canvas.isConnected || id !== c.nodeId) stopCapture(c);
    }
    for (const canvas of canvases) {
      observer?.observe(canvas); // observing twice is a no-op
      const c = captures.get(canvas);
      if (c) setVisible(c, onScreen.has(canvas));
      else if (onScreen.has(canvas)) startCapture(canvas);
    }
    for (const el of [...onScreen]) if (!present.has(el)) {
      onScreen.delete(el);
      observer?.unobserve(el);
    }
    announce();
  };

  const start = () => {
    if (!observer && win && typeof win.IntersectionObserver === 'function') {
      observer = new win.IntersectionObserver(
        ctx.wrap('canvas visibility', (entries: IntersectionObserverEntry[]) => {
          for (const e of entries) {
            const canvas = e.target as HTMLCanvasElement;
            const visible = e.isIntersecting && e.intersectionRect.width > 0 && e.intersectionRect.height > 0;
            if (visible) onScreen.add(canvas);
            else onScreen.delete(canvas);
          }
          scan();
        }),
      );
    }
    timer ??= setInterval(ctx.wrap('canvas scan', scan), RESCAN_MS);
    scan();
  };

  const stopAll = () => {
    for (const c of [...captures.values()]) stopCapture(c);
    for (const id of watchers) ctx.peers.release(id, USER);
    watchers.clear();
    observer?.disconnect();
    observer = null;
    onScreen.clear();
    if (timer) clearInterval(timer);
    timer = null;
    if (announced && announced !== '[]') announce();
    announced = '';
  };

  ctx.peers.onClose((peerId) => {
    if (!watchers.delete(peerId)) return;
    if (!watchers.size) stopAll();
  });
  ctx.peers.onConnect((peerId) => {
    // The first frames went out before the agent could decode them: one more of each canvas now.
    if (watchers.has(peerId)) for (const c of captures.values()) if (c.visible) requestFrame(c);
  });

  return {
    name: 'canvas',
    onState() {
      /* canvas video needs no consent: it is part of what a watching agent sees */
    },
    on: {
      'canvas:want': (msg) => {
        const peerId = msg?.agentPeerId;
        if (typeof peerId !== 'string' || !peerId) return;
        // Asked again by a watcher: the agent lost its side of the peer, so ours is dead too; a fresh
        // one carries every stream anew (closing it tells the call to re-peer as well).
        if (watchers.has(peerId) && ctx.peers.has(peerId)) ctx.peers.close(peerId);
        watchers.add(peerId);
        ctx.peers.acquire(peerId, USER);
        for (const c of captures.values()) attach(peerId, c);
        // The list is per tab: a new agent needs it even when it did not change (start() sends it).
        announced = '';
        start();
      },
    },
    onLiveStop: stopAll,
    summarize(s) {
      s.canvasStreams = captures.size;
      s.canvasWatchers = watchers.size;
    },
    dispose: stopAll,
  };
};
