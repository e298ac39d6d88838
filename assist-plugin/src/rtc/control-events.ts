/** Event construction shared by the control executor's pointer and keyboard halves. */

export type ControlRefusal = 'invalid' | 'password' | 'own-ui' | 'no-target' | 'locked' | 'cross-origin';
export type ControlResult = { ok: true } | { ok: false; reason: ControlRefusal };

export const OK: ControlResult = { ok: true };
export const no = (reason: ControlRefusal): ControlResult => ({ ok: false, reason });

/**
 * Dispatches an event of the right class (PointerEvent, MouseEvent, WheelEvent, KeyboardEvent,
 * InputEvent) from the page's own window, bubbling and composed (it crosses shadow roots like a
 * real one). Returns false when a handler cancelled it.
 */
export function fireEvent(w: Window & typeof globalThis, el: Element, type: string, init: Record<string, unknown> = {}): boolean {
  const base = { bubbles: true, cancelable: true, composed: true, view: w, ...init };
  let ev: Event;
  if (type.startsWith('pointer')) {
    const P = typeof w.PointerEvent === 'function' ? w.PointerEvent : w.MouseEvent;
    ev = new P(type, { pointerId: 1, pointerType: 'mouse', isPrimary: true, ...base });
  } else if (type === 'wheel') ev = new w.WheelEvent(type, base);
  else if (type.startsWith('key')) ev = new w.KeyboardEvent(type, base);
  else if (type === 'input' || type === 'beforeinput') ev = new w.InputEvent(type, base);
  else if (type === 'change' || type === 'submit') ev = new w.Event(type, { bubbles: true, cancelable: type === 'submit' });
  else ev = new w.MouseEvent(type, base);
  return el.dispatchEvent(ev);
}
