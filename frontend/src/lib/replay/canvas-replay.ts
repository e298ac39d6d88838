import type { playerConfig } from '@rrweb/replay';

type ReplayPlugin = NonNullable<playerConfig['plugins']>[number];

/**
 * Draws recorded canvas frames into the replay without `allow-scripts` on its iframe.
 *
 * rrweb's own canvas replay is tied to `UNSAFE_replayCanvas`, which creates the iframe with
 * `sandbox="allow-same-origin allow-scripts"`: a recorded page's markup then runs in the dashboard's
 * origin. It does not need to: every drawing call is made by the dashboard's own script on the canvas
 * elements of the (same-origin, script-less) iframe, exactly as rrweb draws a snapshot's `rr_dataURL`.
 * So Tandem keeps UNSAFE_replayCanvas off (rrweb then ignores canvas events) and this plugin does the
 * drawing from the parent window.
 *
 * Tandem records canvases as sampled frames (`sampling.canvas` + `dataURLOptions`): each frame is a
 * canvas mutation `clearRect` + `drawImage(ImageBitmap(Blob(base64)))` of the whole canvas, for 2D
 * and WebGL canvases alike (WebGL pixels are read by the recorder, never replayed as GL calls). A
 * newer frame replaces everything before it, so while seeking only the last frame per canvas is
 * decoded. Plain 2D command recordings (rrweb's default without sampling, e.g. imported sessions)
 * are applied in order when their arguments are plain values or images; WebGL command recordings
 * are not replayed (they would need a GL context driven command by command).
 */

const EVENT_INCREMENTAL = 3;
const SOURCE_CANVAS_MUTATION = 9;
const CONTEXT_2D = 0;

interface CanvasCommand {
  property: string;
  args: unknown[];
  setter?: true;
}

interface CanvasMutationData {
  source: number;
  id: number;
  type: number;
  commands?: CanvasCommand[];
  property?: string;
  args?: unknown[];
  setter?: true;
}

interface CanvasState {
  queue: CanvasCommand[][];
  running: boolean;
}

/** A sampled frame: wipes the canvas and draws one image over all of it. */
function isFullFrame(commands: CanvasCommand[]): boolean {
  return commands.length === 2 && commands[0].property === 'clearRect' && commands[1].property === 'drawImage';
}

function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** rrweb's serialized canvas arguments → values; only the shapes its 2D recorder produces. */
async function decodeArg(arg: unknown): Promise<unknown> {
  if (Array.isArray(arg)) return Promise.all(arg.map(decodeArg));
  if (!arg || typeof arg !== 'object' || !('rr_type' in arg)) return arg;
  const a = arg as { rr_type: string; args?: unknown[]; base64?: string; data?: unknown[]; type?: string; src?: string };
  if (a.rr_type === 'ArrayBuffer' && typeof a.base64 === 'string') return base64ToBytes(a.base64).buffer;
  if (a.rr_type === 'Blob' && Array.isArray(a.data)) return new Blob((await decodeArg(a.data)) as BlobPart[], { type: a.type });
  if (a.rr_type === 'ImageBitmap' && Array.isArray(a.args)) {
    const [source, ...rest] = (await decodeArg(a.args)) as [ImageBitmapSource, ...number[]];
    return rest.length >= 4 ? createImageBitmap(source, rest[0], rest[1], rest[2], rest[3]) : createImageBitmap(source);
  }
  if (a.rr_type === 'HTMLImageElement' && typeof a.src === 'string') {
    const img = new Image();
    img.src = a.src;
    await img.decode().catch(() => {});
    return img;
  }
  if (a.rr_type === 'ImageData' && Array.isArray(a.args)) {
    const [data, w, h] = (await decodeArg(a.args)) as [ArrayBuffer | number[], number, number];
    return new ImageData(new Uint8ClampedArray(data as ArrayBuffer), w, h);
  }
  if (a.rr_type === 'Uint8ClampedArray' && Array.isArray(a.args)) return new Uint8ClampedArray((await decodeArg(a.args[0])) as ArrayBuffer);
  throw new Error(`canvas replay: unsupported argument ${a.rr_type}`);
}

async function apply(canvas: HTMLCanvasElement, commands: CanvasCommand[]): Promise<void> {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  // Decode everything first, then draw in one go: no half-drawn frame between two awaits.
  const args = await Promise.all(commands.map((c) => (c.setter ? c.args : decodeArg(c.args))));
  commands.forEach((c, i) => {
    const target = ctx as unknown as Record<string, unknown>;
    if (c.setter) target[c.property] = (args[i] as unknown[])[0];
    else if (typeof target[c.property] === 'function') (target[c.property] as (...a: unknown[]) => void).apply(ctx, args[i] as unknown[]);
  });
  for (const a of args.flat()) if (a instanceof ImageBitmap) a.close();
}

export function canvasReplayPlugin(onError: (err: unknown) => void = () => {}): ReplayPlugin {
  const canvases = new Map<number, CanvasState>();
  let replayer: { getMirror(): { getNode(id: number): Node | null } } | null = null;

  const run = async (id: number, state: CanvasState) => {
    state.running = true;
    try {
      while (state.queue.length) {
        const node = replayer?.getMirror().getNode(id);
        // Not built yet (a seek in progress): keep the frames until onBuild brings the element.
        if (!node || (node as Element).nodeName !== 'CANVAS') return;
        const commands = state.queue.shift()!;
        await apply(node as HTMLCanvasElement, commands).catch(onError);
      }
    } finally {
      state.running = false;
    }
  };

  const schedule = (id: number) => {
    const state = canvases.get(id);
    if (state && !state.running && state.queue.length) void run(id, state);
  };

  return {
    handler(event, _isSync, context) {
      replayer = context.replayer as unknown as typeof replayer;
      const e = event as { type: number; data: CanvasMutationData };
      if (e.type !== EVENT_INCREMENTAL || e.data.source !== SOURCE_CANVAS_MUTATION || e.data.type !== CONTEXT_2D) return;
      const d = e.data;
      const commands = d.commands ?? (d.property ? [{ property: d.property, args: d.args ?? [], setter: d.setter }] : []);
      if (!commands.length) return;
      let state = canvases.get(d.id);
      if (!state) canvases.set(d.id, (state = { queue: [], running: false }));
      // A full frame covers whatever was waiting: while seeking, only the last one is decoded.
      if (isFullFrame(commands)) state.queue.length = 0;
      state.queue.push(commands);
      // After the current (possibly synchronous, seek-long) batch of events: the DOM is built by then.
      queueMicrotask(() => schedule(d.id));
    },
    onBuild(node, { id, replayer: r }) {
      replayer = r as unknown as typeof replayer;
      if ((node as Element).nodeName === 'CANVAS') queueMicrotask(() => schedule(id));
    },
  };
}
