import { beforeEach, describe, expect, it } from 'vitest';
import { MAX_CONTROL_TEXT } from '@tandem/protocol';
import { ControlExecutor, validInput } from '../src/rtc/control-executor.js';
import { isOwnUi } from '../src/rtc/control.js';
import {
  deepElementFromPoint,
  deleteText,
  isPasswordField,
  nextInOrder,
  sameOriginUrl,
  scrollableAncestor,
  setNativeValue,
  spliceText,
  tabOrder,
} from '../src/rtc/dom-input.js';
import { FakeDoc, FakeEl, FakeInput, fakeMirror, log, trackLikeReact } from './fake-dom.js';

function setup() {
  const doc = new FakeDoc();
  const mirror = fakeMirror();
  const uiHost = new FakeEl(doc, 'tandem-assist', 'ui');
  const pointer: [number, number, boolean][] = [];
  const exec = new ControlExecutor({
    doc: doc as unknown as Document,
    mirror: () => mirror as never,
    isOwnUi: (n) => isOwnUi(n, uiHost as unknown as Element),
    pointer: (x, y, p) => void pointer.push([x, y, p]),
  });
  return { doc, mirror, exec, uiHost, pointer };
}

beforeEach(() => {
  log.length = 0;
});

describe('control executor: pointer', () => {
  it('a click on a node id runs the whole press on that element, inside its box', () => {
    const { doc, mirror, exec, pointer } = setup();
    const btn = doc.add(new FakeEl(doc, 'button', 'buy'), { left: 100, top: 100, width: 80, height: 30 });
    let clicked: any = null;
    btn.addEventListener('click', (e) => (clicked = e));
    // The agent's point is off (scaled view): the press moves into the element.
    expect(exec.run({ type: 'click', x: 5, y: 5, nodeId: mirror.getId(btn) })).toEqual({ ok: true });
    expect(log.filter((l) => l.endsWith('@buy'))).toEqual([
      'pointerover@buy', 'mouseover@buy', 'mouseenter@buy',
      'pointerdown@buy', 'mousedown@buy', 'focus@buy', 'pointerup@buy', 'mouseup@buy', 'click@buy',
    ]);
    expect(clicked.clientX).toBe(140);
    expect(clicked.clientY).toBe(115);
    expect(clicked.button).toBe(0);
    expect(clicked.detail).toBe(1);
    expect(doc.activeElement).toBe(btn);
    expect(pointer.at(-1)).toEqual([140, 115, false]);
  });

  it('falls back to the element at the point when the node id is unknown, down into open shadow roots', () => {
    const { doc, exec } = setup();
    const host = doc.add(new FakeEl(doc, 'div', 'host'), { left: 0, top: 0, width: 200, height: 200 });
    const inner = new FakeEl(doc, 'button', 'inner');
    inner.rect = { left: 10, top: 10, width: 50, height: 20 };
    host.shadowRoot = { elementsFromPoint: (x: number, y: number) => (x < 60 && y < 30 ? [inner, host] : [host]) };
    inner.parentNode = host; // composed parent for bubbling in this fake
    expect(exec.run({ type: 'click', x: 20, y: 15, nodeId: 9_999 })).toEqual({ ok: true });
    expect(log).toContain('click@inner');
  });

  it('never targets the plugin’s own UI: coordinates over it reach the page below, node ids in it are refused', () => {
    const { doc, mirror, exec, uiHost } = setup();
    const below = doc.add(new FakeEl(doc, 'button', 'below'), { left: 0, top: 0, width: 100, height: 100 });
    doc.add(uiHost, { left: 0, top: 0, width: 100, height: 100 }, doc.documentElement);
    const stop = new FakeEl(doc, 'button', 'stop');
    uiHost.append(stop);
    expect(exec.run({ type: 'click', x: 50, y: 50 })).toEqual({ ok: true });
    expect(log).toContain('click@below');
    expect(log).not.toContain('click@ui');
    expect(exec.run({ type: 'click', x: 50, y: 50, nodeId: mirror.getId(stop) })).toEqual({ ok: false, reason: 'own-ui' });
    expect(log).not.toContain('click@stop');
    void below;
  });

  it('a drag is mousedown, moves with the button held, mouseup and a click on the common ancestor', () => {
    const { doc, exec } = setup();
    const list = doc.add(new FakeEl(doc, 'div', 'list'), { left: 0, top: 0, width: 300, height: 300 });
    const a = doc.add(new FakeEl(doc, 'div', 'a'), { left: 0, top: 0, width: 100, height: 100 }, list);
    doc.add(new FakeEl(doc, 'div', 'b'), { left: 150, top: 0, width: 100, height: 100 }, list);
    const moves: number[] = [];
    a.addEventListener('mousemove', (e: any) => moves.push(e.buttons));
    exec.run({ type: 'mousedown', x: 10, y: 10, button: 0 });
    exec.run({ type: 'mousemove', x: 20, y: 10 });
    exec.run({ type: 'mouseup', x: 160, y: 10, button: 0 });
    expect(moves).toEqual([1]);
    expect(log.filter((l) => /^(mousedown|mouseup|click)@(a|b|list)$/.test(l))).toEqual(['mousedown@a', 'mousedown@list', 'mouseup@b', 'mouseup@list', 'click@list']);
  });

  it('dblclick is the dblclick event only (the agent sent both clicks already)', () => {
    const { doc, exec } = setup();
    doc.add(new FakeEl(doc, 'div', 'cell'), { left: 0, top: 0, width: 50, height: 50 });
    exec.run({ type: 'dblclick', x: 10, y: 10 });
    expect(log.filter((l) => l.endsWith('@cell') && !l.includes('over') && !l.includes('enter'))).toEqual(['dblclick@cell']);
  });

  it('wheel scrolls the scrollable element under the pointer, else the page; scroll sets positions', () => {
    const { doc, mirror, exec } = setup();
    const box = doc.add(new FakeEl(doc, 'div', 'box'), { left: 0, top: 0, width: 100, height: 100 });
    Object.assign(box, { overflow: 'auto', scrollHeight: 500, clientHeight: 100 });
    const inner = doc.add(new FakeEl(doc, 'p', 'p'), { left: 0, top: 0, width: 100, height: 20 }, box);
    exec.run({ type: 'wheel', x: 10, y: 10, dx: 0, dy: 120, nodeId: mirror.getId(inner) });
    expect(box.scrolls).toEqual([['by', { left: 0, top: 120, behavior: 'instant' }]]);
    exec.run({ type: 'wheel', x: 500, y: 500, dx: 0, dy: 200 });
    expect(doc.win.scrolls).toEqual([['by', { left: 0, top: 200, behavior: 'instant' }]]);
    exec.run({ type: 'scroll', nodeId: mirror.getId(box), left: 0, top: 300 });
    expect(box.scrolls.at(-1)).toEqual(['to', { left: 0, top: 300, behavior: 'instant' }]);
    exec.run({ type: 'scroll', left: 0, top: 0 });
    expect(doc.win.scrolls.at(-1)).toEqual(['to', { left: 0, top: 0, behavior: 'instant' }]);
  });

  it('a page handler cancelling the wheel keeps the page still', () => {
    const { doc, exec } = setup();
    const map = doc.add(new FakeEl(doc, 'div', 'map'), { left: 0, top: 0, width: 100, height: 100 });
    map.addEventListener('wheel', (e) => e.preventDefault());
    exec.run({ type: 'wheel', x: 10, y: 10, dx: 0, dy: 50 });
    expect(doc.win.scrolls).toEqual([]);
  });
});

describe('control executor: typing', () => {
  it('types into a React-controlled input so React sees the change (native setter, then input)', () => {
    const { doc, mirror, exec } = setup();
    const input = doc.add(new FakeInput(doc, 'input', 'name'), { left: 0, top: 0, width: 100, height: 20 });
    input.type = 'text';
    const react = trackLikeReact(input);
    const seen: { value: string; tracked: string; inputType: string }[] = [];
    input.addEventListener('input', (e: any) => seen.push({ value: input.value, tracked: react.tracked(), inputType: e.inputType }));
    exec.run({ type: 'click', x: 5, y: 5, nodeId: mirror.getId(input) });
    expect(exec.run({ type: 'text', text: 'Ada' })).toEqual({ ok: true });
    // React compares its tracked value with the real one: they differ, so onChange runs.
    expect(seen).toEqual([{ value: 'Ada', tracked: '', inputType: 'insertText' }]);
    exec.run({ type: 'text', text: '!' });
    exec.run({ type: 'key', key: 'Backspace' });
    expect(input.value).toBe('Ada');
  });

  it('Enter fires the field’s change and submits its form with requestSubmit', () => {
    const { doc, mirror, exec } = setup();
    const input = doc.add(new FakeInput(doc, 'input', 'q'), { left: 0, top: 0, width: 100, height: 20 });
    let submitted = 0;
    input.form = { requestSubmit: () => submitted++ };
    exec.run({ type: 'click', x: 5, y: 5, nodeId: mirror.getId(input) });
    exec.run({ type: 'text', text: 'mugs' });
    exec.run({ type: 'key', key: 'Enter' });
    expect(submitted).toBe(1);
    expect(log.filter((l) => l.startsWith('change@'))).toEqual(['change@q', 'change@body', 'change@html']);
  });

  it('a page cancelling keydown stops the key’s action', () => {
    const { doc, mirror, exec } = setup();
    const input = doc.add(new FakeInput(doc, 'input', 'q'), { left: 0, top: 0, width: 100, height: 20 });
    let submitted = 0;
    input.form = { requestSubmit: () => submitted++ };
    input.addEventListener('keydown', (e) => e.preventDefault());
    exec.run({ type: 'click', x: 5, y: 5, nodeId: mirror.getId(input) });
    exec.run({ type: 'key', key: 'Enter' });
    expect(submitted).toBe(0);
  });

  it('Tab moves focus to the next focusable and steps over password fields', () => {
    const { doc, mirror, exec } = setup();
    const a = doc.add(new FakeInput(doc, 'input', 'a'), { left: 0, top: 0, width: 10, height: 10 });
    const pw = doc.add(new FakeInput(doc, 'input', 'pw'), { left: 0, top: 20, width: 10, height: 10 });
    pw.type = 'password';
    const b = doc.add(new FakeEl(doc, 'button', 'b'), { left: 0, top: 40, width: 10, height: 10 });
    exec.run({ type: 'click', x: 1, y: 1, nodeId: mirror.getId(a) });
    exec.run({ type: 'key', key: 'Tab' });
    expect(doc.activeElement).toBe(b);
    exec.run({ type: 'key', key: 'Tab', shift: true });
    expect(doc.activeElement).toBe(a);
  });

  it('never fills, focuses or types into a password field', () => {
    const { doc, mirror, exec } = setup();
    const name = doc.add(new FakeInput(doc, 'input', 'name'), { left: 0, top: 0, width: 100, height: 20 });
    const pw = doc.add(new FakeInput(doc, 'input', 'pw'), { left: 0, top: 30, width: 100, height: 20 });
    pw.type = 'password';
    exec.run({ type: 'click', x: 5, y: 5, nodeId: mirror.getId(name) });
    expect(exec.run({ type: 'text', text: 'hunter2', nodeId: mirror.getId(pw) })).toEqual({ ok: false, reason: 'password' });
    // A click on it takes focus out of the previous field but never into the password field.
    exec.run({ type: 'click', x: 5, y: 35, nodeId: mirror.getId(pw) });
    expect(doc.activeElement).not.toBe(pw);
    exec.run({ type: 'text', text: 'x' });
    expect(name.value).toBe('');
    // Focused by the user: still no typing, no Backspace.
    pw.value = 'secret';
    doc.activeElement = pw;
    expect(exec.run({ type: 'text', text: 'x' })).toEqual({ ok: false, reason: 'password' });
    expect(exec.run({ type: 'key', key: 'Backspace' })).toEqual({ ok: false, reason: 'password' });
    expect(pw.value).toBe('secret');
    // "show password" turns the type to text: the autocomplete hint still marks it.
    const shown = doc.add(new FakeInput(doc, 'input', 'shown'), { left: 0, top: 60, width: 100, height: 20 });
    shown.type = 'text';
    shown.setAttribute('autocomplete', 'current-password');
    expect(exec.run({ type: 'text', text: 'x', nodeId: mirror.getId(shown) })).toEqual({ ok: false, reason: 'password' });
  });

  it('contenteditable takes text through execCommand insertText; read-only fields refuse it', () => {
    const { doc, mirror, exec } = setup();
    const ed = doc.add(new FakeEl(doc, 'div', 'ed'), { left: 0, top: 0, width: 100, height: 20 });
    ed.isContentEditable = true;
    exec.run({ type: 'text', text: 'hello', nodeId: mirror.getId(ed) });
    expect(doc.commands).toEqual([['insertText', 'hello']]);
    const ro = doc.add(new FakeInput(doc, 'input', 'ro'), { left: 0, top: 30, width: 100, height: 20 });
    ro.readOnly = true;
    expect(exec.run({ type: 'text', text: 'x', nodeId: mirror.getId(ro) })).toEqual({ ok: false, reason: 'locked' });
  });

  it('select sets an existing option’s value with input and change', () => {
    const { doc, mirror, exec } = setup();
    const sel = doc.add(new FakeInput(doc, 'select', 'size'), { left: 0, top: 0, width: 100, height: 20 });
    (sel as any).options = [{ value: 's' }, { value: 'm' }, { value: 'xl', disabled: true }];
    expect(exec.run({ type: 'select', nodeId: mirror.getId(sel), value: 'm' })).toEqual({ ok: true });
    expect(sel.value).toBe('m');
    expect(log.filter((l) => l.endsWith('@size'))).toEqual(['input@size', 'change@size']);
    expect(exec.run({ type: 'select', nodeId: mirror.getId(sel), value: 'xl' })).toEqual({ ok: false, reason: 'invalid' });
  });

  it('navigates within the site only', () => {
    const { doc, exec } = setup();
    expect(exec.run({ type: 'navigate', url: '/checkout?step=2' })).toEqual({ ok: true });
    expect(doc.visited).toEqual(['https://shop.test/checkout?step=2']);
    for (const url of ['https://evil.test/', 'javascript:alert(1)', 'http://shop.test/', 'data:text/html,x']) {
      expect(exec.run({ type: 'navigate', url })).toEqual({ ok: false, reason: 'cross-origin' });
    }
    expect(doc.visited).toHaveLength(1);
  });

  it('refuses malformed input', () => {
    const { exec } = setup();
    for (const bad of [null, {}, { type: 'click', x: 'a', y: 1 }, { type: 'text', text: 'x'.repeat(MAX_CONTROL_TEXT + 1) }, { type: 'key', key: '' }, { type: 'wheel', x: 1, y: 1, dx: Infinity, dy: 0 }, { type: 'eval' }]) {
      expect(validInput(bad)).toBe(false);
      expect(exec.run(bad as never)).toEqual({ ok: false, reason: 'invalid' });
    }
  });
});

describe('dom helpers', () => {
  it('setNativeValue goes past an own `value` property to the prototype’s setter', () => {
    const doc = new FakeDoc();
    const input = new FakeInput(doc, 'input');
    const react = trackLikeReact(input);
    setNativeValue(input as unknown as Element, 'abc');
    expect(input.value).toBe('abc');
    expect(react.tracked()).toBe(''); // React's tracker did not see our write
    input.value = 'x'; // a framework write goes through its tracker
    expect(react.tracked()).toBe('x');
  });

  it('spliceText and deleteText edit at the selection, within maxlength', () => {
    expect(spliceText('hello', 5, 5, ' world')).toEqual({ value: 'hello world', caret: 11 });
    expect(spliceText('hello', 1, 4, 'EL')).toEqual({ value: 'hELo', caret: 3 });
    expect(spliceText('abc', 3, 3, 'defg', 5)).toEqual({ value: 'abcde', caret: 5 });
    expect(deleteText('abc', 3, 3, true)).toEqual({ value: 'ab', caret: 2 });
    expect(deleteText('abc', 0, 0, false)).toEqual({ value: 'bc', caret: 0 });
    expect(deleteText('abc', 0, 2, true)).toEqual({ value: 'c', caret: 0 });
    expect(deleteText('abc', 0, 0, true)).toEqual({ value: 'abc', caret: 0 });
  });

  it('isPasswordField by type or autocomplete hint', () => {
    const doc = new FakeDoc();
    const mk = (type: string, ac?: string) => {
      const i = new FakeInput(doc, 'input');
      i.type = type;
      if (ac) i.setAttribute('autocomplete', ac);
      return i as unknown as Element;
    };
    expect(isPasswordField(mk('password'))).toBe(true);
    expect(isPasswordField(mk('PASSWORD'))).toBe(true);
    expect(isPasswordField(mk('text', 'new-password'))).toBe(true);
    expect(isPasswordField(mk('text', 'username'))).toBe(false);
    expect(isPasswordField(new FakeEl(doc, 'div') as unknown as Element)).toBe(false);
  });

  it('tab order: positive tabindex first, then document order, wrapping', () => {
    const els = [{ tabIndex: 0, n: 'a' }, { tabIndex: 2, n: 'b' }, { tabIndex: 0, n: 'c' }, { tabIndex: 1, n: 'd' }];
    const order = tabOrder(els);
    expect(order.map((e) => e.n)).toEqual(['d', 'b', 'a', 'c']);
    expect(nextInOrder(order, order[3]!, false)!.n).toBe('d');
    expect(nextInOrder(order, order[0]!, true)!.n).toBe('c');
    expect(nextInOrder(order, null, false)!.n).toBe('d');
    expect(nextInOrder([], null, false)).toBeNull();
  });

  it('sameOriginUrl', () => {
    expect(sameOriginUrl('/a', 'https://x.test/b')).toBe('https://x.test/a');
    expect(sameOriginUrl('https://x.test:8443/', 'https://x.test/')).toBeNull();
    expect(sameOriginUrl('http://[bad', 'https://x.test/')).toBeNull();
  });

  it('deepElementFromPoint skips our UI and descends open shadow roots', () => {
    const doc = new FakeDoc();
    const ours = new FakeEl(doc, 'tandem-assist');
    const page = new FakeEl(doc, 'div');
    const deep = new FakeEl(doc, 'span');
    page.shadowRoot = { elementsFromPoint: () => [deep, page] };
    const d = { elementsFromPoint: () => [ours, page] } as unknown as Document;
    expect(deepElementFromPoint(d, 1, 1, (e) => e === (ours as unknown as Element))).toBe(deep);
  });

  it('scrollableAncestor finds room in the wheel’s direction', () => {
    const doc = new FakeDoc();
    const box = doc.add(new FakeEl(doc, 'div'));
    Object.assign(box, { overflow: 'scroll', scrollHeight: 300, clientHeight: 100, scrollTop: 200 });
    const child = doc.add(new FakeEl(doc, 'p'), undefined, box);
    const style = (e: Element) => ({ overflowX: (e as any).overflow, overflowY: (e as any).overflow }) as CSSStyleDeclaration;
    expect(scrollableAncestor(child as unknown as Element, 0, 50, style)).toBeNull(); // at the bottom already
    expect(scrollableAncestor(child as unknown as Element, 0, -50, style)).toBe(box);
  });
});
