import { EventEmitter } from 'node:events';
import type { PeerSignal, SignalIn } from '@tandem/protocol';
import { describe, expect, it } from 'vitest';
import { PeerMesh, type PeerFactory, type PeerMeshEvents } from '../src/lib/assist/peers';
import { EarlyPeers, apply, type EarlyPeerSocket, type PeersModule } from '../src/lib/live/early-peers';
import { EarlyJoin, type EarlySocket } from '../src/pages/live/early-join';

type Fn = (...args: never[]) => void;

/** Stands in for simple-peer (no WebRTC in Node): records what the mesh hands it. */
class FakePeer extends EventEmitter {
  signals: unknown[] = [];
  constructor(readonly opts: { initiator?: boolean }) {
    super();
  }
  signal(s: unknown) {
    this.signals.push(s);
  }
  destroy() {}
}

const offer = { type: 'offer', sdp: 'v=0\r\na=fingerprint:sha-256 AA:BB\r\n' } as PeerSignal;

/** The socket.io socket as EarlyPeers and EarlyJoin use it: listeners by name, what was emitted. */
function fakeIo() {
  const handlers = new Map<string, Fn[]>();
  let anys: Fn[] = [];
  const emitted: { name: string; msg: unknown }[] = [];
  const io = {
    connected: false,
    on(name: string, fn: Fn) {
      handlers.set(name, [...(handlers.get(name) ?? []), fn]);
      return io;
    },
    off(name: string, fn: Fn) {
      handlers.set(name, (handlers.get(name) ?? []).filter((f) => f !== fn));
      return io;
    },
    onAny: (fn: Fn) => void anys.push(fn),
    offAny: (fn: Fn) => void (anys = anys.filter((f) => f !== fn)),
    listeners: (name: string) => handlers.get(name) ?? [],
    emit: (name: string, msg: unknown) => void emitted.push({ name, msg }),
    timeout: () => ({ emit() {} }),
  };
  /** A message from the server, as socket.io hands it out: catch-all listeners first. */
  const receive = (name: string, ...args: unknown[]) => {
    for (const fn of [...anys]) (fn as (...a: unknown[]) => void)(name, ...args);
    for (const fn of io.listeners(name)) (fn as (...a: unknown[]) => void)(...args);
  };
  return { io, emitted, receive };
}

/** The mesh's module with fake peers, loaded when `load()` is called (the chunk's fetch). */
function peersModule() {
  const made: FakePeer[] = [];
  const factory: PeerFactory = (opts) => {
    const p = new FakePeer(opts);
    made.push(p);
    return p as never;
  };
  const mod: PeersModule = {
    PeerMesh: class extends PeerMesh {
      constructor(send: ConstructorParameters<typeof PeerMesh>[0], events: PeerMeshEvents) {
        super(send, events, factory);
      }
    },
  };
  let resolve!: (m: PeersModule) => void;
  const loaded = new Promise<PeersModule>((r) => (resolve = r));
  return { made, load: () => loaded, finish: async () => (resolve(mod), await loaded, await Promise.resolve()) };
}

function recorder() {
  const seen: string[] = [];
  const events: PeerMeshEvents = {
    stream: (peerId, _stream, key) => seen.push(`stream ${peerId} ${key}`),
    streamChanged: (peerId) => seen.push(`changed ${peerId}`),
    closed: (key, failed) => seen.push(`closed ${key} ${failed}`),
  };
  return { seen, events };
}

const signalIn = (sessionId: string, signal: PeerSignal): SignalIn => ({ sessionId, from: 'tab:T1', signal, channel: 'canvas' }) as SignalIn;

describe('early peers (the canvas offer is answered before the live view exists)', () => {
  it('answers the canvas offer with what came before its module loaded, in order, and hands the mesh and its held streams to the view', async () => {
    const { io, emitted, receive } = fakeIo();
    const mod = peersModule();
    const early = new EarlyPeers(io as unknown as EarlyPeerSocket, 's1', mod.load);
    receive('rtc:config', { sessionId: 's1', iceServers: [] });
    receive('rtc:signal', signalIn('s1', offer));
    receive('rtc:signal', signalIn('other-session', offer));
    expect(mod.made).toHaveLength(0);
    await mod.finish();
    // The offer made the tab's canvas peer and went to it: one peer.
    expect(mod.made).toHaveLength(1);
    const [peer] = mod.made;
    expect(peer.opts.initiator).toBe(false);
    expect(peer.signals).toEqual([offer]);
    // Its answer leaves at once on the socket, on the canvas channel, with no view in sight.
    peer.emit('signal', { type: 'answer', sdp: 'answer' });
    expect(emitted).toEqual([{ name: 'rtc:signal', msg: { sessionId: 's1', to: 'tab:T1', signal: { type: 'answer', sdp: 'answer' }, channel: 'canvas' } }]);
    // The stream that arrives meanwhile waits for the view (the answer's own hold-back runs first).
    const stream = { addEventListener() {} } as unknown as MediaStream;
    peer.emit('stream', stream);
    await new Promise((r) => setTimeout(r, 5));
    const view = recorder();
    const adopted = early.adopt(view.events);
    expect(adopted.mesh?.ids()).toEqual(['canvas:tab:T1']);
    expect(view.seen).toEqual(['stream tab:T1 canvas:tab:T1']);
    // From now on the view's own listeners handle signals: the early ones are gone.
    expect(io.listeners('rtc:signal')).toHaveLength(0);
    expect(io.listeners('rtc:config')).toHaveLength(0);
    adopted.mesh?.close('canvas:tab:T1', true);
    expect(view.seen.at(-1)).toBe('closed canvas:tab:T1 true');
  });

  it('a join whose tab never offers loads no WebRTC module and makes no peer', async () => {
    const { io, receive } = fakeIo();
    let loads = 0;
    const mod = peersModule();
    const early = new EarlyPeers(io as unknown as EarlyPeerSocket, 's1', () => (loads++, mod.load()));
    receive('rtc:config', { sessionId: 's1', iceServers: [] });
    receive('rtc:signal', signalIn('other-session', offer));
    await mod.finish();
    expect(loads).toBe(0);
    expect(mod.made).toHaveLength(0);
    const adopted = early.adopt(recorder().events);
    expect(adopted.mesh).toBeNull();
    expect(adopted.steps?.map((s) => s.kind)).toEqual(['config']);
    expect(loads).toBe(0);
  });

  it('adopted before its module loaded: hands the steps to the view in order and builds no mesh of its own', async () => {
    const { io, receive } = fakeIo();
    const mod = peersModule();
    const early = new EarlyPeers(io as unknown as EarlyPeerSocket, 's1', mod.load);
    receive('rtc:config', { sessionId: 's1', iceServers: [{ urls: 'turn:x' }] });
    receive('rtc:signal', signalIn('s1', offer));
    const adopted = early.adopt(recorder().events);
    expect(adopted.mesh).toBeNull();
    expect(adopted.steps?.map((s) => s.kind)).toEqual(['config', 'signal']);
    await mod.finish();
    expect(mod.made).toHaveLength(0);
    // The view's mesh replays them as its own listener would have.
    const done: string[] = [];
    for (const step of adopted.steps ?? [])
      apply({ setConfig: () => done.push('config'), signal: (from) => done.push(`signal ${from}`) }, step);
    expect(done).toEqual(['config', 'signal tab:T1']);
  });

  it('the early join keeps signals out of its log when it has early peers, and answers the watched tab\'s offer', async () => {
    const { io, receive } = fakeIo();
    const mod = peersModule();
    const connect: (() => void)[] = [];
    const socket = {
      joinInHandshake: true,
      socket: io,
      onConnect: (fn: () => void) => (connect.push(fn), () => {}),
      close() {},
    } as unknown as EarlySocket;
    const join = new EarlyJoin(socket, 's1', undefined, (s) => new EarlyPeers(s, 's1', mod.load));
    io.connected = true;
    connect.forEach((fn) => fn());
    await mod.finish();
    receive('live:joined', { sessionId: 's1', result: { ok: true, tabId: 'T1' } });
    receive('rtc:signal', signalIn('s1', offer));
    await mod.finish();
    // Answered by the early peer, before any view exists.
    expect(mod.made).toHaveLength(1);
    expect(mod.made[0].signals).toEqual([offer]);
    // The view takes the join: rtc:signal is not replayed to its listeners (it would answer twice).
    const replayed: string[] = [];
    io.on('rtc:signal', () => replayed.push('rtc:signal'));
    const answers: unknown[] = [];
    expect(join.take((_err, result) => answers.push(result))).toBe(true);
    expect(answers).toEqual([{ ok: true, tabId: 'T1' }]);
    expect(replayed).toEqual([]);
  });
});
