import type { playerConfig } from '@rrweb/replay';
import { RRWEB_EVENT, RRWEB_SOURCE } from '@tandem/protocol';

type ReplayPlugin = NonNullable<playerConfig['plugins']>[number];

/**
 * Shows recorded canvases in the replay without `allow-scripts` on its iframe.
 *
 * Why rrweb needs `UNSAFE_replayCanvas` (which sandboxes the iframe `allow-same-origin allow-scripts`,
 * letting a recorded page's markup run in the dashboard's origin): in a document where scripting is
 * disabled, HTML renders a `<canvas>` as its *fallback content*, not as a bitmap. Drawing on it from
 * the parent still works, but nobody sees the pixels (measured: the canvas box is 0×0).
 *
 * What Tandem does instead: rrweb's canvas replay stays off, and this plugin puts an `<img>` inside
 * each replayed canvas — as its fallback content, which is exactly what a script-less document
 * renders — and shows every recorded frame in it. The image lives and dies with its canvas (rrweb
 * removing the canvas removes it), and takes the canvas's size (`width`/`height`, inline style).
 *
 * Frames: Tandem records canvases as sampled frames (`sampling.canvas` + `dataURLOptions`): each is a
 * canvas mutation `clearRect` + `drawImage(ImageBitmap(Blob(base64)))` of the whole canvas, for 2D and
 * WebGL canvases alike. Such a frame is shown as its own encoded image (a blob: URL), never decoded
 * here; a newer frame replaces everything before it, so while seeking only the last one counts. The
 * snapshot's `rr_dataURL` (the canvas at checkout time) is shown until the first frame arrives.
 * Plain 2D command recordings (rrweb without sampling, e.g. imported sessions) are drawn on the
 * (invisible) canvas in order and its bitmap copied to the image; WebGL command recordings are not
 * replayed (they would need a GL context driven call by call).
 */

const SOURCE_CANVAS_MUTATION = 9;
const CONTEXT_2D = 0;
const NODE_ELEMENT = 2;
/** Marks the images this plugin adds (tests and styles find them by it). */
export const CANVAS_IMAGE_ATTR = 'data-tandem-canvas';

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

interface SerializedNode {
  type: number;
  id: number;
  tagName?: string;
  attributes?: Record<string, unknown>;
  childNodes?: SerializedNode[];
}

interface CanvasState {
  queue: CanvasCommand[][];
  running: boolean;
}

interface Mirror {
  getNode(id: number): Node | null;
}

function base64ToBytes(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The encoded image of a sampled frame (`clearRect` + `drawImage(ImageBitmap(Blob))`), or null. */
export function frameBlob(commands: CanvasCommand[]): Blob | null {
  if (commands.length !== 2 || commands[0].property !== 'clearRect' || commands[1].property !== 'drawImage') return null;
  const bitmap = commands[1].args[0] as { rr_type?: string; args?: { rr_type?: string; type?: string; data?: { rr_type?: string; base64?: string }[] }[] };
  const blob = bitmap?.rr_type === 'ImageBitmap' ? bitmap.args?.[0] : undefined;
  if (blob?.rr_type !== 'Blob' || !Array.isArray(blob.data)) return null;
  const parts = blob.data.map((d) => (d?.rr_type === 'ArrayBuffer' && typeof d.base64 === 'string' ? base64ToBytes(d.base64) : null));
  if (parts.some((p) => !p)) return null;
  return new Blob(parts as Uint8Array<ArrayBuffer>[], { type: blob.type });
}

/** rrweb's serialized canvas arguments → values; the shapes its 2D command recorder produces. */
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
    const [data, w, h] = (await decodeArg(a.args)) as [ArrayBuffer, number, number];
    return new ImageData(new Uint8ClampedArray(data), w, h);
  }
  if (a.rr_type === 'Uint8ClampedArray' && Array.isArray(a.args)) return new Uint8ClampedArray((await decodeArg(a.args[0])) as ArrayBuffer);
  throw new Error(`canvas replay: unsupported argument ${a.rr_type}`);
}

/** Draws 2D commands on the (invisible) canvas, all decoded first: no half-drawn frame between awaits. */
async function draw(canvas: HTMLCanvasElement, commands: CanvasCommand[]): Promise<void> {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const args = await Promise.all(commands.map((c) => (c.setter ? c.args : decodeArg(c.args))));
  const target = ctx as unknown as Record<string, unknown>;
  commands.forEach((c, i) => {
    if (c.setter) target[c.property] = (args[i] as unknown[])[0];
    else if (typeof target[c.property] === 'function') (target[c.property] as (...a: unknown[]) => void).apply(ctx, args[i] as unknown[]);
  });
  for (const a of args.flat()) if (a instanceof ImageBitmap) a.close();
}

/** The image shown in place of `canvas` (created on first use, sized like the canvas). */
function imageOf(canvas: HTMLCanvasElement): HTMLImageElement {
  let img = canvas.querySelector<HTMLImageElement>(`:scope > img[${CANVAS_IMAGE_ATTR}]`);
  if (!img) {
    img = canvas.ownerDocument.createElement('img');
    img.setAttribute(CANVAS_IMAGE_ATTR, '');
    img.alt = '';
    canvas.appendChild(img);
  }
  img.width = canvas.width;
  img.height = canvas.height;
  // The canvas's own inline size (libraries set it for high-DPI canvases) wins over its bitmap size.
  img.style.cssText = `display:inline-block;vertical-align:bottom;${canvas.style.width ? `width:${canvas.style.width};` : ''}${canvas.style.height ? `height:${canvas.style.height};` : ''}`;
  return img;
}

const objectUrls = new WeakMap<HTMLImageElement, string>();

function show(canvas: HTMLCanvasElement, src: Blob | string): void {
  const img = imageOf(canvas);
  const old = objectUrls.get(img);
  if (typeof src === 'string') {
    img.src = src;
    objectUrls.delete(img);
  } else {
    const url = URL.createObjectURL(src);
    img.src = url;
    objectUrls.set(img, url);
  }
  // The old image is already decoded on screen; the new one replaces it when it has loaded.
  if (old) setTimeout(() => URL.revokeObjectURL(old), 1000);
}

function toBlob(canvas: HTMLCanvasElement): Promise<Blob | null> {
  return new Promise((resolve) => canvas.toBlob(resolve));
}

export function canvasReplayPlugin(onError: (err: unknown) => void = () => {}): ReplayPlugin {
  const canvases = new Map<number, CanvasState>();
  /** The snapshot picture of each canvas id (rr_dataURL), shown when the element is built. */
  const snapshots = new Map<number, string>();
  let mirror: Mirror | null = null;

  const canvasNode = (id: number): HTMLCanvasElement | null => {
    const node = mirror?.getNode(id);
    return node && node.nodeName === 'CANVAS' ? (node as HTMLCanvasElement) : null;
  };

  const run = async (id: number, state: CanvasState) => {
    state.running = true;
    try {
      while (state.queue.length) {
        const canvas = canvasNode(id);
        // Not built yet (a seek in progress): keep the frames until onBuild brings the element.
        if (!canvas) return;
        const commands = state.queue.shift()!;
        try {
          const frame = frameBlob(commands);
          if (frame) show(canvas, frame);
          else {
            await draw(canvas, commands);
            // Copy the bitmap once the queue is drained: one encode per burst of commands.
            if (!state.queue.length) {
              const blob = await toBlob(canvas);
              if (blob) show(canvas, blob);
            }
          }
        } catch (err) {
          onError(err);
        }
      }
    } finally {
      state.running = false;
    }
  };

  const schedule = (id: number) => {
    const state = canvases.get(id);
    if (state && !state.running && state.queue.length) void run(id, state);
  };

  /** rrweb draws rr_dataURL on the canvas, which nobody sees: show it as the canvas's image. */
  const showSnapshot = (id: number, canvas = canvasNode(id)) => {
    const picture = snapshots.get(id);
    if (canvas && picture && !canvases.get(id)?.queue.length) show(canvas, picture);
  };

  // Plugin handlers run after rrweb applied the event, onBuild while it builds: a snapshot's canvases
  // may already exist when their pictures are noted here (real DOM), or come later (virtual DOM).
  const noteSnapshots = (node: SerializedNode) => {
    if (node.type === NODE_ELEMENT && node.tagName === 'canvas' && typeof node.attributes?.rr_dataURL === 'string') {
      snapshots.set(node.id, node.attributes.rr_dataURL);
      showSnapshot(node.id);
    }
    for (const child of node.childNodes ?? []) noteSnapshots(child);
  };

  return {
    handler(event, _isSync, context) {
      mirror = context.replayer.getMirror() as unknown as Mirror;
      const e = event as { type: number; data: any };
      if (e.type === RRWEB_EVENT.FullSnapshot) {
        // Frames queued for the previous DOM are stale: the snapshot has its own picture.
        canvases.clear();
        snapshots.clear();
        noteSnapshots(e.data.node);
        return;
      }
      if (e.type !== RRWEB_EVENT.IncrementalSnapshot) return;
      if (e.data.source === RRWEB_SOURCE.Mutation) {
        for (const add of e.data.adds ?? []) if (add?.node) noteSnapshots(add.node);
        return;
      }
      const d = e.data as CanvasMutationData;
      if (d.source !== SOURCE_CANVAS_MUTATION || d.type !== CONTEXT_2D) return;
      const commands = d.commands ?? (d.property ? [{ property: d.property, args: d.args ?? [], setter: d.setter }] : []);
      if (!commands.length) return;
      let state = canvases.get(d.id);
      if (!state) canvases.set(d.id, (state = { queue: [], running: false }));
      // A full frame covers whatever was waiting: while seeking, only the last one is shown.
      if (frameBlob(commands)) state.queue.length = 0;
      state.queue.push(commands);
      // After the current (possibly synchronous, seek-long) batch of events: the DOM is built by then.
      queueMicrotask(() => schedule(d.id));
    },
    onBuild(node, { id, replayer }) {
      if (node.nodeName !== 'CANVAS' || !(node as Node).ownerDocument) return;
      mirror = replayer.getMirror() as unknown as Mirror;
      showSnapshot(id, node as HTMLCanvasElement);
      queueMicrotask(() => schedule(id));
    },
  };
}
