import type { CanvasRecording } from '@tandem/protocol';

/**
 * What each canvas level costs on the wire, from the `bytes` bench (bench/src/bytes.ts, BENCHMARKS.md):
 * a page with an animated 2D and an animated WebGL canvas (640×360 each), gzip-compressed batches,
 * per minute of recording. A still canvas costs nothing (unchanged frames are not sent).
 */
export const CANVAS_COST: Record<CanvasRecording, { label: string; detail: string; kbPerMin: number | null }> = {
  off: { label: 'Off', detail: 'Canvases replay blank (or with their first frame from a snapshot).', kbPerMin: 0 },
  low: { label: 'Low', detail: '2 frames per second, WebP quality 0.4.', kbPerMin: null },
  high: { label: 'High', detail: '8 frames per second, WebP quality 0.7.', kbPerMin: null },
};
