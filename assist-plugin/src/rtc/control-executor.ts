import { CONTROL_INPUT_TYPES, MAX_CONTROL_TEXT, type ControlInput } from '@tandem/protocol';
import type { NodeMirror } from '../host.js';
import { OK, fireEvent, no, type ControlResult } from './control-events.js';
import { KeyboardInput } from './control-keyboard.js';
import { composedParent, deepElementFromPoint, isFocusable, isPasswordField, sameOriginUrl, scrollableAncestor, tagOf } from './dom-input.js';

/**
 * Runs an agent's `control:input` on the user's page as real-looking events: pointer and mouse
 * sequences, wheel and scroll, typing applied the way frameworks notice, Enter, Tab, select, visits.
 * Targets are found by the agent's rrweb node id (the recorder's mirror) first, by coordinates only
 * when the id is unknown. Never: a password field (not filled, focused for typing or read), the
 * plugin's own UI (the agent cannot accept a prompt or press "take back"), another site.
 */

export type { ControlRefusal, ControlResult } from './control-events.js';

export interface ExecutorDeps {
  doc: Document;
  mirror(): NodeMirror | null;
  /** Is this node part of the plugin's UI (its host element or inside it)? */
  isOwnUi(node: Node): boolean;
  /** Where the agent's pointer is (drawn on the page), and whether a button is down. */
  pointer(x: number, y: number, pressed: boolean): void;
  /** Leaves the page for a same-origin URL (injected: tests cannot navigate). */
  navigate?(url: string): void;
}

const BUTTON_BITS = [1, 4, 2] as const; // MouseEvent.buttons bit of button 0, 1, 2

const finite = (...n: unknown[]) => n.every((v) => typeof v === 'number' && Number.isFinite(v));

/** Is the input well formed (types, finite numbers, bounded text)? The server checks too; this is the plugin's own check. */
export function validInput(input: unknown): input is ControlInput {
  const i = input as ControlInput;
  if (!i || typeof i !== 'object' || !CONTROL_INPUT_TYPES.includes(i.type)) return false;
  if ('nodeId' in i && i.nodeId !== undefined && !finite(i.nodeId)) return false;
  switch (i.type) {
    case 'pointer':
    case 'click':
    case 'dblclick':
    case 'mousedown':
    case 'mousemove':
    case 'mouseup':
      return finite(i.x, i.y);
    case 'wheel':
      return finite(i.x, i.y, i.dx, i.dy);
    case 'scroll':
      return finite(i.left, i.top);
    case 'key':
      return typeof i.key === 'string' && i.key.length > 0 && i.key.length <= 32;
    case 'text':
      return typeof i.text === 'string' && i.text.length <= MAX_CONTROL_TEXT;
    case 'select':
      return finite(i.nodeId) && typeof i.value === 'string';
    case 'navigate':
      return typeof i.url === 'string' && i.url.length <= 4_096;
  }
}

export class ControlExecutor {
  private pressed: { button: 0 | 1 | 2; target: Element } | null = null;
  private hovered: Element | null = null;
  private readonly keyboard: KeyboardInput;

  constructor(private readonly deps: ExecutorDeps) {
    this.keyboard = new KeyboardInput({ doc: deps.doc, isOwnUi: deps.isOwnUi, byNodeId: (id) => this.byNodeId(id) });
  }

  private get win(): Window & typeof globalThis {
    return this.deps.doc.defaultView as Window & typeof globalThis;
  }

  run(input: ControlInput): ControlResult {
    if (!validInput(input)) return no('invalid');
    switch (input.type) {
      case 'pointer':
        return this.move(input.x, input.y, undefined);
      case 'mousemove':
        return this.move(input.x, input.y, input.nodeId);
      case 'click':
        return this.click(input.x, input.y, input.nodeId, input.button ?? 0);
      case 'dblclick':
        return this.dblclick(input.x, input.y, input.nodeId);
      case 'mousedown':
        return this.down(input.x, input.y, input.nodeId, input.button ?? 0);
      case 'mouseup':
        return this.up(input.x, input.y, input.nodeId, input.button ?? 0);
      case 'wheel':
        return this.wheel(input.x, input.y, input.dx, input.dy, input.nodeId);
      case 'scroll':
        return this.scroll(input.left, input.top, input.nodeId);
      case 'key':
        return this.keyboard.key(input);
      case 'text':
        return this.keyboard.text(input.text, input.nodeId);
      case 'select':
        return this.keyboard.select(input.nodeId, input.value);
      case 'navigate':
        return this.navigate(input.url);
    }
  }

  // ------------------------------------------------------------------ targets

  /** The element of `nodeId` in this page (text nodes: their parent), or null. */
  private byNodeId(nodeId: number | undefined): Element | null {
    if (nodeId === undefined || !(nodeId > 0)) return null;
    const node = this.deps.mirror()?.getNode(nodeId) ?? null;
    const el = node && node.nodeType === 1 ? (node as Element) : (node?.parentElement ?? null);
    return el && el.isConnected ? el : null;
  }

  /**
   * The target and the point to report: by node id (the point moved into the element when the
   * agent's view is scaled or its viewport differs), else by coordinates.
   */
  private target(x: number, y: number, nodeId: number | undefined): { el: Element; x: number; y: number } | ControlResult {
    let el = this.byNodeId(nodeId);
    if (el) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.height > 0 && !(x >= r.left && x <= r.right && y >= r.top && y <= r.bottom)) {
        x = r.left + r.width / 2;
        y = r.top + r.height / 2;
      }
    } else {
      el = deepElementFromPoint(this.deps.doc, x, y, (e) => this.deps.isOwnUi(e));
    }
    if (!el) return no('no-target');
    if (this.deps.isOwnUi(el)) return no('own-ui');
    return { el, x, y };
  }

  // ------------------------------------------------------------------ events

  private fire(el: Element, type: string, init: Record<string, unknown> = {}): boolean {
    return fireEvent(this.win, el, type, init);
  }

  private mouse(x: number, y: number, button: number, buttons: number, detail = 0): Record<string, unknown> {
    const w = this.win;
    return { clientX: x, clientY: y, screenX: x + (w.screenX || 0), screenY: y + (w.screenY || 0), button, buttons, detail };
  }

  /** Hover: out/over (bubbling) and leave/enter on the element itself, as the browser does when the pointer crosses. */
  private hover(el: Element, x: number, y: number, buttons: number): void {
    if (this.hovered === el) return;
    const init = this.mouse(x, y, 0, buttons);
    const prev = this.hovered;
    this.hovered = el;
    if (prev?.isConnected) {
      this.fire(prev, 'pointerout', { ...init, relatedTarget: el });
      this.fire(prev, 'mouseout', { ...init, relatedTarget: el });
      this.fire(prev, 'mouseleave', { ...init, bubbles: false, relatedTarget: el });
    }
    this.fire(el, 'pointerover', { ...init, relatedTarget: prev });
    this.fire(el, 'mouseover', { ...init, relatedTarget: prev });
    this.fire(el, 'mouseenter', { ...init, bubbles: false, relatedTarget: prev });
  }

  /** A mouse press moves focus to the nearest focusable ancestor, or out of any field (never into a password field). */
  private focusFor(el: Element): void {
    for (let cur: Element | null = el; cur; cur = composedParent(cur)) {
      if (!isFocusable(cur, false)) continue;
      if (isPasswordField(cur)) break; // focus leaves the previous field, but never lands in this one
      this.keyboard.moveFocus(cur as HTMLElement);
      return;
    }
    this.keyboard.blurActive();
  }

  private move(x: number, y: number, nodeId: number | undefined): ControlResult {
    this.deps.pointer(x, y, !!this.pressed);
    const t = this.target(x, y, nodeId);
    if (!('el' in t)) return OK; // over nothing of the page (or our UI): the pointer still moves
    const buttons = this.pressed ? BUTTON_BITS[this.pressed.button] : 0;
    this.hover(t.el, t.x, t.y, buttons);
    const init = this.mouse(t.x, t.y, 0, buttons);
    this.fire(t.el, 'pointermove', init);
    this.fire(t.el, 'mousemove', init);
    return OK;
  }

  private down(x: number, y: number, nodeId: number | undefined, button: 0 | 1 | 2): ControlResult {
    const t = this.target(x, y, nodeId);
    if (!('el' in t)) return t;
    this.deps.pointer(t.x, t.y, true);
    this.hover(t.el, t.x, t.y, 0);
    const init = this.mouse(t.x, t.y, button, BUTTON_BITS[button], 1);
    this.pressed = { button, target: t.el };
    const pointerOk = this.fire(t.el, 'pointerdown', init);
    // preventDefault on pointerdown suppresses the compatibility mouse events (Pointer Events spec).
    if (pointerOk && this.fire(t.el, 'mousedown', init) && button === 0) this.focusFor(t.el);
    return OK;
  }

  private up(x: number, y: number, nodeId: number | undefined, button: 0 | 1 | 2): ControlResult {
    const t = this.target(x, y, nodeId);
    const downOn = this.pressed?.target ?? null;
    this.pressed = null;
    if (!('el' in t)) return t;
    this.deps.pointer(t.x, t.y, false);
    const init = this.mouse(t.x, t.y, button, 0, 1);
    this.fire(t.el, 'pointerup', init);
    this.fire(t.el, 'mouseup', init);
    // The browser clicks the nearest element containing both the press and the release.
    const common = downOn ? commonAncestor(downOn, t.el) : null;
    if (common && button === 0) this.fire(common, 'click', init);
    if (common && button === 1) this.fire(common, 'auxclick', init);
    if (button === 2) this.fire(t.el, 'contextmenu', init);
    return OK;
  }

  /** The whole press: pointerdown, mousedown, (focus), pointerup, mouseup, click. */
  private click(x: number, y: number, nodeId: number | undefined, button: 0 | 1 | 2, detail = 1): ControlResult {
    const t = this.target(x, y, nodeId);
    if (!('el' in t)) return t;
    const { el } = t;
    this.deps.pointer(t.x, t.y, true);
    this.hover(el, t.x, t.y, 0);
    const down = this.mouse(t.x, t.y, button, BUTTON_BITS[button], detail);
    const up = this.mouse(t.x, t.y, button, 0, detail);
    const pointerOk = this.fire(el, 'pointerdown', down);
    if (pointerOk && this.fire(el, 'mousedown', down) && button === 0) this.focusFor(el);
    this.fire(el, 'pointerup', up);
    if (pointerOk) this.fire(el, 'mouseup', up);
    // A dispatched click runs the element's activation behaviour: links follow, checkboxes toggle,
    // submit buttons submit, labels forward to their control.
    if (button === 0) this.fire(el, 'click', up);
    else if (button === 1) this.fire(el, 'auxclick', up);
    else this.fire(el, 'contextmenu', up);
    this.deps.pointer(t.x, t.y, false);
    return OK;
  }

  /** The agent's browser sent both clicks already (as `click` inputs): this is the dblclick event itself. */
  private dblclick(x: number, y: number, nodeId: number | undefined): ControlResult {
    const t = this.target(x, y, nodeId);
    if (!('el' in t)) return t;
    this.fire(t.el, 'dblclick', this.mouse(t.x, t.y, 0, 0, 2));
    return OK;
  }

  private wheel(x: number, y: number, dx: number, dy: number, nodeId: number | undefined): ControlResult {
    const t = this.target(x, y, nodeId);
    if (!('el' in t)) return t;
    this.deps.pointer(t.x, t.y, false);
    const w = this.win;
    // Page handlers see the wheel (maps, carousels); a dispatched wheel scrolls nothing by itself.
    const ok = this.fire(t.el, 'wheel', { ...this.mouse(t.x, t.y, 0, 0), deltaX: dx, deltaY: dy, deltaMode: 0 });
    if (!ok) return OK;
    const box = scrollableAncestor(t.el, dx, dy, (e) => w.getComputedStyle(e));
    if (box) box.scrollBy({ left: dx, top: dy, behavior: 'instant' as ScrollBehavior });
    else w.scrollBy({ left: dx, top: dy, behavior: 'instant' as ScrollBehavior });
    return OK;
  }

  private scroll(left: number, top: number, nodeId: number | undefined): ControlResult {
    const el = this.byNodeId(nodeId);
    const tag = tagOf(el);
    if (el && this.deps.isOwnUi(el)) return no('own-ui');
    if (!el || tag === 'HTML' || tag === 'BODY') this.win.scrollTo({ left, top, behavior: 'instant' as ScrollBehavior });
    else el.scrollTo({ left, top, behavior: 'instant' as ScrollBehavior });
    return OK;
  }

  private navigate(url: string): ControlResult {
    const href = sameOriginUrl(url, this.deps.doc.location.href);
    if (!href) return no('cross-origin');
    if (this.deps.navigate) this.deps.navigate(href);
    else this.deps.doc.location.assign(href);
    return OK;
  }
}

function commonAncestor(a: Element, b: Element): Element | null {
  const seen = new Set<Element>();
  for (let cur: Element | null = a; cur; cur = composedParent(cur)) seen.add(cur);
  for (let cur: Element | null = b; cur; cur = composedParent(cur)) if (seen.has(cur)) return cur;
  return null;
}
