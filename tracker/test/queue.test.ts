import { describe, expect, it } from 'vitest';
import { installQueue, readScriptConfig, type TandemGlobal } from '../src/queue.js';
import type { Tracker } from '../src/tracker.js';

function fakeTracker() {
  const calls: unknown[][] = [];
  let sessionCb: ((s: { sessionId: string }) => void) | undefined;
  const t = {
    start: async () => void calls.push(['start']),
    stop: async () => void calls.push(['stop']),
    identify: (...a: unknown[]) => void calls.push(['identify', ...a]),
    event: (...a: unknown[]) => void calls.push(['event', ...a]),
    onSession: (cb: (s: { sessionId: string }) => void) => {
      sessionCb = cb;
      return () => {};
    },
  };
  return { t: t as unknown as Tracker, calls, session: (id: string) => sessionCb?.({ sessionId: id }) };
}

/** What the page's stub does before the script loads. */
function stub(win: { Tandem?: TandemGlobal }) {
  const f = function (...args: unknown[]) {
    (f.q = f.q || []).push(args);
  } as TandemGlobal;
  win.Tandem = f;
  return f;
}

describe('command queue', () => {
  it('replays queued calls in order, then autostarts (so identify is in the start request)', () => {
    const win: { Tandem?: TandemGlobal } = {};
    stub(win);
    win.Tandem!('identify', 'u1', { plan: 'pro' });
    win.Tandem!('event', 'signup', { step: 1 });
    const fake = fakeTracker();
    let opts: unknown;
    installQueue(win, { projectKey: 'pk', ingestUrl: 'https://h.test', autostart: true }, (o) => {
      opts = o;
      return fake.t;
    });
    expect(opts).toMatchObject({ projectKey: 'pk', ingestUrl: 'https://h.test' });
    expect(fake.calls).toEqual([['identify', 'u1', { plan: 'pro' }], ['event', 'signup', { step: 1 }], ['start']]);
    expect(win.Tandem!.tracker).toBe(fake.t);
  });

  it('runs calls made after load at once', () => {
    const win: { Tandem?: TandemGlobal } = {};
    const fake = fakeTracker();
    installQueue(win, { projectKey: 'pk', ingestUrl: 'h', autostart: true }, () => fake.t);
    win.Tandem!('event', 'late');
    expect(fake.calls.at(-1)).toEqual(['event', 'late', undefined]);
  });

  it('autostart=false and a queued stop keep it from starting', () => {
    const a = fakeTracker();
    installQueue({}, { projectKey: 'pk', ingestUrl: 'h', autostart: false }, () => a.t);
    expect(a.calls).toEqual([]);
    const b = fakeTracker();
    const win: { Tandem?: TandemGlobal } = {};
    stub(win);
    win.Tandem!('stop');
    installQueue(win, { projectKey: 'pk', ingestUrl: 'h', autostart: true }, () => b.t);
    expect(b.calls).toEqual([['stop']]);
  });

  it('getSessionId calls back once the session is known', () => {
    const fake = fakeTracker();
    const win: { Tandem?: TandemGlobal } = {};
    installQueue(win, { projectKey: 'pk', ingestUrl: 'h', autostart: true }, () => fake.t);
    const got: unknown[] = [];
    win.Tandem!('getSessionId', (id: string) => got.push(id));
    fake.session('S1');
    expect(got).toEqual(['S1']);
  });

  it('waits for a queued init when the tag has no key', () => {
    const win: { Tandem?: TandemGlobal } = {};
    stub(win);
    win.Tandem!('event', 'early');
    win.Tandem!('init', { projectKey: 'late-key' });
    const fake = fakeTracker();
    let key = '';
    installQueue(win, { ingestUrl: 'h', autostart: true }, (o) => {
      key = o.projectKey;
      return fake.t;
    });
    expect(key).toBe('late-key');
    expect(fake.calls).toEqual([['event', 'early', undefined], ['start']]);
  });

  it('an unknown or failing command never throws into the page', () => {
    const win: { Tandem?: TandemGlobal } = {};
    installQueue(win, { projectKey: 'pk', ingestUrl: 'h', autostart: false }, () => fakeTracker().t);
    expect(() => win.Tandem!('nope')).not.toThrow();
    expect(() => win.Tandem!('identify')).not.toThrow();
  });
});

describe('readScriptConfig', () => {
  it('takes key, autostart and the origin the script came from', () => {
    const script = { src: 'https://cdn.tandem.test/tracker.js', dataset: { projectKey: 'K', autostart: 'false' } } as unknown as HTMLScriptElement;
    expect(readScriptConfig(script, 'https://shop.test')).toEqual({
      projectKey: 'K',
      ingestUrl: 'https://cdn.tandem.test',
      autostart: false,
      privacy: undefined,
      assist: true,
    });
    expect(readScriptConfig(null, 'https://shop.test')).toMatchObject({ ingestUrl: 'https://shop.test', autostart: true, assist: true });
  });

  it('data-assist="false" leaves the live assist plugin out', () => {
    const script = { src: 'https://t.test/tracker.js', dataset: { projectKey: 'K', assist: 'false' } } as unknown as HTMLScriptElement;
    expect(readScriptConfig(script, 'https://shop.test').assist).toBe(false);
  });
});

describe('assist and watch link commands', () => {
  it('passes the assist switch to the factory (tag and init)', () => {
    const seen: boolean[] = [];
    installQueue({}, { projectKey: 'pk', ingestUrl: 'h', autostart: false, assist: true }, (_o, extra) => {
      seen.push(extra.assist);
      return fakeTracker().t;
    });
    installQueue({}, { projectKey: 'pk', ingestUrl: 'h', autostart: false, assist: false }, (_o, extra) => {
      seen.push(extra.assist);
      return fakeTracker().t;
    });
    const win: { Tandem?: TandemGlobal } = {};
    stub(win);
    win.Tandem!('init', { projectKey: 'k', assist: false });
    let opts: Record<string, unknown> = {};
    installQueue(win, { ingestUrl: 'h', autostart: false }, (o, extra) => {
      opts = o as unknown as Record<string, unknown>;
      seen.push(extra.assist);
      return fakeTracker().t;
    });
    expect(seen).toEqual([true, false, false]);
    expect('assist' in opts).toBe(false); // not passed on as a tracker option
  });

  it("Tandem('getWatchLink', cb) calls cb(url, null) or cb(null, error)", async () => {
    const fake = fakeTracker();
    let answer: Promise<string> = Promise.resolve('https://h.test/watch/abc');
    (fake.t as unknown as { getWatchLink: () => Promise<string> }).getWatchLink = () => answer;
    const win: { Tandem?: TandemGlobal } = {};
    installQueue(win, { projectKey: 'pk', ingestUrl: 'h', autostart: false }, () => fake.t);
    const got: unknown[][] = [];
    win.Tandem!('getWatchLink', (...a: unknown[]) => got.push(a));
    await new Promise((r) => setTimeout(r, 0));
    const err = new Error('nope');
    answer = Promise.reject(err);
    win.Tandem!('getWatchLink', (...a: unknown[]) => got.push(a));
    await new Promise((r) => setTimeout(r, 0));
    expect(got).toEqual([
      ['https://h.test/watch/abc', null],
      [null, err],
    ]);
    // a callback that throws stays contained
    answer = Promise.resolve('u');
    win.Tandem!('getWatchLink', () => {
      throw new Error('page bug');
    });
    await new Promise((r) => setTimeout(r, 0));
  });

  it("Tandem('assistState', cb) gives the plugin's state, or null without it", () => {
    const fake = fakeTracker();
    const state = { connected: true, forwarding: false };
    let plugin: unknown = { name: 'assist', setup() {}, assistState: () => state };
    (fake.t as unknown as { plugin: (n: string) => unknown }).plugin = (n) => (n === 'assist' ? plugin : undefined);
    const win: { Tandem?: TandemGlobal } = {};
    installQueue(win, { projectKey: 'pk', ingestUrl: 'h', autostart: false }, () => fake.t);
    const got: unknown[] = [];
    win.Tandem!('assistState', (s: unknown) => got.push(s));
    plugin = undefined;
    win.Tandem!('assistState', (s: unknown) => got.push(s));
    expect(got).toEqual([state, null]);
  });
});
