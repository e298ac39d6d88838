/**
 * Mapping between the agent's screen and the user's viewport. The replay iframe has the user's
 * viewport size in CSS px and is shown scaled (`transform: scale(s)`) inside the stage, so a point on
 * the agent's screen divides out that scale and the frame's offset. Everything the agent sends
 * (control input, annotation strokes) is in the user's viewport CSS px (signal.ts).
 */

export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface Point {
  x: number;
  y: number;
}

/** The replay's scale: the frame's on-screen width over the user's viewport width (1 when unknown). */
export function scaleOf(frameOnScreen: Box, userWidth: number): number {
  if (!(userWidth > 0) || !(frameOnScreen.width > 0)) return 1;
  return frameOnScreen.width / userWidth;
}

/**
 * A point on the agent's screen (client px) → the user's viewport px, rounded to 0.1 px, or null
 * when it falls outside the user's viewport.
 */
export function toUserPoint(clientX: number, clientY: number, frameOnScreen: Box, userWidth: number, userHeight: number): Point | null {
  const scale = scaleOf(frameOnScreen, userWidth);
  const x = (clientX - frameOnScreen.left) / scale;
  const y = (clientY - frameOnScreen.top) / scale;
  if (x < 0 || y < 0 || x > userWidth || y > userHeight) return null;
  return { x: round1(x), y: round1(y) };
}

/** Like `toUserPoint` but clamped into the viewport (a drag that leaves the frame keeps its edge). */
export function toUserPointClamped(clientX: number, clientY: number, frameOnScreen: Box, userWidth: number, userHeight: number): Point {
  const scale = scaleOf(frameOnScreen, userWidth);
  const x = clamp((clientX - frameOnScreen.left) / scale, 0, userWidth);
  const y = clamp((clientY - frameOnScreen.top) / scale, 0, userHeight);
  return { x: round1(x), y: round1(y) };
}

/**
 * Where an element of the replayed page sits in the overlay layer, which has the user's viewport
 * size and the same transform as the replay: the element's box in its own document's viewport is
 * already in user px, so it is used as is; only boxes with no size (hidden) are dropped.
 */
export function overlayBox(elementInFrame: Box, userWidth: number, userHeight: number): Box | null {
  if (!(elementInFrame.width > 0) || !(elementInFrame.height > 0)) return null;
  const right = elementInFrame.left + elementInFrame.width;
  const bottom = elementInFrame.top + elementInFrame.height;
  // Entirely scrolled out of the user's viewport: nothing to show (the plugin pauses it too).
  if (right <= 0 || bottom <= 0 || elementInFrame.left >= userWidth || elementInFrame.top >= userHeight) return null;
  return { left: elementInFrame.left, top: elementInFrame.top, width: elementInFrame.width, height: elementInFrame.height };
}

export function sameBox(a: Box | null, b: Box | null): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return a.left === b.left && a.top === b.top && a.width === b.width && a.height === b.height;
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

function clamp(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, n));
}
