/**
 * What a Replayer of recorded sessions needs beyond rrweb's defaults, in one place:
 * - `ReplayAssets`: `await assets.rewrite(events)` before events reach the Replayer (asset proxy);
 * - `replayPlugins()`: pass as `plugins` to `new Replayer(...)` (canvas frames without allow-scripts).
 */
import { canvasReplayPlugin } from './canvas-replay';

export { ReplayAssets, rewriteCss, rewriteSrcset } from './asset-links';
export { canvasReplayPlugin } from './canvas-replay';

/**
 * CSS for every replay iframe (`insertStyleRules`). The iframe has no `allow-scripts`, and a document
 * without scripting renders `<canvas>` as its fallback content: a plain box with no intrinsic size, so a
 * replayed canvas collapses (inline) or stretches to its container (`display: block`), and the canvas
 * video or recorded frames drawn over it land at the wrong size and place. These zero-specificity rules
 * give it a canvas's size back from its width/height attributes (300×150 by default) and keep its
 * aspect ratio when the page's CSS sets only one side; any rule of the page still wins. Typed attr()
 * needs Chromium 133+; a browser without it drops the declarations and keeps the old behaviour.
 */
export const REPLAY_STYLE_RULES: string[] = [
  ':where(canvas) { display: inline-block; width: attr(width px, 300px); aspect-ratio: attr(width type(<number>), 300) / attr(height type(<number>), 150); }',
];

export function replayPlugins(onError?: (err: unknown) => void) {
  return [canvasReplayPlugin(onError)];
}
