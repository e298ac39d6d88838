import { describe, expect, it } from 'vitest';
import { EarlyJoin, liveJoinTarget, type EarlySocket } from '../src/pages/live/early-join';
import { matchRoute, parseHash } from '../src/lib/router.svelte';

type Fn = (...args: unknown[]) => void;

/** Just what EarlyJoin uses of a LiveSocket and its socket.io socket. */
function fakeSocket() {
  const handlers = new Map<string, Fn[]>();
  let anys: Fn[] = [];
  const sent: { name: string; arg: unknown; ack: Fn }[] = [];
  const connectListeners = new Set<() => void>();
  const io = {
    connected: false,
    on(name: string, fn: Fn) {
      handlers.set(name, [...(handlers.get(name) ?? []), fn]);
      return io;
    },
    onAny: (fn: Fn) => void anys.push(fn),
    offAny: (fn: Fn) => void (anys = anys.filter((f) => f !== fn)),
    listeners: (name: string) => handlers.get(name) ?? [],
    timeout: () => ({ emit: (name: string, arg: unknown, ack: Fn) => void sent.push({ name, arg, ack }) }),
  };
  const live = {
    joinInHandshake: false,
    socket: io,
    onConnect(fn: () => void) {
      connectListeners.add(fn);
      if (io.connected) fn();
      return () => connectListeners.delete(fn);
    },
    close() {},
  };
  return {
    live: live as unknown as EarlySocket,
    sent,
    connect() {
      io.connected = true;
      for (const fn of [...connectListeners]) fn();
    },
    /** A message from the server, as socket.io hands it out: catch-all listeners first. */
    receive(name: string, ...args: unknown[]) {
      for (const fn of [...anys]) fn(name, ...args);
      for (const fn of io.listeners(name)) fn(...args);
    },
    disconnect() {
      io.connected = false;
      for (const fn of io.listeners('disconnect')) fn('transport close');
    },
  };
}

const answer = { ok: true, tabId: 't1' } as never;

describe('early join (a live view opened in a new tab joins before its view exists)', () => {
  it('takes the join the server made while accepting the socket (live:joined), replayed in arrival order', () => {
    const s = fakeSocket();
    (s.live as { joinInHandshake: boolean }).joinInHandshake = true;
    const early = new EarlyJoin(s.live, 'session-1', undefined);
    s.connect();
    expect(s.sent).toHaveLength(0);
    s.receive('live:joined', { sessionId: 'other-session', result: { ok: true, tabId: 'x' } });
    s.receive('live:joined', { sessionId: 'session-1', result: answer });
    s.receive('live:events', 'snapshot');
    const seen: string[] = [];
    s.live.socket.on('live:events', ((m: string) => seen.push(`events ${m}`)) as never);
    expect(early.take((err, result) => seen.push(`answer ${err} ${JSON.stringify(result)}`))).toBe(true);
    expect(seen).toEqual([`answer null ${JSON.stringify(answer)}`, 'events snapshot']);
  });

  it('sends live:join on the first connect when its handshake did not carry the join, then replays what arrived to the view in arrival order', () => {
    const s = fakeSocket();
    const early = new EarlyJoin(s.live, 'session-1', 'tab-1');
    expect(s.sent).toHaveLength(0);
    s.connect();
    expect(s.sent.map((m) => [m.name, m.arg])).toEqual([['live:join', { sessionId: 'session-1', tabId: 'tab-1' }]]);
    // Before the view exists: nobody listens yet.
    s.receive('live:session', 'session message');
    s.sent[0].ack(null, answer);
    s.receive('rtc:signal', 'canvas offer');
    s.receive('live:events', 'snapshot');
    const seen: string[] = [];
    for (const name of ['live:session', 'rtc:signal', 'live:events']) s.live.socket.on(name as never, ((m: string) => seen.push(`${name} ${m}`)) as never);
    expect(early.take((err, result) => seen.push(`answer ${err} ${JSON.stringify(result)}`))).toBe(true);
    expect(seen).toEqual(['live:session session message', `answer null ${JSON.stringify(answer)}`, 'rtc:signal canvas offer', 'live:events snapshot']);
    // From now on the listeners hear the socket directly, once.
    s.receive('live:events', 'next batch');
    expect(seen.slice(4)).toEqual(['live:events next batch']);
  });

  it('hands over an answer that comes after the view took the join', () => {
    const s = fakeSocket();
    const early = new EarlyJoin(s.live, 'session-1', undefined);
    s.connect();
    expect(s.sent[0].arg).toEqual({ sessionId: 'session-1' });
    const answers: unknown[] = [];
    expect(early.take((_err, result) => answers.push(result))).toBe(true);
    expect(answers).toEqual([]);
    s.sent[0].ack(null, answer);
    expect(answers).toEqual([answer]);
  });

  it('leaves the join to the view when the connection it was sent on dropped, or when none was sent', () => {
    const s = fakeSocket();
    const early = new EarlyJoin(s.live, 'session-1', undefined);
    s.connect();
    s.disconnect();
    expect(early.take(() => {})).toBe(false);

    const never = fakeSocket();
    expect(new EarlyJoin(never.live, 'session-1', undefined).take(() => {})).toBe(false);
    never.connect();
    // Refused once, it stays out of the view's way: no second join on a later connect.
    expect(never.sent).toHaveLength(0);
  });
});

describe('liveJoinTarget (the live view a page opens, read before the app starts)', () => {
  const at = (hash: string, pathname = '/') => liveJoinTarget({ pathname, hash });

  it('reads the session and the tab of a live view', () => {
    expect(at('#/live/s-1')).toEqual({ sessionId: 's-1', tabId: undefined });
    expect(at('#/live/s-1/')).toEqual({ sessionId: 's-1', tabId: undefined });
    expect(at('#/live/s-1?tab=t-2')).toEqual({ sessionId: 's-1', tabId: 't-2' });
    expect(at('#/live/a%20b?x=1')).toEqual({ sessionId: 'a b', tabId: undefined });
  });

  it('is null for other pages, the live list and grid, and watch links', () => {
    for (const hash of ['', '#/', '#/live', '#/live/', '#/live/grid', '#/live/grid/', '#/live/grid?ids=a', '#/sessions/s-1', '#/live/s-1/x']) expect(at(hash), hash).toBeNull();
    expect(at('#/live/s-1', '/watch/tok')).toBeNull();
    expect(at('#/live/s-1', '/embed/tok')).toBeNull();
  });

  it('agrees with the router on which hashes are a live view and which session', () => {
    for (const hash of ['#/live/s-1', '#/live/s-1/', '#/live/s-1?tab=t', '#/live/grid', '#/live', '#/live/%E0%A4%A', '#/live/a%2Fb', '#/live/s-1/x', '#/settings']) {
      const route = matchRoute(parseHash(hash).path);
      const target = at(hash);
      expect(target?.sessionId ?? null, hash).toBe(route.name === 'live' ? route.id : null);
    }
  });
});
