/**
 * The smallest DOM the control executor and the chunk's UI touch, on Node's own EventTarget/Event
 * (no DOM library in these unit tests; the real thing is exercised in Chromium by e2e/). Elements
 * have a hit-test rectangle; events really dispatch and bubble through `parentNode`.
 */

export class FakeEvent extends Event {
  constructor(type: string, init: Record<string, unknown> = {}) {
    super(type, init as EventInit);
    for (const [k, v] of Object.entries(init)) if (!(k in Event.prototype) && k !== 'bubbles' && k !== 'cancelable' && k !== 'composed') (this as any)[k] = v;
  }
}
export class MouseEvent extends FakeEvent {}
export class PointerEvent extends FakeEvent {}
export class WheelEvent extends FakeEvent {}
export class KeyboardEvent extends FakeEvent {}
export class InputEvent extends FakeEvent {}

/** A log of every event dispatched anywhere, as `type@id`. */
export const log: string[] = [];

export class FakeEl extends EventTarget {
  nodeType = 1;
  readonly tagName: string;
  parentNode: FakeEl | FakeDoc | null = null;
  children: FakeEl[] = [];
  attrs = new Map<string, string>();
  rect = { left: 0, top: 0, width: 0, height: 0 };
  textContent = '';
  hidden = false;
  disabled = false;
  readOnly = false;
  tabIndex = -1;
  isContentEditable = false;
  shadowRoot: any = null;
  type = '';
  maxLength = -1;
  form: any = null;
  scrollTop = 0;
  scrollLeft = 0;
  scrollHeight = 0;
  clientHeight = 0;
  scrollWidth = 0;
  clientWidth = 0;
  overflow = 'visible';
  style: Record<string, any> = { setProperty() {} };
  classList = { toggle() {}, add() {}, remove() {}, contains: () => false };
  scrolls: unknown[] = [];

  constructor(readonly doc: FakeDoc, tag: string, readonly id = '') {
    super();
    this.tagName = tag.toUpperCase();
    if (['INPUT', 'BUTTON', 'SELECT', 'TEXTAREA'].includes(this.tagName)) this.tabIndex = 0;
  }
  get parentElement(): FakeEl | null {
    return this.parentNode instanceof FakeEl ? this.parentNode : null;
  }
  get isConnected(): boolean {
    let n: any = this.parentNode;
    while (n instanceof FakeEl) n = n.parentNode;
    return n === this.doc;
  }
  setAttribute(k: string, v: string) {
    this.attrs.set(k, String(v));
    if (k === 'tabindex') this.tabIndex = Number(v);
  }
  getAttribute(k: string) {
    return this.attrs.get(k) ?? null;
  }
  hasAttribute(k: string) {
    return this.attrs.has(k);
  }
  append(...nodes: (FakeEl | string)[]) {
    for (const n of nodes) {
      if (typeof n === 'string') this.textContent += n;
      else {
        n.remove();
        n.parentNode = this;
        this.children.push(n);
      }
    }
  }
  appendChild(n: FakeEl) {
    this.append(n);
    return n;
  }
  prepend(n: FakeEl) {
    n.remove();
    n.parentNode = this;
    this.children.unshift(n);
  }
  after(n: FakeEl) {
    const p = this.parentNode as FakeEl;
    n.remove();
    n.parentNode = p;
    p.children.splice(p.children.indexOf(this) + 1, 0, n);
  }
  remove() {
    const p = this.parentNode as FakeEl | null;
    if (p && 'children' in p) p.children = p.children.filter((c) => c !== this);
    this.parentNode = null;
  }
  getRootNode() {
    return this.doc;
  }
  getBoundingClientRect() {
    const { left, top, width, height } = this.rect;
    return { left, top, width, height, right: left + width, bottom: top + height, x: left, y: top };
  }
  matches(_sel: string) {
    return ['INPUT', 'BUTTON', 'SELECT', 'TEXTAREA'].includes(this.tagName) || this.hasAttribute('tabindex') || (this.tagName === 'A' && this.hasAttribute('href')) || this.isContentEditable;
  }
  querySelectorAll(sel: string): FakeEl[] {
    const out: FakeEl[] = [];
    const walk = (e: FakeEl) => {
      for (const c of e.children) {
        if (sel === '*' || c.tagName === sel.toUpperCase()) out.push(c);
        walk(c);
      }
    };
    walk(this);
    return out;
  }
  focus() {
    this.doc.activeElement = this;
    log.push(`focus@${this.id}`);
  }
  blur() {
    if (this.doc.activeElement === this) this.doc.activeElement = this.doc.body;
    log.push(`blur@${this.id}`);
  }
  click() {
    this.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true }));
  }
  scrollBy(o: unknown) {
    this.scrolls.push(['by', o]);
  }
  scrollTo(o: unknown) {
    this.scrolls.push(['to', o]);
  }
  setSelectionRange(s: number, e: number) {
    (this as any).selectionStart = s;
    (this as any).selectionEnd = e;
  }
  override dispatchEvent(ev: Event): boolean {
    log.push(`${ev.type}@${this.id}`);
    // Bubble by hand through parentNode (Node's EventTarget has no tree).
    const ok = super.dispatchEvent(ev);
    if (ev.bubbles && this.parentNode instanceof FakeEl && !(ev as any).__stopped) {
      const clone = new (ev.constructor as any)(ev.type, { ...(ev as any), bubbles: true, cancelable: ev.cancelable });
      const parentOk = this.parentNode.dispatchEvent(clone);
      if (!parentOk) return false;
    }
    return ok && !ev.defaultPrevented;
  }
}

/** An input whose `value` lives on the prototype, like HTMLInputElement's. */
export class FakeInput extends FakeEl {
  #value = '';
  selectionStart: number | null = 0;
  selectionEnd: number | null = 0;
  get value() {
    return this.#value;
  }
  set value(v: string) {
    this.#value = String(v);
    this.selectionStart = this.selectionEnd = this.#value.length;
  }
}

/**
 * React's value tracking, as react-dom does it: an own `value` property on the node that records
 * what the framework wrote. React ignores an `input` event when the tracked value equals the real one.
 */
export function trackLikeReact(input: FakeInput): { tracked: () => string } {
  const proto = Object.getPrototypeOf(input);
  const desc = Object.getOwnPropertyDescriptor(proto, 'value')!;
  let tracked = desc.get!.call(input);
  Object.defineProperty(input, 'value', {
    configurable: true,
    get() {
      return desc.get!.call(this);
    },
    set(v: string) {
      tracked = String(v);
      desc.set!.call(this, v);
    },
  });
  return { tracked: () => tracked };
}

export class FakeDoc extends EventTarget {
  body: FakeEl;
  documentElement: FakeEl;
  activeElement: FakeEl | null = null;
  location = { href: 'https://shop.test/cart', assign: (u: string) => void this.visited.push(u) };
  visited: string[] = [];
  commands: [string, string | undefined][] = [];
  win: any;
  constructor() {
    super();
    this.documentElement = new FakeEl(this, 'html', 'html');
    this.documentElement.parentNode = this as any;
    this.documentElement.rect = { left: 0, top: 0, width: 1000, height: 800 }; // the viewport
    this.body = new FakeEl(this, 'body', 'body');
    this.documentElement.append(this.body);
    this.activeElement = this.body;
    const scrolls: unknown[] = [];
    this.win = {
      MouseEvent,
      PointerEvent,
      WheelEvent,
      KeyboardEvent,
      InputEvent,
      Event: FakeEvent,
      screenX: 0,
      screenY: 0,
      innerWidth: 1000,
      innerHeight: 800,
      scrolls,
      scrollBy: (o: unknown) => scrolls.push(['by', o]),
      scrollTo: (o: unknown) => scrolls.push(['to', o]),
      getComputedStyle: (el: FakeEl) => ({ overflowX: el.overflow, overflowY: el.overflow }),
      getSelection: () => null,
    };
  }
  get defaultView() {
    return this.win;
  }
  createElement(tag: string) {
    return tag.toLowerCase() === 'input' || tag.toLowerCase() === 'textarea' ? new FakeInput(this, tag) : new FakeEl(this, tag);
  }
  /** Adds an element under body with a rectangle (for hit tests). */
  add<T extends FakeEl>(el: T, rect?: FakeEl['rect'], parent: FakeEl = this.body): T {
    if (rect) el.rect = rect;
    parent.append(el);
    return el;
  }
  querySelectorAll(sel: string): FakeEl[] {
    return [this.documentElement, ...this.documentElement.querySelectorAll(sel)].filter((e) => sel === '*' || e.tagName === sel.toUpperCase());
  }
  elementsFromPoint(x: number, y: number): FakeEl[] {
    const all = [this.documentElement, ...this.documentElement.querySelectorAll('*')];
    const hit = all.filter((e) => {
      const r = e.getBoundingClientRect();
      return x >= r.left && x <= r.right && y >= r.top && y <= r.bottom && r.width > 0;
    });
    return hit.reverse(); // later (deeper) first, like the topmost
  }
  elementFromPoint(x: number, y: number) {
    return this.elementsFromPoint(x, y)[0] ?? null;
  }
  execCommand(cmd: string, _ui?: boolean, value?: string) {
    this.commands.push([cmd, value]);
    return true;
  }
}

/** A mirror that numbers nodes on demand (as the recorder would have). */
export function fakeMirror() {
  const ids = new Map<unknown, number>();
  const nodes = new Map<number, unknown>();
  let next = 1;
  return {
    getId(n: any) {
      if (!n) return -1;
      if (!ids.has(n)) {
        ids.set(n, next);
        nodes.set(next++, n);
      }
      return ids.get(n)!;
    },
    getNode(id: number) {
      return (nodes.get(id) as any) ?? null;
    },
  };
}
