import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PROTOCOL_VERSION } from '@tandem/protocol';
import { AGENTS_GRACE_MS, createAssist, type AssistOptions } from '../src/plugin.js';
import { RESUME_KEY_PREFIX } from '../src/handshake.js';
import { RUN_LOG_KEEP_MS } from '../src/run-log.js';
import { FakeHost, FakeSocket, fakeIo } from './fakes.js';
import { FULL, META } from './helpers.js';

const S1 = { sessionId: 'sess-1', tabId: 'tab-1', visitorId: 'vis-1', token: 'tok-1' };

function memoryStorage() {
  const m = new Map<string, string>();
  return { m, getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
}

function setup(options: AssistOptions = {}) {
  const host = new FakeHost();
  const storage = memoryStorage();
  const tasks: (() => void)[] = [];
  const plugin = createAssist(options, { io: fakeIo, storage, doc: null, schedule: (fn) => void tasks.push(fn), random: () => 1 });
  plugin.setup(host);
  const tick = () => {
    for (const t of tasks.splice(0)) t();
  };
  const sock = () => FakeSocket.all[FakeSocket.all.length - 1];
  return { host, storage, plugin, tick, sock };
}

beforeEach(() => {
  FakeSocket.all = [];
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('assist plugin', () => {
  it('connects once the tracker has a session, websocket first with polling fallback, auth as a function', () => {
    const { host, sock } = setup();
    expect(FakeSocket.all).toEqual([]);
    host.setSession(S1);
    const s = sock();
    expect(s.url).toBe('https://tandem.test/assist');
    expect(s.opts).toMatchObject({ path: '/socket.io', transports: ['websocket', 'polling'], tryAllTransports: true, forceNew: true });
    expect(typeof s.opts.auth).toBe('function');
    expect(host.ignored).toEqual(['https://tandem.test/socket.io/']);
    s.accept();
    expect(s.handshakes[0]).toEqual({
      role: 'tab',
      v: PROTOCOL_VERSION,
      token: 'tok-1',
      resume: false,
      page: { url: 'https://shop.test/cart?token=[redacted]', title: 'Cart', visible: false, focused: false },
    });
  });

  it('resume is true on a socket reconnect and on the next page of the same tab', () => {
    const { host, sock, storage } = setup();
    host.setSession(S1);
    sock().accept();
    expect(storage.m.get(RESUME_KEY_PREFIX + 'tab-1')).toBe('1');
    sock().serverDrop();
    sock().accept(); // socket.io reconnects and calls auth again
    expect(sock().handshakes.map((h) => h.resume)).toEqual([false, true]);

    // next page, same tab: a new plugin reads the flag from sessionStorage
    FakeSocket.all = [];
    const host2 = new FakeHost();
    const p2 = createAssist({}, { io: fakeIo, storage, doc: null });
    p2.setup(host2);
    host2.setSession(S1);
    FakeSocket.all[0].accept();
    expect(FakeSocket.all[0].handshakes[0].resume).toBe(true);
  });

  it('sends nothing but page info (and the clock) until live:start', async () => {
    const { host, sock, tick, plugin } = setup();
    host.setSession(S1);
    sock().accept();
    for (let i = 0; i < 20; i++) host.publish();
    tick();
    await vi.runAllTimersAsync();
    expect(sock().names().filter((n) => n !== 'clock:ping' && n !== 'clock:offset' && n !== 'tab:page')).toEqual([]);
    expect(plugin.assistState()).toMatchObject({ connected: true, forwarding: false, sentMessages: 0, lastForwardedSeq: -1 });
    expect(host.snapshots).toBe(0);
  });

  it('closes its socket when the site stops the tracker, and connects afresh on the next start', () => {
    const { host, sock, plugin } = setup();
    host.setSession(S1);
    const first = sock();
    first.accept();
    first.fire('agents', [{ id: 'a1', name: 'Ada', via: 'login' }]);
    first.fire('live:start', { reason: 'join' });
    expect(plugin.assistState()).toMatchObject({ connected: true, forwarding: true });
    host.stop();
    expect(first.names().at(-1)).toBe('tab:leave');
    expect(first.disconnectCalls).toBe(1);
    expect(plugin.assistState()).toMatchObject({ connected: false, forwarding: false, agents: [] });
    // start() again: the tracker announces its session (a new token), and the plugin reconnects.
    host.setSession({ ...S1, token: 'tok-2' });
    expect(FakeSocket.all).toHaveLength(2);
    sock().accept();
    expect(sock().handshakes[0].token).toBe('tok-2');
    expect(plugin.assistState().connected).toBe(true);
  });

  it('live:start: switches the recorder to live sampling once (its restart is the snapshot), then snapshots on resyncs', () => {
    const { host, sock, tick } = setup();
    const switched: boolean[] = [];
    let live = false;
    (host as unknown as { setLiveSampling(on: boolean): boolean }).setLiveSampling = (on: boolean) => {
      switched.push(on);
      if (live === on) return false;
      live = on;
      // The restarted recorder draws its own Meta + FullSnapshot.
      host.publish(META);
      host.publish(FULL);
      return true;
    };
    host.setSession(S1);
    sock().accept();
    sock().fire('live:start', { reason: 'join' });
    expect(switched).toEqual([true]);
    expect(host.snapshots).toBe(0);
    tick();
    expect(sock().liveBatches()).toEqual([[0, 1]]);
    sock().fire('live:start', { reason: 'gap' });
    expect(host.snapshots).toBe(1);
    tick();
    expect(sock().liveBatches()).toEqual([[0, 1], [2, 3]]);
  });

  it('live:start: takes a full snapshot and sends it at once, then forwards from its Meta on, one message per macrotask', () => {
    const { host, sock, tick, plugin } = setup();
    host.setSession(S1);
    sock().accept();
    host.publish();
    host.publish();
    sock().fire('live:start', { reason: 'join' });
    expect(host.snapshots).toBe(1);
    // The snapshot (Meta + FullSnapshot) is on the wire before anything queued behind live:start runs.
    expect(sock().liveBatches()).toEqual([[2, 3]]);
    host.publish();
    host.publish();
    tick();
    expect(sock().liveBatches()).toEqual([[2, 3], [4, 5]]);
    host.publish();
    tick();
    expect(sock().liveBatches()).toEqual([[2, 3], [4, 5], [6]]);
    expect(plugin.assistState()).toMatchObject({ forwarding: true, lastForwardedSeq: 6, sentMessages: 3, sentEvents: 5, runs: 1 });

    sock().fire('live:stop');
    host.publish();
    tick();
    expect(sock().liveBatches().length).toBe(3);
    expect(plugin.assistState().forwarding).toBe(false);
    // The run log stays for RUN_LOG_KEEP_MS (an agent coming back gets it), then goes.
    expect(host.listeners.size).toBe(2);
    vi.advanceTimersByTime(RUN_LOG_KEEP_MS);
    expect(host.listeners.size).toBe(1); // only the cheap page-visit listener is left
  });

  it('resync (live:start while forwarding) starts a new run with a new snapshot', () => {
    const { host, sock, tick, plugin } = setup();
    host.setSession(S1);
    sock().accept();
    sock().fire('live:start', { reason: 'join' });
    tick();
    sock().fire('live:start', { reason: 'gap' });
    tick();
    expect(host.snapshots).toBe(2);
    expect(sock().liveBatches()).toEqual([[0, 1], [2, 3]]);
    expect(plugin.assistState().runs).toBe(2);
  });

  it('a seq jump on the bus starts a new run with a new snapshot (taken in a later task)', () => {
    const { host, sock, tick, plugin } = setup();
    host.setSession(S1);
    sock().accept();
    sock().fire('live:start', { reason: 'join' });
    tick();
    host.seq += 10; // the tracker renumbered (bfcache restore)
    host.publish(); // seq 12: jump
    expect(host.snapshots).toBe(1);
    vi.advanceTimersByTime(0);
    expect(host.snapshots).toBe(2);
    tick();
    expect(sock().liveBatches()).toEqual([[0, 1], [13, 14]]);
    expect(plugin.assistState()).toMatchObject({ runs: 2, gaps: 1 });
  });

  it('disconnect stops forwarding and clears socket.io sendBuffer; reconnect waits for the server to start again', () => {
    const { host, sock, tick, plugin } = setup();
    host.setSession(S1);
    sock().accept();
    sock().fire('live:start', { reason: 'join' });
    expect(sock().liveBatches()).toEqual([[0, 1]]); // the snapshot goes at once
    host.publish();
    sock().sendBuffer.push({ stale: true });
    sock().serverDrop();
    tick();
    expect(sock().sendBuffer).toEqual([]);
    expect(sock().liveBatches()).toEqual([[0, 1]]); // the queued event was dropped, not sent on reconnect
    expect(plugin.assistState()).toMatchObject({ connected: false, forwarding: false });
    sock().accept();
    host.publish();
    tick();
    expect(sock().liveBatches()).toEqual([[0, 1]]);
    sock().fire('live:start', { reason: 'join' });
    tick();
    // The run kept on the bus (its snapshot and everything since, the drop included) is the new start.
    expect(sock().liveBatches()).toEqual([[0, 1], [0, 1, 2, 3]]);
    expect(host.snapshots).toBe(1);
    expect(plugin.assistState()).toMatchObject({ runs: 2, reusedRuns: 1 });
  });

  it('a join within RUN_LOG_KEEP_MS gets the kept run (no new snapshot); a resync, a later join, Stop and a consent request take a fresh one', () => {
    const { host, sock, tick, plugin } = setup();
    host.setSession(S1);
    sock().accept();
    sock().fire('live:start', { reason: 'join' });
    host.publish(); // 2
    tick();
    sock().fire('live:stop');
    host.publish(); // 3: the page changed while nobody watched
    sock().fire('live:start', { reason: 'join' });
    expect(host.snapshots).toBe(1);
    expect(sock().liveBatches().at(-1)).toEqual([0, 1, 2, 3]); // sent at once, as a snapshot is
    host.publish(); // 4 follows the replayed run
    tick();
    expect(sock().liveBatches().at(-1)).toEqual([4]);
    expect(plugin.assistState()).toMatchObject({ runs: 2, reusedRuns: 1 });

    // A resync asks for a new picture: a fresh snapshot (which starts the next kept run).
    sock().fire('live:start', { reason: 'gap' });
    expect(host.snapshots).toBe(2);
    expect(sock().liveBatches().at(-1)).toEqual([5, 6]);

    // Nobody watched for RUN_LOG_KEEP_MS: nothing kept, a fresh snapshot.
    sock().fire('live:stop');
    vi.advanceTimersByTime(RUN_LOG_KEEP_MS);
    sock().fire('live:start', { reason: 'join' });
    expect(host.snapshots).toBe(3);
    expect(sock().liveBatches().at(-1)).toEqual([7, 8]);

    // The user's Stop drops what was kept.
    plugin.stop();
    sock().fire('live:start', { reason: 'join' });
    expect(host.snapshots).toBe(4);
    expect(sock().liveBatches().at(-1)).toEqual([9, 10]);

    // So does a consent request: the user is asked about watching from then on.
    sock().fire('live:stop');
    sock().fire('consent:request', { agents: [{ id: 'a2', name: 'Bob', via: 'watch-link' }] });
    plugin.answerConsent(true);
    sock().fire('live:start', { reason: 'join' });
    expect(host.snapshots).toBe(5);
    expect(sock().liveBatches().at(-1)).toEqual([11, 12]);
    expect(plugin.assistState().reusedRuns).toBe(1);
  });

  it('a kept run broken by a seq jump is not reused', () => {
    const { host, sock, plugin } = setup();
    host.setSession(S1);
    sock().accept();
    sock().fire('live:start', { reason: 'join' });
    sock().fire('live:stop');
    host.seq += 10; // the tracker renumbered (bfcache restore)
    host.publish();
    sock().fire('live:start', { reason: 'join' });
    expect(host.snapshots).toBe(2);
    expect(sock().liveBatches().at(-1)).toEqual([13, 14]);
    expect(plugin.assistState().reusedRuns).toBe(0);
  });

  it('a watched tab whose connection is cut reconnects first (0–200 ms); an unwatched one keeps the normal pace', () => {
    const { host, sock } = setup();
    host.setSession(S1);
    sock().accept();
    sock().serverDrop();
    expect(sock().io).toMatchObject({ delay: 1_000, jitter: 0.5 });
    sock().accept();
    sock().fire('live:start', { reason: 'join' });
    sock().serverDrop();
    expect(sock().io).toMatchObject({ delay: 100, jitter: 1 });
    sock().accept(); // back: its next cut is judged afresh
    expect(sock().io).toMatchObject({ delay: 1_000, jitter: 0.5 });
    sock().fire('live:start', { reason: 'join' });
    sock().fire('live:stop');
    sock().serverDrop();
    expect(sock().io).toMatchObject({ delay: 1_000, jitter: 0.5 });
  });

  it('measures the clock after connecting: best of a few pings, then clock:offset', async () => {
    const { host, sock, plugin } = setup();
    host.setSession(S1);
    sock().accept();
    for (let i = 0; i < 5; i++) {
      await vi.advanceTimersByTimeAsync(i === 2 ? 2 : 20);
      const ping = sock().emitted.filter((e) => e[0] === 'clock:ping').at(-1)!;
      const ack = sock().pingAcks.at(-1)!;
      ack(null, (ping[1] as number) + 60_000);
    }
    await vi.advanceTimersByTimeAsync(0);
    const offset = sock().emitted.find((e) => e[0] === 'clock:offset');
    expect(sock().emitted.filter((e) => e[0] === 'clock:ping').length).toBe(5);
    expect(offset?.[1]).toMatchObject({ rttMs: 2 });
    expect((offset?.[1] as { offsetMs: number }).offsetMs).toBeCloseTo(59_999, -1);
    expect(plugin.assistState().clock?.rttMs).toBe(2);
  });

  it('sends tab:page on page visits and identify, throttled and without repeats', async () => {
    const { host, sock } = setup();
    host.setSession(S1);
    sock().accept();
    await vi.advanceTimersByTimeAsync(300);
    expect(sock().names().filter((n) => n === 'tab:page')).toEqual([]); // same as the handshake
    host.page.url = 'https://shop.test/checkout';
    host.publish(5, { tag: 'tandem/page@1', payload: { url: host.page.url, title: 'Cart', via: 'pushState' } });
    host.publish(5, { tag: 'tandem/page@1', payload: { url: host.page.url, title: 'Cart', via: 'pushState' } });
    await vi.advanceTimersByTimeAsync(300);
    host.publish(5, { tag: 'tandem/identify@1', payload: { userId: 'u-42' } });
    await vi.advanceTimersByTimeAsync(300);
    const pages = sock().emitted.filter((e) => e[0] === 'tab:page').map((e) => e[1]);
    expect(pages).toEqual([
      { url: 'https://shop.test/checkout', title: 'Cart', visible: false, focused: false },
      { url: 'https://shop.test/checkout', title: 'Cart', visible: false, focused: false, userId: 'u-42' },
    ]);
  });

  it('a new token reconnects with the new auth (resume), new ids join the other room fresh', () => {
    const { host, sock } = setup();
    host.setSession(S1);
    const first = sock();
    first.accept();
    host.setSession({ ...S1 }); // same info again: nothing
    expect(FakeSocket.all.length).toBe(1);
    host.setSession({ ...S1, token: 'tok-2' });
    expect(first.disconnectCalls).toBe(1);
    expect(FakeSocket.all.length).toBe(2);
    sock().accept();
    expect(sock().handshakes[0]).toMatchObject({ token: 'tok-2', resume: true });
    host.setSession({ ...S1, sessionId: 'sess-2', tabId: 'tab-9', token: 'tok-3' });
    expect(FakeSocket.all.length).toBe(3);
    sock().accept();
    expect(sock().handshakes[0]).toMatchObject({ token: 'tok-3', resume: false });
  });

  it('unauthorized / unsupported_version / forbidden stop trying; a new token tries again', () => {
    for (const code of ['unauthorized', 'unsupported_version', 'forbidden']) {
      FakeSocket.all = [];
      const { host, sock, plugin } = setup();
      host.setSession(S1);
      sock().refuse(code);
      vi.advanceTimersByTime(600_000);
      expect(sock().connectCalls).toBe(0);
      expect(sock().disconnectCalls).toBe(1);
      expect(plugin.assistState().stoppedReason).toBe(code);
      host.setSession({ ...S1, token: 'fresh' });
      expect(FakeSocket.all.length).toBe(code === 'unsupported_version' ? 1 : 2);
    }
  });

  it('rate_limited and other refusals are retried with backoff (rate limits longer)', () => {
    const { host, sock, plugin } = setup();
    host.setSession(S1);
    sock().refuse('rate_limited');
    vi.advanceTimersByTime(4_999);
    expect(sock().connectCalls).toBe(0);
    vi.advanceTimersByTime(1);
    expect(sock().connectCalls).toBe(1);
    sock().refuse('rate_limited');
    vi.advanceTimersByTime(9_999);
    expect(sock().connectCalls).toBe(1);
    vi.advanceTimersByTime(1);
    expect(sock().connectCalls).toBe(2);
    sock().refuse('internal');
    vi.advanceTimersByTime(4_000); // attempt 2 of the plain schedule: 4 s
    expect(sock().connectCalls).toBe(3);
    sock().accept();
    expect(plugin.assistState()).toMatchObject({ connected: true, stoppedReason: null, connects: 1 });
  });

  it('transport failures are left to socket.io (active socket)', () => {
    const { host, sock } = setup();
    host.setSession(S1);
    sock().fire('connect_error', new Error('websocket error'));
    vi.advanceTimersByTime(120_000);
    expect(sock().connectCalls).toBe(0);
  });

  it('a server-side hang-up is retried by us (socket.io does not)', () => {
    const { host, sock } = setup();
    host.setSession(S1);
    sock().accept();
    sock().serverDrop('io server disconnect');
    vi.advanceTimersByTime(1_000);
    expect(sock().connectCalls).toBe(1);
  });

  it('agents: onAgentsChange, banner state, cleared after a long disconnect', () => {
    const seen: string[][] = [];
    const { host, sock, plugin } = setup({ onAgentsChange: (a) => seen.push(a.map((x) => x.name)) });
    host.setSession(S1);
    sock().accept();
    sock().fire('agents', [{ id: 'a1', name: 'Alice', via: 'login' }]);
    sock().fire('agents', [{ id: 'a1', name: 'Alice', via: 'login' }]);
    expect(plugin.assistState().agents.map((a) => a.name)).toEqual(['Alice']);
    sock().serverDrop();
    vi.advanceTimersByTime(AGENTS_GRACE_MS - 1);
    expect(plugin.assistState().agents.length).toBe(1);
    vi.advanceTimersByTime(1);
    expect(plugin.assistState().agents).toEqual([]);
    expect(seen).toEqual([['Alice'], []]);
  });

  it('stop(): user:stop, forwarding ends at once', () => {
    const { host, sock, tick, plugin } = setup();
    host.setSession(S1);
    sock().accept();
    sock().fire('agents', [{ id: 'a1', name: 'Alice', via: 'login' }]);
    sock().fire('live:start', { reason: 'join' });
    expect(sock().liveBatches()).toEqual([[0, 1]]); // the snapshot went at once
    plugin.stop();
    host.publish();
    tick();
    expect(sock().names()).toContain('user:stop');
    expect(sock().liveBatches()).toEqual([[0, 1]]); // nothing after the stop
    expect(plugin.assistState().forwarding).toBe(false);
  });

  it('consent: live:start waits for the answer; decline sends nothing', () => {
    const { host, sock, tick, plugin } = setup();
    host.setSession(S1);
    sock().accept();
    sock().fire('consent:request', { agents: [{ id: 'a1', name: 'Alice', via: 'login' }] });
    expect(plugin.assistState().consentPending).toBe(true);
    sock().fire('live:start', { reason: 'join' });
    tick();
    expect(host.snapshots).toBe(0);
    plugin.answerConsent(true);
    tick();
    expect(sock().emitted.find((e) => e[0] === 'consent:answer')?.[1]).toEqual({ accepted: true });
    expect(host.snapshots).toBe(1);
    expect(sock().liveBatches()).toEqual([[0, 1]]);

    sock().fire('live:stop');
    sock().fire('consent:request', { agents: [{ id: 'a2', name: 'Bob', via: 'watch-link' }] });
    sock().fire('live:start', { reason: 'join' });
    plugin.answerConsent(false);
    tick();
    expect(sock().emitted.filter((e) => e[0] === 'consent:answer').map((e) => e[1])).toEqual([{ accepted: true }, { accepted: false }]);
    expect(host.snapshots).toBe(1);
    expect(plugin.assistState()).toMatchObject({ forwarding: false, consentPending: false });
  });

  it('enabled: false does nothing at all', () => {
    const { host, plugin } = setup({ enabled: false });
    host.setSession(S1);
    expect(FakeSocket.all).toEqual([]);
    expect(plugin.assistState()).toMatchObject({ enabled: false, connected: false });
  });

  it('a throwing host or callback never escapes', () => {
    const { host, sock, tick } = setup({
      onAgentsChange: () => {
        throw new Error('page bug');
      },
    });
    host.takeFullSnapshot = () => {
      throw new Error('snapshot bug');
    };
    host.setSession(S1);
    sock().accept();
    expect(() => sock().fire('agents', [{ id: 'a', name: 'A', via: 'login' }])).not.toThrow();
    expect(() => sock().fire('live:start', { reason: 'join' })).not.toThrow();
    expect(() => tick()).not.toThrow();
    expect(host.errors.length).toBeGreaterThan(0);
  });

  it('socketUrl overrides the ingest URL', () => {
    const host = new FakeHost();
    const p = createAssist({ socketUrl: 'https://live.example.com/base' }, { io: fakeIo, doc: null });
    p.setup(host);
    host.setSession(S1);
    expect(FakeSocket.all[0].url).toBe('https://live.example.com/assist');
    expect(FakeSocket.all[0].opts.path).toBe('/base/socket.io');
    expect(host.ignored).toEqual(['https://live.example.com/base/socket.io/']);
  });
});

describe('assist plugin page listeners (minimal fake document)', () => {
  function fakeDoc() {
    const win = new EventTarget();
    const doc = Object.assign(new EventTarget(), {
      defaultView: win,
      visibilityState: 'visible',
      focused: true,
      hasFocus() {
        return this.focused;
      },
      title: 'T',
      location: { origin: 'https://shop.test', pathname: '/p', href: 'https://shop.test/p?secret=1' },
    });
    return { win, doc };
  }

  it('visibility and focus changes send tab:page, coalesced', async () => {
    const { win, doc } = fakeDoc();
    const host = new FakeHost();
    const p = createAssist({}, { io: fakeIo, doc: doc as unknown as Document, storage: memoryStorage() });
    p.setup(host);
    host.setSession(S1);
    const s = FakeSocket.all[0];
    s.accept();
    expect(s.handshakes[0].page).toMatchObject({ visible: true, focused: true });
    await vi.advanceTimersByTimeAsync(300);
    doc.visibilityState = 'hidden';
    doc.dispatchEvent(new Event('visibilitychange'));
    doc.focused = false;
    win.dispatchEvent(new Event('blur'));
    await vi.advanceTimersByTimeAsync(300);
    const pages = s.emitted.filter((e) => e[0] === 'tab:page').map((e) => e[1]);
    expect(pages).toEqual([{ url: host.page.url, title: 'Cart', visible: false, focused: false }]);
  });

  it('without the host hook the URL has no query or fragment (nothing unredacted leaves)', () => {
    const { doc } = fakeDoc();
    const host = new FakeHost();
    (host as { currentPage?: unknown }).currentPage = undefined;
    const p = createAssist({}, { io: fakeIo, doc: doc as unknown as Document, storage: memoryStorage() });
    p.setup(host);
    host.setSession(S1);
    FakeSocket.all[0].accept();
    expect(FakeSocket.all[0].handshakes[0].page.url).toBe('https://shop.test/p');
  });

  it('closes the socket at pagehide (back/forward cache) and reopens it at a persisted pageshow', () => {
    const { win, doc } = fakeDoc();
    const host = new FakeHost();
    const p = createAssist({}, { io: fakeIo, doc: doc as unknown as Document, storage: memoryStorage() });
    p.setup(host);
    host.setSession(S1);
    const s = FakeSocket.all[0];
    s.accept();
    win.dispatchEvent(new Event('pagehide'));
    expect(s.disconnectCalls).toBe(1);
    expect(p.assistState().connected).toBe(false);
    win.dispatchEvent(Object.assign(new Event('pageshow'), { persisted: true }));
    expect(s.connectCalls).toBe(1);
  });

  it('WebRTC: signal.ts messages go to the chunk, loaded once on the first that needs it; live:stop and tracker stop reach it', async () => {
    const { doc } = fakeDoc();
    const host = new FakeHost();
    const got: string[] = [];
    let disposed = 0;
    let stopped = 0;
    const loadRtc = vi.fn(async (): Promise<any> => ({
      createRtc: (ctx: any) => {
        expect(ctx.tabId()).toBe('tab-1');
        ctx.send('canvas:streams', { streams: [] });
        return {
          handle: (name: string) => void got.push(name),
          liveStopped: () => void stopped++,
          summary: () => ({ loaded: true, peers: ['agent:x'] }) as any,
          dispose: () => void disposed++,
        };
      },
    }));
    const p = createAssist({}, { io: fakeIo, doc: doc as unknown as Document, storage: memoryStorage(), loadRtc });
    p.setup(host);
    host.setSession(S1);
    const s = FakeSocket.all[0];
    s.accept();
    s.fire('rtc:config', { iceServers: [] });
    s.fire('assist:state', { sessionId: 'sess-1', call: null, control: null, annotate: [], recording: null, pending: [] });
    expect(loadRtc).not.toHaveBeenCalled();
    expect(p.assistState().rtc).toMatchObject({ loaded: false, peers: [] });
    s.fire('canvas:want', { agentPeerId: 'agent:x' });
    await vi.waitFor(() => expect(got).toEqual(['rtc:config', 'assist:state', 'canvas:want']));
    expect(loadRtc).toHaveBeenCalledTimes(1);
    expect(s.names()).toContain('canvas:streams');
    expect(p.assistState().rtc).toMatchObject({ loaded: true, peers: ['agent:x'] });
    s.fire('live:stop');
    expect(stopped).toBe(1);
    host.stop();
    expect(disposed).toBe(1);
  });
});
