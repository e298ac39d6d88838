/** The plugin's error guard: the one shared with the tracker (protocol/src/guard.ts), labelled `[tandem assist]`. */
import { Guard } from '@tandem/protocol';

export function assistGuard(onError?: (err: unknown, where: string) => void): Guard {
  return new Guard(onError, 'tandem assist');
}
