import { describe, expect, it } from 'vitest';
import { withDeferredScrolls } from '../src/lib/player/deferred-scroll';

/** A stand-in for the replay iframe's realm: its window's own `scrollTo` and its `Element.prototype.scrollTo`. */
function fakeRealm() {
  const calls: string[] = [];
  class FakeElement {
    constructor(readonly name: string) {}
  }
  (FakeElement.prototype as any).scrollTo = function (this: FakeElement, opts: ScrollToOptions) {
    calls.push(`${this.name}→${opts.top}`);
  };
  const win: any = { Element: FakeElement };
  win.scrollTo = (opts: ScrollToOptions | number, y?: number) => calls.push(`window→${typeof opts === 'number' ? y : opts.top}`);
  return { win, FakeElement, calls };
}

describe('scrolls deferred while a Replayer is positioned', () => {
  it('scrolls each target once, to its last position, after positioning, in the order of last scrolls', () => {
    const { win, FakeElement, calls } = fakeRealm();
    const list = new FakeElement('list');
    const log: string[] = [];
    withDeferredScrolls(win, () => {
      win.scrollTo({ top: 10 });
      (list as any).scrollTo({ top: 5 });
      win.scrollTo({ top: 300 });
      log.push(`during: ${calls.length} scrolls`);
      (list as any).scrollTo({ top: 40 });
    });
    expect(log).toEqual(['during: 0 scrolls']);
    expect(calls).toEqual(['window→300', 'list→40']);
  });

  it('puts the real scrollTo back afterwards, also when positioning throws', () => {
    const { win, FakeElement, calls } = fakeRealm();
    const own = win.scrollTo;
    const proto = (FakeElement.prototype as any).scrollTo;
    expect(() =>
      withDeferredScrolls(win, () => {
        win.scrollTo(0, 70);
        throw new Error('rrweb failed');
      }),
    ).toThrow('rrweb failed');
    expect(win.scrollTo).toBe(own);
    expect((FakeElement.prototype as any).scrollTo).toBe(proto);
    expect(Object.prototype.hasOwnProperty.call(FakeElement.prototype, 'scrollTo')).toBe(true);
    win.scrollTo({ top: 1 });
    expect(calls).toEqual(['window→1']);
  });

  it('just positions without a window (a destroyed Replayer)', () => {
    let ran = false;
    withDeferredScrolls(null, () => (ran = true));
    expect(ran).toBe(true);
  });
});
