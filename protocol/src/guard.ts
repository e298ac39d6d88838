/**
 * The tracker and the assist plugin run inside other people's pages: nothing they do may throw into the
 * host page or spam its console. Every callback, patch and timer goes through a Guard, which catches,
 * and reports each kind of failure once (to `onError` when given, else to console.debug).
 *
 * It lives here, the one package both browser SDKs import, because the plugin cannot import the
 * tracker (the tracker bundles the plugin). No DOM and no dependencies: safe in any runtime.
 */

// Captured at load, before the tracker's console plugin patches console.debug: our own diagnostics must
// not be recorded as the page's console output, nor be rate limited by the tracker's console gate.
const originalDebug: (...args: unknown[]) => void = (() => {
  try {
    const c = globalThis.console;
    return c && typeof c.debug === 'function' ? c.debug.bind(c) : () => {};
  } catch {
    return () => {};
  }
})();

/** console.debug as it was when Tandem loaded, with a `[label]` prefix; never throws. */
export function debugAs(label: string, ...args: unknown[]): void {
  try {
    originalDebug(`[${label}]`, ...args);
  } catch {
    /* a console that throws is not our problem to report */
  }
}

export class Guard {
  private readonly reported = new Set<string>();

  /** `label` prefixes the console.debug fallback (`[tandem]`, `[tandem assist]`). */
  constructor(
    private readonly onError?: (err: unknown, where: string) => void,
    private readonly label = 'tandem',
  ) {}

  /** Reports a failure once per `where` (a flood of one failure is one report). */
  report(err: unknown, where: string): void {
    if (this.reported.has(where)) return;
    this.reported.add(where);
    if (this.onError) {
      try {
        this.onError(err, where);
        return;
      } catch {
        /* the host's onError threw: fall back to debug */
      }
    }
    debugAs(this.label, where, err);
  }

  /** Runs fn; a throw is reported and swallowed. */
  run<R>(where: string, fn: () => R): R | undefined {
    try {
      return fn();
    } catch (err) {
      this.report(err, where);
      return undefined;
    }
  }

  /** Wraps fn so that calling it never throws (keeps `this`). */
  wrap<A extends unknown[], R>(where: string, fn: (this: unknown, ...args: A) => R): (...args: A) => R | undefined {
    const guard = this;
    return function (this: unknown, ...args: A) {
      try {
        return fn.apply(this, args);
      } catch (err) {
        guard.report(err, where);
        return undefined;
      }
    };
  }
}
