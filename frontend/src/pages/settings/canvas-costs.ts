import type { CanvasRecording } from '@tandem/protocol';

/**
 * What each canvas level costs on the wire, from the `bytes` bench (bench/src/canvas-bytes.ts, BENCHMARKS.md,
 * 2026-12-06): a 640×360 canvas redrawn every frame (the average of a 2D scene and a WebGL one), gzip-compressed
 * batches, per minute at the level's frame rate (measured 1.05 and 0.94 KB per frame). A still canvas costs
 * nothing (unchanged frames are not sent); a bigger or busier one costs more.
 */
export const CANVAS_COST: Record<CanvasRecording, { label: string; detail: string; kbPerMin: number | null }> = {
  off: { label: 'Off', detail: 'No canvas pixels are recorded; canvases replay blank.', kbPerMin: 0 },
  low: { label: 'Low', detail: '2 frames per second, WebP quality 0.4.', kbPerMin: 126 },
  high: { label: 'High', detail: '8 frames per second, WebP quality 0.7.', kbPerMin: 452 },
};
