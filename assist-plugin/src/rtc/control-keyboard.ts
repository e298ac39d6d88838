import type { ControlInput } from '@tandem/protocol';
import { OK, fireEvent, no, type ControlResult } from './control-events.js';
import {
  deepActiveElement,
  deleteText,
  isEditable,
  isFocusable,
  isLocked,
  isPasswordField,
  isTextField,
  nextInOrder,
  selectionOf,
  setCaret,
  setNativeValue,
  spliceText,
  tabbables,
  tagOf,
} from './dom-input.js';

/**
 * The keyboard half of remote control: typing into the focused field the way frameworks notice it
 * (native value setter + InputEvent; execCommand for contenteditable), Enter, Tab, Backspace,
 * arrows, `<select>` choices, and focus moves with their `change` events. Never into, or out of, a
 * password field.
 */

export interface KeyboardDeps {
  doc: Document;
  isOwnUi(node: Node): boolean;
  byNodeId(nodeId: number | undefined): Element | null;
}

export class KeyboardInput {
  /** Fields typed into since they got focus: they get `change` when they lose it, as after real typing. */
  private readonly dirty = new Set<Element>();

  constructor(private readonly deps: KeyboardDeps) {}

  private get win(): Window & typeof globalThis {
    return this.deps.doc.defaultView as Window & typeof globalThis;
  }

  private fire(el: Element, type: string, init: Record<string, unknown> = {}): boolean {
    return fireEvent(this.win, el, type, init);
  }

  moveFocus(next: HTMLElement): void {
    const active = deepActiveElement(this.deps.doc);
    if (active === next) return;
    if (active) this.leave(active);
    next.focus({ preventScroll: false });
  }

  /** Typed-into fields get their `change` when focus leaves them (what real typing does). */
  leave(el: Element): void {
    if (this.dirty.delete(el)) this.fire(el, 'change');
  }

  /** A press on nothing focusable: focus leaves the field it was in (its `change` first). */
  blurActive(): void {
    const active = deepActiveElement(this.deps.doc) as HTMLElement | null;
    if (active && active !== this.deps.doc.body) {
      this.leave(active);
      active.blur?.();
    }
  }

  /** The element typing goes to: the focused one (the body when nothing is). */
  private focused(): Element {
    return deepActiveElement(this.deps.doc) ?? this.deps.doc.body;
  }

  key(input: Extract<ControlInput, { type: 'key' }>): ControlResult {
    const el = this.focused();
    if (this.deps.isOwnUi(el)) return no('own-ui');
    const tab = input.key === 'Tab';
    // Only Tab (leaving it) reaches a focused password field: keys could edit it.
    if (isPasswordField(el) && !tab) return no('password');
    const init = { key: input.key, code: input.code ?? '', shiftKey: !!input.shift, ctrlKey: !!input.ctrl, altKey: !!input.alt, metaKey: !!input.meta };
    const proceed = this.fire(el, 'keydown', init);
    if (proceed) this.keyAction(el, input);
    this.fire(el, 'keyup', init);
    return OK;
  }

  private keyAction(el: Element, input: Extract<ControlInput, { type: 'key' }>): void {
    const field = isTextField(el) && !isLocked(el) ? el : null;
    switch (input.key) {
      case 'Tab': {
        const order = tabbables(this.deps.doc, (e) => this.deps.isOwnUi(e), el);
        const next = nextInOrder(order, el as HTMLElement, !!input.shift);
        if (next && !isPasswordField(next)) this.moveFocus(next);
        else if (next) {
          // Tab would land in a password field: step over it (the agent may not type there).
          const after = nextInOrder(order, next, !!input.shift);
          if (after && !isPasswordField(after)) this.moveFocus(after);
        }
        return;
      }
      case 'Enter': {
        if (tagOf(el) === 'TEXTAREA' && field) return void this.typeInto(field, '\n', 'insertLineBreak');
        if (isEditable(el)) return void this.deps.doc.execCommand('insertParagraph');
        if (tagOf(el) === 'INPUT') {
          // Implicit submission: as the browser does, the field's change first, then the form.
          this.leave(el);
          const form = (el as HTMLInputElement).form;
          if (form) form.requestSubmit ? form.requestSubmit() : form.submit();
          return;
        }
        if (tagOf(el) === 'BUTTON' || tagOf(el) === 'A') (el as HTMLElement).click();
        return;
      }
      case ' ':
        if (tagOf(el) === 'BUTTON') (el as HTMLElement).click();
        return;
      case 'Backspace':
      case 'Delete': {
        const back = input.key === 'Backspace';
        if (field) {
          const [s, e] = selectionOf(field);
          const next = deleteText(String(field.value ?? ''), s, e, back);
          this.apply(field, next.value, next.caret, back ? 'deleteContentBackward' : 'deleteContentForward', null);
        } else if (isEditable(el)) this.deps.doc.execCommand(back ? 'delete' : 'forwardDelete');
        return;
      }
      case 'ArrowLeft':
      case 'ArrowRight':
      case 'Home':
      case 'End': {
        if (field) {
          const [s, e] = selectionOf(field);
          const len = String(field.value ?? '').length;
          const at = { ArrowLeft: s === e ? s - 1 : s, ArrowRight: s === e ? e + 1 : e, Home: 0, End: len }[input.key];
          setCaret(field, Math.max(0, Math.min(len, at)));
          return;
        }
        if (input.key === 'Home' || input.key === 'End') this.win.scrollTo({ top: input.key === 'Home' ? 0 : this.deps.doc.documentElement.scrollHeight });
        else if (!isEditable(el)) this.win.scrollBy({ left: input.key === 'ArrowLeft' ? -40 : 40 });
        return;
      }
      case 'ArrowUp':
      case 'ArrowDown':
      case 'PageUp':
      case 'PageDown': {
        if (field || isEditable(el) || tagOf(el) === 'SELECT') return;
        const page = input.key.startsWith('Page') ? this.win.innerHeight * 0.9 : 40;
        this.win.scrollBy({ top: input.key.endsWith('Up') ? -page : page });
        return;
      }
    }
  }

  text(text: string, nodeId: number | undefined): ControlResult {
    let el = this.deps.byNodeId(nodeId);
    if (el && this.deps.isOwnUi(el)) return no('own-ui');
    if (el && isPasswordField(el)) return no('password');
    if (el && el !== deepActiveElement(this.deps.doc) && isFocusable(el, false)) this.moveFocus(el as HTMLElement);
    el = this.focused();
    if (this.deps.isOwnUi(el)) return no('own-ui');
    if (isPasswordField(el)) return no('password');
    if (isTextField(el)) {
      if (isLocked(el)) return no('locked');
      this.typeInto(el, tagOf(el) === 'INPUT' ? text.replace(/[\r\n]+/g, ' ') : text, 'insertText');
      return OK;
    }
    if (isEditable(el)) {
      // execCommand keeps the editor's undo stack and fires beforeinput/input like typing; a Range
      // insertion with our own input event where it is refused.
      if (!this.deps.doc.execCommand('insertText', false, text)) {
        const sel = this.win.getSelection();
        if (sel && sel.rangeCount) {
          const range = sel.getRangeAt(0);
          range.deleteContents();
          range.insertNode(this.deps.doc.createTextNode(text));
          range.collapse(false);
        } else el.append(text);
        this.fire(el, 'input', { inputType: 'insertText', data: text });
      }
      return OK;
    }
    // Nothing editable is focused: the page may listen to keys (shortcuts, games).
    for (const ch of Array.from(text).slice(0, 64)) {
      this.fire(el, 'keydown', { key: ch });
      this.fire(el, 'keypress', { key: ch, charCode: ch.codePointAt(0) });
      this.fire(el, 'keyup', { key: ch });
    }
    return OK;
  }

  /** Puts `text` over the field's selection (bounded by maxlength), as typing would. */
  private typeInto(el: HTMLInputElement | HTMLTextAreaElement, text: string, inputType: string): void {
    const [s, e] = selectionOf(el);
    const next = spliceText(String(el.value ?? ''), s, e, text, typeof el.maxLength === 'number' ? el.maxLength : -1);
    this.apply(el, next.value, next.caret, inputType, text);
  }

  /** A field edit: beforeinput (cancelable), the new value through the native setter, the caret, input. */
  private apply(el: HTMLInputElement | HTMLTextAreaElement, value: string, caret: number, inputType: string, data: string | null): void {
    if (!this.fire(el, 'beforeinput', { inputType, data })) return;
    setNativeValue(el, value);
    setCaret(el, caret);
    this.dirty.add(el);
    this.fire(el, 'input', { inputType, data, cancelable: false });
  }

  select(nodeId: number, value: string): ControlResult {
    const el = this.deps.byNodeId(nodeId);
    if (!el || tagOf(el) !== 'SELECT') return no('no-target');
    if (this.deps.isOwnUi(el)) return no('own-ui');
    const select = el as HTMLSelectElement;
    if (select.disabled) return no('locked');
    if (!Array.from(select.options).some((o) => o.value === value && !o.disabled)) return no('invalid');
    setNativeValue(select, value);
    this.fire(select, 'input');
    this.fire(select, 'change');
    return OK;
  }
}
