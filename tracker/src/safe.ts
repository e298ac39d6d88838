/** The tracker's error guard: the one shared with the assist plugin (protocol/src/guard.ts). */
import { debugAs, Guard } from '@tandem/protocol';

export { Guard };

/** The tracker's own diagnostics, on the console.debug captured before any patching. */
export function debug(...args: unknown[]): void {
  debugAs('tandem', ...args);
}
