import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ASSIST_RETRY_MIN_MS,
  ASSIST_SNAPSHOT_WAIT_MS,
  assistChunkUrl,
  lazyAssist,
  type AssistModule,
  type LazyAssistOptions,
} from '../src/lazy.js';
import { createAssist } from '../src/plugin.js';
import type { AssistOptions } from '../src/types.js';
import { FakeHost, FakeSocket, fakeIo } from './fakes.js';
import { FULL, META } from './helpers.js';

const S1 = { sessionId: 'sess-1', tabId: 'tab-1', visitorId: 'vis-1', token: 'tok-1' };

/** The chunk as the browser would get it, its real plugin on a fake socket. */
function chunkModule(seen: AssistOptions[] = []): AssistModule {
  return {
    assist: (opts) => {
      seen.push(opts ?? {});
      return createAssist(opts, { io: fakeIo, doc: null, storage: undefined, schedule: (fn) => fn(), random: () => 1 });
    },
  };
}

function setup(options: LazyAssistOptions = {}, load?: (url: string) => Promise<AssistModule>) {
  const host = new FakeHost();
  const idle: (() => void)[] = [];
  const urls: string[] = [];
  const seen: AssistOptions[] = [];
  const loader = vi.fn(load ?? (async (url: string) => (urls.push(url), chunkModule(seen))));
  const plugin = lazyAssist(options, { load: loader, idle: (fn) => void idle.push(fn) });
  plugin.setup(host);
  /** The page goes idle: what was waiting for it runs (each in its own task in a browser). */
  const goIdle = async () => {
    for (const fn of idle.splice(0)) fn();
    await vi.advanceTimersByTimeAsync(0); // the load's promise settles
  };
  const firstSnapshot = () => {
    host.publish(META);
    host.publish(FULL);
  };
  return { host, plugin, idle, loader, urls, seen, goIdle, firstSnapshot };
}

beforeEach(() => {
  FakeSocket.all = [];
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('lazyAssist (the stand-in in /tracker.js)', () => {
  it('fetches the chunk only at an idle moment after the session and the first full snapshot, never in the snapshot task', async () => {
    const t = setup({ chunkUrl: 'https://cdn.test/tracker-assist.js', chunkVersion: 'abc123', rtcUrl: 'https://cdn.test/tracker-rtc.js' });
    t.host.setSession(S1);
    expect(t.idle).toHaveLength(0); // a session alone is not enough
    t.firstSnapshot();
    // The snapshot's task only queues the idle callback: nothing is fetched and no socket exists yet.
    expect(t.idle).toHaveLength(1);
    expect(t.loader).not.toHaveBeenCalled();
    expect(FakeSocket.all).toHaveLength(0);
    expect(t.plugin.assistState()).toMatchObject({ chunk: 'waiting', connected: false, sentMessages: 0, agents: [] });

    await t.goIdle();
    expect(t.urls).toEqual(['https://cdn.test/tracker-assist.js?v=abc123']);
    // The real plugin got the tracker and the options (the WebRTC chunk's URL among them), and connected.
    expect(t.seen).toEqual([{ rtcUrl: 'https://cdn.test/tracker-rtc.js' }]);
    expect(FakeSocket.all).toHaveLength(1);
    expect(FakeSocket.all[0].url).toBe('https://tandem.test/assist');
    FakeSocket.all[0].accept();
    expect(t.plugin.assistState()).toMatchObject({ chunk: 'loaded', connected: true, connects: 1 });
    // Later snapshots (rotations, resyncs) do not fetch again.
    t.firstSnapshot();
    expect(t.idle).toHaveLength(0);
    expect(t.loader).toHaveBeenCalledTimes(1);
  });

  it('the snapshot may come before the session (it waits in the tracker until the start answer)', async () => {
    const t = setup();
    t.firstSnapshot();
    expect(t.idle).toHaveLength(0);
    t.host.setSession(S1);
    expect(t.idle).toHaveLength(1);
    await t.goIdle();
    expect(t.urls).toEqual([assistChunkUrl('https://tandem.test')]);
    expect(t.urls[0]).toBe('https://tandem.test/tracker-assist.js');
  });

  it('an agent already waiting gets the page: live:start after the late connect takes a fresh snapshot and forwards it', async () => {
    const t = setup();
    t.host.setSession(S1);
    t.firstSnapshot();
    // Events recorded before the chunk came (not forwarded: nobody was connected).
    for (let i = 0; i < 5; i++) t.host.publish(3);
    await t.goIdle();
    const sock = FakeSocket.all[0];
    sock.accept();
    sock.fire('live:start', { reason: 'join' });
    const live = sock.emitted.filter((e) => e[0] === 'live:events');
    expect(live.length).toBeGreaterThan(0);
    const first = live.flatMap((e) => (e[1] as { events: { type: number }[] }).events);
    // The agent's first frame starts with a fresh Meta + FullSnapshot, so nothing of the gap is needed.
    expect(first.slice(0, 2).map((e) => e.type)).toEqual([META, FULL]);
    expect(t.host.snapshots).toBe(1);
  });

  it('loads anyway when no full snapshot comes within the wait (rrweb waiting for a slow load event)', async () => {
    const t = setup();
    t.host.setSession(S1);
    await vi.advanceTimersByTimeAsync(ASSIST_SNAPSHOT_WAIT_MS - 1);
    expect(t.idle).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(t.idle).toHaveLength(1);
    await t.goIdle();
    expect(t.loader).toHaveBeenCalledTimes(1);
  });

  it('a failed load is retried with backoff, and reported once', async () => {
    let fail = 2;
    const t = setup({}, async () => {
      if (fail-- > 0) throw new Error('could not load');
      return chunkModule();
    });
    t.host.setSession(S1);
    t.firstSnapshot();
    await t.goIdle();
    expect(t.plugin.assistState().chunk).toBe('failed');
    expect(t.host.errors).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(ASSIST_RETRY_MIN_MS);
    expect(t.loader).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(ASSIST_RETRY_MIN_MS); // the second wait is twice as long
    expect(t.loader).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(ASSIST_RETRY_MIN_MS);
    expect(t.loader).toHaveBeenCalledTimes(3);
    expect(t.plugin.assistState().chunk).toBe('loaded');
    expect(FakeSocket.all).toHaveLength(1);
    expect(t.host.errors).toHaveLength(1);
  });

  it('a tracker stop before the chunk came: nothing connects until the next start, which connects', async () => {
    const t = setup();
    t.host.setSession(S1);
    t.firstSnapshot();
    t.host.stop();
    await t.goIdle();
    expect(t.loader).not.toHaveBeenCalled();
    expect(FakeSocket.all).toHaveLength(0);
    // start() again: a session and a new first snapshot.
    t.host.setSession(S1);
    t.firstSnapshot();
    await t.goIdle();
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('a stop while the chunk loads keeps it for the next start, which connects without fetching again', async () => {
    let release!: (m: AssistModule) => void;
    const t = setup({}, () => new Promise<AssistModule>((r) => (release = r)));
    t.host.setSession(S1);
    t.firstSnapshot();
    for (const fn of t.idle.splice(0)) fn();
    expect(t.plugin.assistState().chunk).toBe('loading');
    t.host.stop();
    release(chunkModule());
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeSocket.all).toHaveLength(0);
    expect(t.plugin.assistState().chunk).toBe('waiting');
    t.host.setSession(S1);
    t.firstSnapshot();
    await t.goIdle();
    expect(t.loader).toHaveBeenCalledTimes(1);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('enabled: false loads nothing at all', async () => {
    const t = setup({ enabled: false });
    t.host.setSession(S1);
    t.firstSnapshot();
    await vi.advanceTimersByTimeAsync(ASSIST_SNAPSHOT_WAIT_MS * 2);
    expect(t.idle).toHaveLength(0);
    expect(t.loader).not.toHaveBeenCalled();
    expect(t.plugin.assistState()).toMatchObject({ enabled: false, chunk: 'off' });
  });

  it('before the chunk: stop/answerConsent are no-ops and there are no peer connections', () => {
    const t = setup();
    expect(() => t.plugin.stop()).not.toThrow();
    expect(() => t.plugin.answerConsent(true)).not.toThrow();
    expect(t.plugin.rtcConnections().size).toBe(0);
    expect(t.plugin.assistState().rtc.loaded).toBe(false);
  });
});
