/**
 * Idle-time scheduling for work that must not delay the page's next frame (serialising events).
 *
 * `requestIdleCallback` runs after the frame that shows the page's change has been produced, when the
 * main thread has nothing else to do. The timeout bounds how long events can wait on a page that is
 * never idle: 500 ms is well inside the flush interval (5 s) and still lets a burst of mutations end
 * before we spend the CPU. Without requestIdleCallback (Safari): after the next animation frame, with
 * a timer as a bound (rAF does not fire in background tabs).
 */
export const IDLE_MAX_WAIT_MS = 500;

/** `fn` gets requestIdleCallback's deadline (how long the idle period lasts), undefined on the fallback. */
export function whenIdle(fn: (deadline?: IdleDeadline) => void, maxWaitMs = IDLE_MAX_WAIT_MS): void {
  const g = globalThis as typeof globalThis & {
    requestIdleCallback?: (cb: (deadline: IdleDeadline) => void, opts?: { timeout: number }) => number;
  };
  if (typeof g.requestIdleCallback === 'function') {
    g.requestIdleCallback(fn, { timeout: maxWaitMs });
    return;
  }
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    fn(undefined);
  };
  if (typeof g.requestAnimationFrame === 'function') g.requestAnimationFrame(() => setTimeout(once, 0));
  setTimeout(once, maxWaitMs);
}
