import type { CanvasStreamInfo, PeerId } from '@tandem/protocol';
import type { FeatureFactory } from './feature.js';

/**
 * Canvas video: every visible `<canvas>` of the page (2D and WebGL: rrweb records neither's
 * pixels here, `recordCanvas: false`) reaches the agents who watch it as a live video stream,
 * `canvas.captureStream()` on the tab↔agent canvas peer (channel `canvas`, apart from a call's peer,
 * so a call ending never interrupts it), named by its rrweb node id in `canvas:streams` so the agent
 * draws it exactly over the replayed element.
 *
 * - Starts on `canvas:want` (an agent started watching, or lost its peer), per agent; stops for one
 *   agent on `canvas:stop` (it watches another tab now) and for all on `live:stop`.
 * - The first offer carries every visible canvas: visibility is measured at once when an agent asks
 *   (the IntersectionObserver answers a frame later), so joining costs one offer/answer, not two.
 * - Unchanged canvas: no frames. captureStream() captures a frame only when the canvas was painted,
 *   so a still canvas sends (almost) nothing; `requestFrame()` pushes one frame when an agent joins or
 *   the canvas comes back on screen.
 * - Off screen (IntersectionObserver): its senders carry nothing (`replaceTrack(null)`) until it is
 *   visible again; the agent keeps the last frame.
 * - No canvas to stream, or nobody watching: no canvas peer.
 */

/**
 * Frames per second sent at most, as the sender's `maxFramerate` (the encoder drops evenly above it).
 * Not `captureStream(30)`: Chromium then captures a paint only if its own 30 Hz timer ticked since the
 * last capture, and a page painting at ~30 fps beats against that timer and loses about one frame in
 * five (measured: 23.7 fps received of a 30.3 fps source).
 */
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
  const peers = ctx.canvasPeers;
  const watchers = new Set<PeerId>();
  const captures = new Map<HTMLCanvasElement, Capture>();
  /** Canvases on screen now (IntersectionObserver, or measured when first seen), captured or not. */
  const onScreen = new Set<HTMLCanvasElement>();
  /** Canvases the current observer watches. */
  let observed = new WeakSet<HTMLCanvasElement>();
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

  /**
   * Frame rate over resolution when the encoder is short of CPU or bandwidth (an animation that
   * stutters reads worse than a slightly softer one), and at most CANVAS_FPS.
   */
  const tune = (peerId: PeerId, c: Capture) => {
    const sender = peers.sender(peerId, c.stream, c.track);
    if (!sender?.getParameters) return;
    try {
      const params = sender.getParameters() as RTCRtpSendParameters & { degradationPreference?: string };
      for (const e of params.encodings ?? []) e.maxFramerate = CANVAS_FPS;
      params.degradationPreference = 'maintain-framerate';
      sender.setParameters(params).catch((err: unknown) => ctx.report(err, 'canvas sender parameters'));
    } catch (err) {
      ctx.report(err, 'canvas sender parameters');
    }
  };

  const attach = (peerId: PeerId, c: Capture) => {
    if (!peers.addStream(peerId, c.stream)) return;
    if (!c.visible) peers.setTrack(peerId, c.stream, c.track, false);
    tune(peerId, c);
  };

  /** Every watcher has a canvas peer carrying every capture while there is one; none otherwise. */
  const syncPeers = () => {
    for (const id of watchers) {
      if (captures.size) {
        peers.acquire(id, USER);
        for (const c of captures.values()) attach(id, c);
      } else if (peers.has(id)) peers.release(id, USER);
    }
  };

  const requestFrame = (c: Capture) => {
    (c.track as MediaStreamTrack & { requestFrame?: () => void }).requestFrame?.();
  };

  /** On screen now by geometry: what the observer will say a frame later. */
  const measuredOnScreen = (canvas: HTMLCanvasElement) => {
    const r = canvas.getBoundingClientRect();
    const w = win?.innerWidth ?? 0;
    const h = win?.innerHeight ?? 0;
    return r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0 && r.left < w && r.top < h;
  };

  const startCapture = (canvas: HTMLCanvasElement): Capture | null => {
    if (captures.size >= MAX_CANVAS_STREAMS || typeof canvas.captureStream !== 'function') return null;
    const nodeId = ctx.mirror()?.getId(canvas) ?? -1;
    if (!(nodeId > 0)) return null; // not in the agent's replay yet: the next scan tries again
    let stream: MediaStream;
    try {
      stream = canvas.captureStream();
    } catch (err) {
      ctx.report(err, 'canvas capture'); // a tainted (cross-origin) canvas cannot be captured
      return null;
    }
    const track = stream.getVideoTracks()[0];
    if (!track) return null;
    // An animation (a chart redrawing, a game, a map panning): smooth motion first.
    if ('contentHint' in track) track.contentHint = 'motion';
    const c: Capture = { canvas, stream, track, nodeId, visible: true };
    captures.set(canvas, c);
    requestFrame(c);
    return c;
  };

  const stopCapture = (c: Capture) => {
    captures.delete(c.canvas);
    for (const id of watchers) peers.removeStream(id, c.stream);
    c.track.stop();
  };

  const setVisible = (c: Capture, visible: boolean) => {
    if (c.visible === visible) return;
    c.visible = visible;
    for (const id of watchers) peers.setTrack(id, c.stream, c.track, visible);
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
      if (!observed.has(canvas)) {
        observed.add(canvas);
        observer?.observe(canvas);
        if (measuredOnScreen(canvas)) onScreen.add(canvas);
      }
      const c = captures.get(canvas);
      if (c) setVisible(c, onScreen.has(canvas));
      else if (onScreen.has(canvas)) startCapture(canvas);
    }
    for (const el of [...onScreen]) if (!present.has(el)) {
      onScreen.delete(el);
      observer?.unobserve(el);
    }
    syncPeers();
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
    for (const id of watchers) peers.release(id, USER);
    watchers.clear();
    observer?.disconnect();
    observer = null;
    observed = new WeakSet();
    onScreen.clear();
    if (timer) clearInterval(timer);
    timer = null;
    if (announced && announced !== '[]') announce();
    announced = '';
  };

  /** One agent no longer wants this tab's canvases. */
  const unwatch = (peerId: PeerId) => {
    if (!watchers.delete(peerId)) return;
    peers.release(peerId, USER);
    if (!watchers.size) stopAll();
  };

  peers.onClose((peerId, byUs) => {
    if (!watchers.has(peerId)) return;
    // The agent's side is gone (it left, reloaded, or the connection failed): it asks again if it
    // still wants them (`canvas:want`).
    if (!byUs) return unwatch(peerId);
    // Closed here with canvases to send (too many removed streams): a fresh peer at once.
    if (captures.size) syncPeers();
  });
  peers.onConnect((peerId) => {
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
        // one carries every stream anew.
        if (watchers.has(peerId) && peers.has(peerId)) peers.close(peerId);
        watchers.add(peerId);
        // The list is per tab: a new agent needs it even when it did not change (scan() sends it).
        announced = '';
        // Captures, then the peer with all of them in the same task: its first offer carries them.
        start();
      },
      'canvas:stop': (msg) => {
        const peerId = msg?.agentPeerId;
        if (typeof peerId === 'string') unwatch(peerId);
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
