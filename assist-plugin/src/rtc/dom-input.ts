/**
 * DOM helpers of remote control, written against the smallest DOM surface (tag names, not
 * `instanceof HTMLInputElement`, so they work for elements of other frames and in unit tests).
 */

/** Input types that hold free text (selection API, value setter). */
const TEXT_INPUT_TYPES = new Set(['text', 'search', 'url', 'tel', 'email', 'number', '']);
/** Input types without a text caret whose value still takes typing (no selectionStart). */
const NO_SELECTION_TYPES = new Set(['email', 'number']);

export const tagOf = (el: Element | null | undefined): string => String(el?.tagName ?? '').toUpperCase();

/**
 * A password field, by type or by the autocomplete hint (a "show password" toggle turns the type
 * into `text`; the hint stays). The agent never fills, focuses for typing, or reads one.
 */
export function isPasswordField(el: Element | null | undefined): boolean {
  if (tagOf(el) !== 'INPUT') return false;
  const input = el as HTMLInputElement;
  if (String(input.type).toLowerCase() === 'password') return true;
  const ac = String(input.getAttribute?.('autocomplete') ?? '').toLowerCase();
  return ac.includes('password');
}

/** An `<input>` of a text-like type or a `<textarea>`. */
export function isTextField(el: Element | null | undefined): el is HTMLInputElement | HTMLTextAreaElement {
  const tag = tagOf(el);
  if (tag === 'TEXTAREA') return true;
  return tag === 'INPUT' && TEXT_INPUT_TYPES.has(String((el as HTMLInputElement).type ?? '').toLowerCase());
}

export function isEditable(el: Element | null | undefined): boolean {
  return !!el && !!(el as HTMLElement).isContentEditable;
}

/** Read-only or disabled fields take no typing (as for the user). */
export function isLocked(el: Element): boolean {
  const f = el as HTMLInputElement;
  return !!f.disabled || !!f.readOnly;
}

/**
 * Sets a field's value through the prototype's native setter, not the element's own property:
 * React (and others) install their own `value` property on the element to track what they set, so
 * `el.value = x` looks like their own write and the following `input` event is ignored. Through
 * the native setter the tracked value and the real one differ, and the framework sees the change.
 */
export function setNativeValue(el: Element, value: string): void {
  let proto: object | null = Object.getPrototypeOf(el);
  while (proto) {
    const desc = Object.getOwnPropertyDescriptor(proto, 'value');
    if (desc?.set) {
      desc.set.call(el, value);
      return;
    }
    proto = Object.getPrototypeOf(proto);
  }
  (el as HTMLInputElement).value = value;
}

/** `value` with `text` put over [start, end), bounded by maxLength (negative: no limit), and the caret after it. */
export function spliceText(value: string, start: number, end: number, text: string, maxLength = -1): { value: string; caret: number } {
  const s = Math.max(0, Math.min(start, value.length));
  const e = Math.max(s, Math.min(end, value.length));
  let insert = text;
  if (maxLength >= 0) insert = insert.slice(0, Math.max(0, maxLength - (value.length - (e - s))));
  return { value: value.slice(0, s) + insert + value.slice(e), caret: s + insert.length };
}

/** The value after Backspace (`back`) or Delete at the selection, and the caret. */
export function deleteText(value: string, start: number, end: number, back: boolean): { value: string; caret: number } {
  if (start !== end) return spliceText(value, start, end, '');
  if (back) return start > 0 ? { value: value.slice(0, start - 1) + value.slice(start), caret: start - 1 } : { value, caret: 0 };
  return { value: value.slice(0, start) + value.slice(start + 1), caret: start };
}

/** Selection of a field, or its end for types that have none (email, number). */
export function selectionOf(el: HTMLInputElement | HTMLTextAreaElement): [number, number] {
  const len = String(el.value ?? '').length;
  if (tagOf(el) === 'INPUT' && NO_SELECTION_TYPES.has(String(el.type).toLowerCase())) return [len, len];
  try {
    const s = el.selectionStart;
    const e = el.selectionEnd;
    if (typeof s === 'number' && typeof e === 'number') return [s, e];
  } catch {
    /* types without a selection throw */
  }
  return [len, len];
}

export function setCaret(el: HTMLInputElement | HTMLTextAreaElement, at: number): void {
  try {
    if (!(tagOf(el) === 'INPUT' && NO_SELECTION_TYPES.has(String(el.type).toLowerCase()))) el.setSelectionRange(at, at);
  } catch {
    /* no selection on this type */
  }
}

/**
 * The element at a viewport point, down through open shadow roots (`shadowRoot.elementFromPoint`),
 * skipping elements `skip` says are ours (the plugin's UI sits above the page; the agent does not see
 * it and means the page below). Closed shadow roots stop at their host, as for any script.
 */
export function deepElementFromPoint(doc: Document, x: number, y: number, skip: (el: Element) => boolean = () => false): Element | null {
  const stack = typeof doc.elementsFromPoint === 'function' ? doc.elementsFromPoint(x, y) : [doc.elementFromPoint(x, y)];
  let el: Element | null = stack.find((e) => e && !skip(e)) ?? null;
  for (let depth = 0; el?.shadowRoot && depth < 32; depth++) {
    const root = el.shadowRoot as ShadowRoot & { elementsFromPoint?: Document['elementsFromPoint'] };
    const inner = typeof root.elementsFromPoint === 'function' ? root.elementsFromPoint(x, y).find((e) => !skip(e)) : root.elementFromPoint?.(x, y);
    if (!inner || inner === el) break;
    el = inner;
  }
  return el;
}

/** The focused element, inside open shadow roots too. */
export function deepActiveElement(doc: Document): Element | null {
  let el: Element | null = doc.activeElement;
  for (let depth = 0; el?.shadowRoot?.activeElement && depth < 32; depth++) el = el.shadowRoot.activeElement;
  return el;
}

/** Parent across shadow boundaries (a shadow root's host). */
export function composedParent(el: Element): Element | null {
  if (el.parentElement) return el.parentElement;
  const root = el.getRootNode?.() as ShadowRoot | Document | undefined;
  return root && 'host' in root ? (root.host as Element) : null;
}

const FOCUSABLE =
  'a[href], area[href], button, input, select, textarea, iframe, summary, [contenteditable=""], [contenteditable="true"], [tabindex]';

/** Can this element take focus from a click or Tab (not disabled, not hidden, tabindex ≥ 0 for Tab)? */
export function isFocusable(el: Element, forTab: boolean): boolean {
  const e = el as HTMLElement & { disabled?: boolean };
  if (!el.matches?.(FOCUSABLE) || e.disabled) return false;
  if (tagOf(el) === 'INPUT' && String((el as HTMLInputElement).type).toLowerCase() === 'hidden') return false;
  // Only an explicit negative tabindex takes an element out of the tab order (a contenteditable
  // reports -1 without one and is still reached by Tab).
  if (forTab && e.tabIndex < 0 && el.hasAttribute('tabindex')) return false;
  const rect = el.getBoundingClientRect?.();
  return !rect || rect.width > 0 || rect.height > 0;
}

/** Tab order: positive tabindex first (ascending), then document order. */
export function tabOrder<T extends { tabIndex: number }>(els: readonly T[]): T[] {
  return els
    .map((el, i) => ({ el, i }))
    .sort((a, b) => {
      const ta = a.el.tabIndex > 0 ? a.el.tabIndex : Infinity;
      const tb = b.el.tabIndex > 0 ? b.el.tabIndex : Infinity;
      return ta === tb ? a.i - b.i : ta - tb;
    })
    .map((x) => x.el);
}

/** The next (or previous) element in tab order after `current`, wrapping around. */
export function nextInOrder<T>(order: readonly T[], current: T | null, backwards: boolean): T | null {
  if (!order.length) return null;
  const i = current ? order.indexOf(current) : -1;
  if (i < 0) return backwards ? order[order.length - 1]! : order[0]!;
  return order[(i + (backwards ? -1 : 1) + order.length) % order.length]!;
}

/**
 * Elements Tab can reach in `doc`, through open shadow roots, in tab order; `from` (the focused
 * element) is kept in place even if Tab could not reach it, so the next one is the one after it.
 */
export function tabbables(doc: Document, skip: (el: Element) => boolean, from?: Element | null): HTMLElement[] {
  const out: HTMLElement[] = [];
  const walk = (root: Document | ShadowRoot) => {
    for (const el of Array.from(root.querySelectorAll('*'))) {
      if (skip(el)) continue;
      if (el === from || isFocusable(el, true)) out.push(el as HTMLElement);
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(doc);
  return tabOrder(out);
}

/** A URL of this page's own origin (an agent may visit the site's pages, never another site). */
export function sameOriginUrl(url: string, base: string): string | null {
  try {
    const target = new URL(url, base);
    const here = new URL(base);
    if (target.origin !== here.origin || !/^https?:$/.test(target.protocol)) return null;
    return target.href;
  } catch {
    return null;
  }
}

/** The nearest element, from `el` up, that scrolls along the axis of (dx, dy) and has room left that way. */
export function scrollableAncestor(el: Element | null, dx: number, dy: number, style: (el: Element) => CSSStyleDeclaration | null): Element | null {
  for (let cur = el, depth = 0; cur && depth < 256; cur = composedParent(cur), depth++) {
    const tag = tagOf(cur);
    if (tag === 'HTML' || tag === 'BODY') return null; // the page itself
    const s = style(cur);
    const canY = !!s && /(auto|scroll|overlay)/.test(s.overflowY) && cur.scrollHeight > cur.clientHeight;
    const canX = !!s && /(auto|scroll|overlay)/.test(s.overflowX) && cur.scrollWidth > cur.clientWidth;
    const roomY = dy > 0 ? cur.scrollTop + cur.clientHeight < cur.scrollHeight - 1 : dy < 0 ? cur.scrollTop > 0 : false;
    const roomX = dx > 0 ? cur.scrollLeft + cur.clientWidth < cur.scrollWidth - 1 : dx < 0 ? cur.scrollLeft > 0 : false;
    if ((canY && roomY) || (canX && roomX)) return cur;
  }
  return null;
}
