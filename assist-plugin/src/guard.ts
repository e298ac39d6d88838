/**
 * The plugin runs inside other people's pages, like the tracker: nothing it does may throw into the
 * host page or spam its console. Same pattern as the tracker's `src/safe.ts` (this package cannot
 * import the tracker): every handler and timer runs in a Guard, which catches and reports each kind
 * of failure once, to the host's error hook when it has one, else to the original console.debug.
 */

// Captured at load, before the tracker's console plugin patches console.debug.
const originalDebug: (...args: unknown[]) => void = (() => {
  try {
    const c = globalThis.console;
    return c && typeof c.debug === 'function' ? c.debug.bind(c) : () => {};
  } catch {
    return () => {};
  }
})();

export function debug(...args: unknown[]): void {
  try {
    originalDebug('[tandem assist]', ...args);
  } catch {
    /* a console that throws is not our problem to report */
  }
}

export class Guard {
  private readonly reported = new Set<string>();

  constructor(private readonly onError?: (err: unknown, where: string) => void) {}

  /** Reports a failure once per `where` (a flood of one failure is one report). */
  report(err: unknown, where: string): void {
    if (this.reported.has(where)) return;
    this.reported.add(where);
    if (this.onError) {
      try {
        this.onError(err, where);
        return;
      } catch {
        /* the host's hook threw: fall back to debug */
      }
    }
    debug(where, err);
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

  /** Wraps fn so that calling it never throws. */
  wrap<A extends unknown[], R>(where: string, fn: (...args: A) => R): (...args: A) => R | undefined {
    return (...args: A) => {
      try {
        return fn(...args);
      } catch (err) {
        this.report(err, where);
        return undefined;
      }
    };
  }
}
