import type { CanvasRecording } from '@tandem/protocol';
import type { KeyValueStore } from './session.js';

/**
 * Canvas recording presets. rrweb's sampled mode (`sampling.canvas` = frames per second) reads each
 * canvas (2D or WebGL) into an ImageBitmap, encodes it in a worker and emits it as one image per
 * frame; an unchanged canvas emits nothing (the worker compares with the last frame). WebP keeps a
 * frame of a busy 800×600 canvas at tens of KB where PNG would be hundreds.
 * - low: 2 frames/s at quality 0.4 — what was on a chart or a map, at a few KB/s while it moves.
 * - high: 8 frames/s at quality 0.7 — animations read as motion; several times the bytes of low.
 * The byte cost of each is measured by the `bytes` bench (BENCHMARKS.md) and shown in Settings.
 */
export const CANVAS_PRESETS: Record<Exclude<CanvasRecording, 'off'>, { fps: number; quality: number }> = {
  low: { fps: 2, quality: 0.4 },
  high: { fps: 8, quality: 0.7 },
};

/** The rrweb record() options for a level (merged into the tracker's own sampling). */
export function canvasRecordOptions(level: CanvasRecording): {
  recordCanvas: boolean;
  canvasFps?: number;
  dataURLOptions?: { type: string; quality: number };
} {
  if (level === 'off') return { recordCanvas: false };
  const p = CANVAS_PRESETS[level];
  return { recordCanvas: true, canvasFps: p.fps, dataURLOptions: { type: 'image/webp', quality: p.quality } };
}

export function isCanvasLevel(v: unknown): v is CanvasRecording {
  return v === 'off' || v === 'low' || v === 'high';
}

/**
 * The project's level from the last start answer, kept in localStorage: the next page load records
 * canvases from its first moment. That matters for WebGL: rrweb can read a WebGL canvas only if it
 * was created with `preserveDrawingBuffer`, which its patched `getContext` adds — to contexts created
 * after recording started. A first visit learns the level from the start answer and restarts the
 * recorder then (contexts created before that may record blank frames).
 */
export class CanvasLevelMemory {
  constructor(private readonly store: KeyValueStore, private readonly key: string) {}

  recall(): CanvasRecording {
    const v = this.store.getItem(this.key);
    return isCanvasLevel(v) ? v : 'off';
  }

  remember(level: CanvasRecording): void {
    if (this.store.getItem(this.key) !== level) this.store.setItem(this.key, level);
  }
}
