import { TANDEM_EVENT, type TandemCustomEventMap } from '@tandem/protocol';
import { installErrorCapture } from './errors.js';
import { installNetworkCapture } from './network.js';
import type { TrackerOptions } from './options.js';
import { installPageCapture } from './pages.js';
import type { Guard } from './safe.js';

type EmitCustom = <K extends keyof TandemCustomEventMap>(tag: K, payload: TandemCustomEventMap[K]) => void;

/**
 * What the tracker records besides rrweb's DOM events: the page's errors, its network requests (not
 * `ignorePrefixes`, read per request: the tracker's own and its plugins' traffic) and page visits, as
 * the options allow. Returns the uninstallers.
 */
export function installCaptures(opts: TrackerOptions, guard: Guard, emit: EmitCustom, ignorePrefixes: string[]): (() => void)[] {
  const uninstallers: (() => void)[] = [];
  if (opts.captureErrors !== false) {
    uninstallers.push(installErrorCapture(guard, (p) => emit(TANDEM_EVENT.error, p)));
  }
  if (opts.captureNetwork !== false) {
    uninstallers.push(installNetworkCapture({ guard, emit: (p) => emit(TANDEM_EVENT.network, p), ignorePrefixes }));
  }
  // Installed last so the first-load visit is the first event of the page.
  uninstallers.push(installPageCapture(guard, (p) => emit(TANDEM_EVENT.pageVisit, p)));
  return uninstallers;
}
