import type { Replayer } from '@rrweb/replay';

/** The pointer's trail in both live Replayers (the same as the recorded player's). */
export const MOUSE_TAIL = { duration: 600, lineWidth: 3, strokeStyle: 'rgba(79, 70, 229, 0.45)' };

/** rrweb's default iframe sandbox has no `allow-scripts`: the user's page scripts never run here. */
export function assertSandboxed(replayer: Replayer): void {
  const sandbox = replayer.iframe.getAttribute('sandbox');
  if (sandbox === null || /\ballow-scripts\b/.test(sandbox)) {
    safeDestroy(replayer);
    throw new Error('The replay frame must be sandboxed without scripts.');
  }
}

export function safeDestroy(replayer: Replayer): void {
  try {
    replayer.destroy();
  } catch {
    // destroy() removes its wrapper from the root; a root already gone from the DOM is fine.
  }
}
