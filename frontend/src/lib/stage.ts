/** Size of a replayed page (rrweb's Meta / viewport-resize events). */
export interface FrameSize {
  width: number;
  height: number;
}

/**
 * The scale that fits a replayed viewport into ours with `inset` px around it; never enlarges
 * (a phone recording stays phone-sized). 1 until both sizes are known.
 */
export function fitScale(frame: FrameSize | null, viewportWidth: number, viewportHeight: number, inset = 16): number {
  if (!frame || frame.width <= 0 || frame.height <= 0 || viewportWidth <= 0 || viewportHeight <= 0) return 1;
  return Math.max(0.05, Math.min(1, (viewportWidth - inset * 2) / frame.width, (viewportHeight - inset * 2) / frame.height));
}

/** The size read-out in a replay's corner: `1280×720`, and the scale when the page is shown smaller. */
export function frameLabel(frame: FrameSize, scale: number): string {
  return `${frame.width}×${frame.height}${scale < 1 ? ` · ${Math.round(scale * 100)}%` : ''}`;
}
