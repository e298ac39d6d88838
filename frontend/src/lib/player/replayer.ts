import { Replayer } from '@rrweb/replay';
import '@rrweb/replay/dist/style.css';
import type { TandemEvent } from '@tandem/protocol';
import { REPLAY_STYLE_RULES, replayPlugins } from '../replay';

/** Size of a replayed page (the window's Meta event, viewport resizes). */
export interface FrameSize {
  width: number;
  height: number;
}

/**
 * The player's Replayer over one window, built into `host`: the one construction shared by the session
 * page's player (pages/session/player.svelte.ts) and a share link's early frame (early-frame.ts), so a
 * frame built before the app is the same as one the page builds.
 * The Replayer keeps its defaults for safety: its iframe is sandboxed without `allow-scripts` and
 * rrweb's canvas replay (UNSAFE_replayCanvas, which would add it) stays off; canvas frames come from
 * lib/replay's plugin instead.
 */
export function createReplayer(events: TandemEvent[], host: HTMLElement, speed: number): Replayer {
  return new Replayer(events, {
    root: host,
    speed,
    skipInactive: false,
    // A window holds at most one checkout interval after its snapshot, so a seek applies a few hundred
    // small events: straight into the DOM that is cheaper than rrweb's virtual DOM, which first copies
    // the whole rebuilt snapshot into a virtual tree and diffs it back (measured on the seek bench's
    // windows: pause(t) 28–47 ms direct vs 47–80 ms virtual, same page, same run).
    useVirtualDom: false,
    showWarning: false,
    triggerFocus: false,
    insertStyleRules: REPLAY_STYLE_RULES,
    mouseTail: { duration: 600, lineWidth: 3, strokeStyle: 'rgba(79, 70, 229, 0.45)' },
    // Recorded canvas frames drawn by the dashboard's own script: the iframe keeps no allow-scripts.
    plugins: replayPlugins(),
  });
}

/**
 * Puts `host` first in `stage`. An iframe taken out of the document loses its document, so a built
 * replay moves with `moveBefore` (Chromium 133+: the iframe keeps its page); `canMoveBuiltReplay` says
 * whether this browser can.
 */
export function moveReplayInto(stage: HTMLElement, host: HTMLElement): void {
  const move = (stage as HTMLElement & { moveBefore?: (node: Node, child: Node | null) => void }).moveBefore;
  if (move) move.call(stage, host, stage.firstChild);
  else stage.prepend(host);
}

export function canMoveBuiltReplay(): boolean {
  return typeof Element !== 'undefined' && 'moveBefore' in Element.prototype;
}
