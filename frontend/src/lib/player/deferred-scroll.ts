/**
 * Positioning a Replayer (`pause(t)`/`play(t)`) applies every event up to `t` in one task, and rrweb
 * turns each recorded scroll into a `scrollTo` on the replayed window or element right away: the
 * snapshot's `initialOffset`, then every scroll event of the window (the seek bench's page scrolls
 * every 10 s, a real reader far more often). A `scrollTo` on a document changed since the last one
 * forces a style and layout pass there and then, so the ~1,500-node page was laid out once per scroll,
 * between mutations, inside the task that draws the first frame (profiled on 6-hour opens: `scrollTo`
 * was the largest single native cost of the open). Only the last position of each target can show, so
 * while positioning each `scrollTo` is noted instead, and once rrweb is done each target is scrolled once
 * to its last position: one layout, which the frame needs anyway.
 *
 * What changes: a position is applied against the final layout instead of the layout at its moment.
 * That differs only where a page shrank below a scroll position and grew back with no scroll recorded
 * in between (the browser would have clamped the position then; here it is kept).
 */

type ScrollArgs = [ScrollToOptions | number | undefined, number | undefined];
type ScrollFn = (this: object, ...args: ScrollArgs) => void;

interface ScrollHost {
  scrollTo: ScrollFn;
}

/**
 * Runs `position` (a Replayer's synchronous pause/play) with the scrolls it makes on `win` and on the
 * elements of `win`'s documents collected, then applies the last one of each target.
 * `win` is the replay iframe's window (same origin: the sandbox allows same-origin, never scripts).
 */
export function withDeferredScrolls(win: Window | null | undefined, position: () => void): void {
  const scrolls = new DeferredScrolls(win);
  scrolls.during(position);
  scrolls.flush();
}

/**
 * The same over several steps: a positioning cut into tasks (PlayerController) notes the scrolls of
 * every step with `during`, then `flush`es once, when the replay is shown (a page built off screen has
 * no layout, so a scroll applied there would be clamped to 0).
 */
export class DeferredScrolls {
  readonly #pending = new Map<object, ScrollArgs>();
  readonly #win: Window | null | undefined;
  readonly #elementProto: ScrollHost | undefined;
  readonly #winScroll: ScrollFn | undefined;
  readonly #elementScroll: ScrollFn | undefined;

  constructor(win: Window | null | undefined) {
    this.#win = win;
    this.#elementProto = (win as (Window & { Element?: typeof Element }) | null | undefined)?.Element?.prototype as unknown as ScrollHost | undefined;
    this.#winScroll = (win as unknown as ScrollHost | null | undefined)?.scrollTo;
    this.#elementScroll = this.#elementProto?.scrollTo;
  }

  /** Runs `position` with its scrolls noted instead of applied. */
  during(position: () => void): void {
    const win = this.#win;
    const elementProto = this.#elementProto;
    if (!win || !elementProto) {
      position();
      return;
    }
    const pending = this.#pending;
    const note = (target: object, args: ScrollArgs) => {
      pending.delete(target); // re-inserted last: targets are scrolled in the order of their last scroll
      pending.set(target, args);
    };
    const host = win as unknown as ScrollHost;
    const winOwn = Object.getOwnPropertyDescriptor(win, 'scrollTo');
    const elementOwn = Object.getOwnPropertyDescriptor(elementProto, 'scrollTo');
    host.scrollTo = function (...args: ScrollArgs) {
      note(win, args);
    };
    elementProto.scrollTo = function (this: object, ...args: ScrollArgs) {
      note(this, args);
    };
    try {
      position();
    } finally {
      restore(win, 'scrollTo', winOwn);
      restore(elementProto, 'scrollTo', elementOwn);
    }
  }

  /** Scrolls each target noted so far to its last position, once. */
  flush(): void {
    const win = this.#win;
    for (const [target, args] of this.#pending) {
      try {
        (target === win ? this.#winScroll : this.#elementScroll)?.apply(target, args);
      } catch {
        // rrweb ignores a scroll that throws (a node of another kind): so does this.
      }
    }
    this.#pending.clear();
  }
}

function restore(target: object, key: string, own: PropertyDescriptor | undefined): void {
  if (own) Object.defineProperty(target, key, own);
  else delete (target as Record<string, unknown>)[key];
}
