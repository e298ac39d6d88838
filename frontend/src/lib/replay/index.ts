/**
 * What a Replayer of recorded sessions needs beyond rrweb's defaults, in one place:
 * - `ReplayAssets`: `await assets.rewrite(events)` before events reach the Replayer (asset proxy);
 * - `replayPlugins()`: pass as `plugins` to `new Replayer(...)` (canvas frames without allow-scripts).
 */
import { canvasReplayPlugin } from './canvas-replay';

export { ReplayAssets, rewriteCss, rewriteSrcset } from './asset-links';
export { canvasReplayPlugin } from './canvas-replay';

export function replayPlugins(onError?: (err: unknown) => void) {
  return [canvasReplayPlugin(onError)];
}
