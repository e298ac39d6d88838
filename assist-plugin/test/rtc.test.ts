import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AssistAgent, AssistState, PendingRequest } from '@tandem/protocol';
import type { RtcContext, RtcModule } from '../src/rtc-api.js';
import { MAX_PENDING_RTC_MESSAGES, RtcBridge, needsRtc, rtcChunkUrl } from '../src/rtc-bridge.js';
import { createRegistry } from '../src/rtc/registry.js';
import type { FeatureFactory } from '../src/rtc/feature.js';
import { MAX_REMOVED_STREAMS, Peers } from '../src/rtc/peers.js';
import { FakeDoc, FakeEl, FakeEvent, fakeMirror } from './fake-dom.js';

const ALICE: AssistAgent = { id: 'a1', name: 'Alice', via: 'login', peerId: 'agent:S1' };
const BOB: AssistAgent = { id: 'b1', name: 'Bob', via: 'watch-link', peerId: 'agent:S2' };

function state(over: Partial<AssistState> = {}): AssistState {
  return { sessionId: 'sess', call: null, control: null, annotate: [], recording: null, pending: [], ...over };
}
function request(feature: PendingRequest['feature'], agent = ALICE, requestId = `r-${feature}`): PendingRequest {
  return { requestId, feature, agent, expiresAt: Date.now() + 30_000 };
}

class FakePeer extends EventEmitter {
  static all: FakePeer[] = [];
  signals: unknown[] = [];
  streams: unknown[] = [];
  replaced: [unknown, unknown][] = [];
  destroyed = false;
  /** The RTCPeerConnection part Peers touches: ICE configuration updates. */
  _pc = {
    signalingState: 'stable',
    configs: [] as RTCConfiguration[],
    getConfiguration(): RTCConfiguration {
      return this.configs.at(-1) ?? { bundlePolicy: 'max-bundle' };
    },
    setConfiguration(c: RTCConfiguration) {
      this.configs.push(c);
    },
  };
  constructor(readonly opts: any) {
    super();
    FakePeer.all.push(this);
  }
  signal(s: unknown) {
    this.signals.push(s);
  }
  addStream(s: unknown) {
    this.streams.push(s);
  }
  removeStream(s: unknown) {
    this.streams = this.streams.filter((x) => x !== s);
  }
  replaceTrack(old: unknown, next: unknown) {
    this.replaced.push([old, next]);
  }
  destroy() {
    this.destroyed = true;
  }
}

function fakeTrack(kind: 'audio' | 'video') {
  return { kind, enabled: true, readyState: 'live', muted: false, stopped: false, stop() { this.stopped = true; }, addEventListener() {} };
}
function fakeStream(id = 'local') {
  const tracks = [fakeTrack('audio'), fakeTrack('video')];
  return { id, getTracks: () => tracks, getAudioTracks: () => tracks.filter((t) => t.kind === 'audio'), getVideoTracks: () => tracks.filter((t) => t.kind === 'video'), addEventListener() {} };
}

function setup(features?: readonly FeatureFactory[]) {
  const doc = new FakeDoc();
  const root = new FakeEl(doc, 'tandem-assist', 'ui');
  doc.add(root, undefined, doc.documentElement);
  const sent: [string, any][] = [];
  const errors: string[] = [];
  const mirror = fakeMirror();
  const media = fakeStream();
  doc.win.navigator = { mediaDevices: { getUserMedia: vi.fn(async () => media) } };
  Object.assign(doc.win, {
    requestAnimationFrame: (fn: () => void) => setTimeout(fn, 16),
    cancelAnimationFrame: (t: any) => clearTimeout(t),
    addEventListener() {},
    removeEventListener() {},
    devicePixelRatio: 1,
    performance: { now: () => Date.now() },
  });
  const ctx: RtcContext = {
    doc: doc as unknown as Document,
    tabId: () => 'T1',
    sessionId: () => 'sess',
    send: ((name: string, msg: unknown) => void sent.push([name, msg])) as RtcContext['send'],
    mirror: () => mirror as never,
    ui: {
      mount: (el) => {
        root.append(el as unknown as FakeEl);
        return () => (el as unknown as FakeEl).remove();
      },
      addStyles() {},
      get host() {
        return root as unknown as HTMLElement;
      },
    },
    wrap: ((_w: string, fn: any) => fn) as RtcContext['wrap'],
    report: (err, where) => void errors.push(`${where}: ${String(err)}`),
  };
  const rtc = createRegistry(ctx, { features, peerFactory: (opts) => new FakePeer(opts) as never });
  const find = (attr: string) => root.querySelectorAll('*').find((e) => e.hasAttribute(attr)) ?? null;
  return { doc, root, sent, errors, mirror, media, rtc, find };
}

beforeEach(() => {
  FakePeer.all = [];
});
afterEach(() => {
  vi.useRealTimers();
});

describe('rtc bridge (in /tracker.js)', () => {
  it('loads the chunk only for a message that needs it, then hands over everything in order', async () => {
    const got: [string, unknown][] = [];
    const mod: RtcModule = { createRtc: () => ({ handle: (n: string, m: unknown) => void got.push([n, m]), liveStopped() {}, summary: () => ({}) as never, dispose() {} }) as never };
    const load = vi.fn(async () => mod);
    const bridge = new RtcBridge({ load, context: () => ({}) as RtcContext, tabId: () => 'T1', report: () => {} });
    bridge.receive('rtc:config', { iceServers: [] });
    bridge.receive('assist:state', state());
    bridge.receive('rtc:signal', { sessionId: 'sess', from: 'agent:x', signal: { type: 'renegotiate', renegotiate: true } });
    expect(load).not.toHaveBeenCalled();
    expect(bridge.summary().loaded).toBe(false);
    bridge.receive('assist:request', request('call'));
    expect(load).toHaveBeenCalledTimes(1);
    bridge.receive('control:input', { agentPeerId: 'agent:x', input: { type: 'pointer', x: 1, y: 1 } });
    await Promise.resolve();
    await Promise.resolve();
    expect(got.map((g) => g[0])).toEqual(['rtc:config', 'assist:state', 'rtc:signal', 'assist:request', 'control:input']);
    bridge.receive('canvas:want', { agentPeerId: 'agent:x' });
    expect(got.at(-1)![0]).toBe('canvas:want');
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('a grant for this tab in the state loads it (control resumes after a reload); another tab’s does not', () => {
    const control = { agent: ALICE, tabId: 'T1', since: 1 };
    expect(needsRtc('assist:state', state({ control }), 'T1')).toBe(true);
    expect(needsRtc('assist:state', state({ control: { ...control, tabId: 'T2' } }), 'T1')).toBe(false);
    expect(needsRtc('assist:state', state({ call: { tabId: 'T1', agents: [ALICE] } }), 'T1')).toBe(true);
    expect(needsRtc('assist:state', state({ annotate: [ALICE] }), 'T1')).toBe(true);
    expect(needsRtc('assist:state', null, 'T1')).toBe(false);
    expect(needsRtc('rtc:signal', {}, 'T1')).toBe(false);
  });

  it('keeps at most MAX_PENDING_RTC_MESSAGES while loading; a failed load is reported and retried on the next trigger', async () => {
    const errors: unknown[] = [];
    let fail = true;
    const got: string[] = [];
    const load = vi.fn(async () => {
      if (fail) throw new Error('offline');
      return { createRtc: () => ({ handle: (n: string) => void got.push(n), liveStopped() {}, summary: () => ({}) as never, dispose() {} }) } as never;
    });
    const bridge = new RtcBridge({ load, context: () => ({}) as RtcContext, tabId: () => 'T1', report: (e) => void errors.push(e) });
    bridge.receive('assist:request', request('control'));
    await new Promise((r) => setTimeout(r, 0));
    expect(errors).toHaveLength(1);
    fail = false;
    for (let i = 0; i < MAX_PENDING_RTC_MESSAGES + 10; i++) bridge.receive('rtc:signal', {});
    expect(load).toHaveBeenCalledTimes(1);
    bridge.receive('canvas:want', { agentPeerId: 'agent:x' });
    await new Promise((r) => setTimeout(r, 0));
    expect(load).toHaveBeenCalledTimes(2);
    expect(got).toHaveLength(MAX_PENDING_RTC_MESSAGES);
    expect(got.at(-1)).toBe('canvas:want');
  });

  it('the chunk URL sits next to the tracker on the ingest server', () => {
    expect(rtcChunkUrl('https://t.example/')).toBe('https://t.example/tracker-rtc.js');
    expect(rtcChunkUrl('https://t.example/tandem')).toBe('https://t.example/tandem/tracker-rtc.js');
  });
});

describe('feature registry (the chunk)', () => {
  it('routes each message to the features that take it; a failing feature is reported, the others still run', () => {
    const seen: string[] = [];
    const boom: FeatureFactory = () => ({ name: 'call', onState() { throw new Error('boom'); }, dispose() {} });
    const spy: FeatureFactory = () => ({
      name: 'control',
      onState: (s) => void seen.push(`state ${s.sessionId}`),
      on: { 'control:input': (m) => void seen.push(`input ${m.input.type}`) },
      dispose: () => void seen.push('dispose'),
    });
    const { rtc, errors } = setup([boom, spy]);
    rtc.handle('assist:state', state());
    rtc.handle('control:input', { agentPeerId: 'agent:S1', input: { type: 'pointer', x: 0, y: 0 } });
    rtc.dispose();
    rtc.handle('assist:state', state());
    expect(seen).toEqual(['state sess', 'input pointer', 'dispose']);
    expect(errors).toEqual(['call state: Error: boom']);
  });

  it('a request shows a prompt naming the agent; Accept answers; a request the state no longer lists goes away', () => {
    const { rtc, find, sent } = setup();
    rtc.handle('assist:request', request('control'));
    const prompt = find('data-tandem-request')!;
    expect(prompt.getAttribute('data-tandem-request')).toBe('control');
    expect(prompt.getAttribute('role')).toBe('alertdialog');
    expect(prompt.querySelectorAll('*').map((e) => e.textContent).join(' ')).toContain('Alice would like to control this page');
    expect(prompt.querySelectorAll('*').map((e) => e.textContent).join(' ')).toContain('drawing');
    expect(rtc.summary().prompts).toEqual(['control']);
    find('data-tandem-consent-accept')!.dispatchEvent(new FakeEvent('click'));
    expect(sent).toEqual([['assist:answer', { requestId: 'r-control', accepted: true }]]);
    expect(find('data-tandem-request')).toBeNull();

    rtc.handle('assist:request', request('call'));
    rtc.handle('assist:request', request('record', BOB));
    expect(rtc.summary().prompts).toEqual(['call', 'record']);
    // Timed out on the server: the state no longer lists it.
    rtc.handle('assist:state', state({ pending: [request('record', BOB)] }));
    expect(rtc.summary().prompts).toEqual(['record']);
    expect(find('data-tandem-request')!.getAttribute('data-tandem-request')).toBe('record');
    find('data-tandem-consent-decline')!.dispatchEvent(new FakeEvent('click'));
    expect(sent.at(-1)).toEqual(['assist:answer', { requestId: 'r-record', accepted: false }]);
  });

  it('a second agent asking during a call is asked "wants to join the call"', () => {
    const { rtc, find } = setup();
    rtc.handle('assist:state', state({ call: { tabId: 'T1', agents: [ALICE] } }));
    rtc.handle('assist:request', request('call', BOB));
    expect(find('data-tandem-request')!.querySelectorAll('*')[0]!.textContent).toBe('Bob wants to join the call');
  });

  it('control: banner names the holder; input from anyone else is refused; take back stops at once and tells the server', () => {
    const { rtc, find, sent, doc, mirror } = setup();
    const btn = doc.add(new FakeEl(doc, 'button', 'btn'), { left: 0, top: 0, width: 50, height: 20 });
    let clicks = 0;
    btn.addEventListener('click', () => clicks++);
    const click = { type: 'click' as const, x: 5, y: 5, nodeId: mirror.getId(btn) };
    rtc.handle('control:input', { agentPeerId: ALICE.peerId, input: click });
    expect(clicks).toBe(0); // not granted yet
    rtc.handle('assist:state', state({ control: { agent: ALICE, tabId: 'T1', since: 7 }, annotate: [ALICE] }));
    expect(find('data-tandem-control')!.querySelectorAll('*').map((e) => e.textContent)).toContain('Alice is controlling this page');
    expect(rtc.summary().controlledBy).toBe('Alice');
    rtc.handle('control:input', { agentPeerId: BOB.peerId, input: click });
    expect(clicks).toBe(0);
    rtc.handle('control:input', { agentPeerId: ALICE.peerId, input: click });
    expect(clicks).toBe(1);
    find('data-tandem-control-stop')!.dispatchEvent(new FakeEvent('click'));
    expect(sent.at(-1)).toEqual(['assist:end', { feature: 'control' }]);
    expect(find('data-tandem-control')).toBeNull();
    rtc.handle('control:input', { agentPeerId: ALICE.peerId, input: click });
    // The server's state still has the grant (the end is on its way): still refused.
    rtc.handle('assist:state', state({ control: { agent: ALICE, tabId: 'T1', since: 7 } }));
    rtc.handle('control:input', { agentPeerId: ALICE.peerId, input: click });
    expect(clicks).toBe(1);
    expect(rtc.summary()).toMatchObject({ controlledBy: null, controlInputs: 1, controlRefused: 4, controlRefusals: { 'not-holder': 4 } });
    // A new grant (another `since`) works again; a grant for another tab does nothing here.
    rtc.handle('assist:state', state({ control: { agent: ALICE, tabId: 'T2', since: 9 } }));
    expect(rtc.summary().controlledBy).toBeNull();
    rtc.handle('assist:state', state({ control: { agent: ALICE, tabId: 'T1', since: 9 } }));
    rtc.handle('control:input', { agentPeerId: ALICE.peerId, input: click });
    expect(clicks).toBe(2);
  });

  it('annotations: strokes from an agent not allowed to draw are dropped; allowed ones mount the overlay', () => {
    const { rtc, find } = setup();
    const stroke = { id: 's1', points: [1, 2, 30, 40], color: '#f00', width: 3, done: true };
    rtc.handle('annotate:stroke', { agentPeerId: ALICE.peerId, stroke });
    expect(rtc.summary().strokesDrawn).toBe(0);
    rtc.handle('assist:state', state({ annotate: [ALICE] }));
    rtc.handle('annotate:stroke', { agentPeerId: BOB.peerId, stroke });
    rtc.handle('annotate:stroke', { agentPeerId: ALICE.peerId, stroke });
    expect(rtc.summary()).toMatchObject({ strokesDrawn: 1, strokesVisible: 1 });
    const overlay = find('data-tandem-annotations')!;
    expect(overlay.querySelectorAll('canvas')).toHaveLength(1);
    expect(overlay.getAttribute('aria-hidden')).toBe('true');
    rtc.dispose();
    expect(find('data-tandem-annotations')).toBeNull();
  });

  it('call: accepted state starts media to each agent on peers the tab starts; mute replaces the audio track by nothing; hang up ends it for everyone', async () => {
    const { rtc, find, sent, media } = setup();
    rtc.handle('rtc:config', { iceServers: [{ urls: 'turn:t.example', username: 'u', credential: 'c' }] });
    rtc.handle('assist:state', state({ call: { tabId: 'T1', agents: [ALICE, BOB] } }));
    expect(FakePeer.all.map((p) => p.opts)).toEqual([
      { initiator: true, trickle: true, config: { iceServers: [{ urls: 'turn:t.example', username: 'u', credential: 'c' }] } },
      { initiator: true, trickle: true, config: { iceServers: [{ urls: 'turn:t.example', username: 'u', credential: 'c' }] } },
    ]);
    await new Promise((r) => setTimeout(r, 0)); // getUserMedia
    expect(FakePeer.all.map((p) => p.streams)).toEqual([[media], [media]]);
    expect(find('data-tandem-call')).not.toBeNull();
    expect(rtc.summary()).toMatchObject({ callActive: true, peers: ['agent:S1', 'agent:S2'] });

    // Signalling both ways through rtc:signal.
    FakePeer.all[0]!.emit('signal', { type: 'offer', sdp: 'v=0' });
    expect(sent.at(-1)).toEqual(['rtc:signal', { to: 'agent:S1', signal: { type: 'offer', sdp: 'v=0' } }]);
    rtc.handle('rtc:signal', { sessionId: 'sess', from: 'agent:S2', signal: { type: 'answer', sdp: 'v=0' } });
    expect(FakePeer.all[1]!.signals).toEqual([{ type: 'answer', sdp: 'v=0' }]);
    rtc.handle('rtc:signal', { sessionId: 'sess', from: 'agent:nobody', signal: { type: 'answer', sdp: 'v=0' } }); // stale: ignored

    const audio = media.getAudioTracks()[0];
    const video = media.getVideoTracks()[0];
    const lastFor = (p: FakePeer, track: unknown) => p.replaced.filter(([old]) => old === track).at(-1);
    find('data-tandem-mute')!.dispatchEvent(new FakeEvent('click'));
    expect(FakePeer.all.map((p) => lastFor(p, audio))).toEqual([[audio, null], [audio, null]]);
    expect(FakePeer.all.map((p) => lastFor(p, video))).toEqual([[video, video], [video, video]]);
    expect(rtc.summary().muted).toBe(true);
    expect(find('data-tandem-mute')!.getAttribute('aria-pressed')).toBe('true');
    find('data-tandem-mute')!.dispatchEvent(new FakeEvent('click'));
    expect(lastFor(FakePeer.all[0]!, audio)).toEqual([audio, audio]);
    find('data-tandem-camera')!.dispatchEvent(new FakeEvent('click'));
    expect(lastFor(FakePeer.all[0]!, video)).toEqual([video, null]);
    expect(video.enabled).toBe(false);
    expect(rtc.summary().cameraOff).toBe(true);

    // The agent's media shows in the panel.
    FakePeer.all[0]!.emit('stream', fakeStream('alice-media'));
    expect(rtc.summary().remoteMedia).toEqual(['agent:S1']);

    // Bob leaves the call: his peer closes; Alice's stays.
    rtc.handle('assist:state', state({ call: { tabId: 'T1', agents: [ALICE] } }));
    expect(FakePeer.all.map((p) => p.destroyed)).toEqual([false, true]);

    find('data-tandem-hangup')!.dispatchEvent(new FakeEvent('click'));
    expect(sent.at(-1)).toEqual(['assist:end', { feature: 'call' }]);
    expect(media.getTracks().every((t) => t.stopped)).toBe(true);
    expect(find('data-tandem-call')).toBeNull();
    expect(rtc.summary()).toMatchObject({ callActive: false, peers: [] });
  });

  it('canvas video rides on its own peer (channel canvas): the first offer carries the visible canvas, a call ending leaves it alone, canvas:stop closes it', async () => {
    const { rtc, find, sent, doc } = setup();
    const canvasStream = fakeStream('canvas-stream');
    const canvas = doc.add(Object.assign(new FakeEl(doc, 'canvas', 'cv'), { captureStream: () => canvasStream }), { left: 10, top: 10, width: 300, height: 150 });
    const offscreen = doc.add(Object.assign(new FakeEl(doc, 'canvas', 'below'), { captureStream: () => fakeStream('never') }), { left: 10, top: 2000, width: 300, height: 150 });
    rtc.handle('canvas:want', { agentPeerId: 'agent:S1' });
    // One peer, created with the visible canvas already on it (one offer, no renegotiation); the one below the fold waits.
    expect(FakePeer.all).toHaveLength(1);
    expect(FakePeer.all[0]!.streams).toEqual([canvasStream]);
    expect(sent.find(([n]) => n === 'canvas:streams')).toEqual(['canvas:streams', { streams: [{ nodeId: expect.any(Number), streamId: 'canvas-stream' }] }]);
    expect(offscreen.isConnected && canvas.isConnected).toBe(true);
    FakePeer.all[0]!.emit('signal', { type: 'offer', sdp: 'v=0' });
    expect(sent.at(-1)).toEqual(['rtc:signal', { to: 'agent:S1', signal: { type: 'offer', sdp: 'v=0' }, channel: 'canvas' }]);
    rtc.handle('rtc:signal', { sessionId: 'sess', from: 'agent:S1', signal: { type: 'answer', sdp: 'canvas' }, channel: 'canvas' });
    expect(FakePeer.all[0]!.signals).toEqual([{ type: 'answer', sdp: 'canvas' }]);

    // A call with the same agent: a peer of its own; the call's signals never reach the canvas peer.
    rtc.handle('assist:state', state({ call: { tabId: 'T1', agents: [ALICE] } }));
    await new Promise((r) => setTimeout(r, 0)); // getUserMedia
    expect(FakePeer.all).toHaveLength(2);
    rtc.handle('rtc:signal', { sessionId: 'sess', from: 'agent:S1', signal: { type: 'answer', sdp: 'call' } });
    expect(FakePeer.all[1]!.signals).toEqual([{ type: 'answer', sdp: 'call' }]);
    expect(FakePeer.all[0]!.signals).toHaveLength(1);
    expect(rtc.summary()).toMatchObject({ peers: ['agent:S1'], canvasPeers: ['agent:S1'] });
    expect([...rtc.connections().keys()]).toEqual(['agent:S1', 'canvas:agent:S1']);

    // Fresh TURN credentials reach both live connections (setConfiguration), not only new peers.
    const fresh = [{ urls: 'turn:t.example', username: '2:sess', credential: 'new' }];
    rtc.handle('rtc:config', { iceServers: fresh });
    expect(FakePeer.all.map((p) => p._pc.configs.at(-1))).toEqual([
      { bundlePolicy: 'max-bundle', iceServers: fresh },
      { bundlePolicy: 'max-bundle', iceServers: fresh },
    ]);

    // Hang up closes the call's peer (never removeStream: dead m-lines), and only that one.
    find('data-tandem-hangup')!.dispatchEvent(new FakeEvent('click'));
    expect(FakePeer.all.map((p) => p.destroyed)).toEqual([false, true]);
    expect(rtc.summary()).toMatchObject({ callActive: false, peers: [], canvasPeers: ['agent:S1'], canvasStreams: 1 });

    // The agent switched to another tab: this one stops streaming to it.
    rtc.handle('canvas:stop', { agentPeerId: 'agent:S1' });
    expect(FakePeer.all[0]!.destroyed).toBe(true);
    expect(canvasStream.getVideoTracks()[0]!.stopped).toBe(true);
    expect(rtc.summary()).toMatchObject({ canvasPeers: [], canvasStreams: 0, canvasWatchers: 0 });
  });

  it('no canvas on the page: no canvas peer for a watching agent', () => {
    const { rtc } = setup();
    rtc.handle('canvas:want', { agentPeerId: 'agent:S1' });
    expect(FakePeer.all).toHaveLength(0);
    expect(rtc.summary()).toMatchObject({ canvasPeers: [], canvasWatchers: 1 });
    rtc.dispose();
  });

  it(`a peer that had more than MAX_REMOVED_STREAMS (${MAX_REMOVED_STREAMS}) streams removed is closed, so dead m-lines stay bounded`, () => {
    const closed: string[] = [];
    const peers = new Peers({ send() {}, report() {}, factory: (opts) => new FakePeer(opts) as never });
    peers.onClose((id) => closed.push(id));
    peers.acquire('agent:S1', 'canvas');
    for (let i = 0; i < MAX_REMOVED_STREAMS; i++) {
      const s = fakeStream(`c${i}`) as unknown as MediaStream;
      peers.addStream('agent:S1', s);
      peers.removeStream('agent:S1', s);
    }
    expect(closed).toEqual([]);
    const last = fakeStream('last') as unknown as MediaStream;
    peers.addStream('agent:S1', last);
    peers.removeStream('agent:S1', last);
    expect(closed).toEqual(['agent:S1']);
    expect(FakePeer.all.at(-1)!.destroyed).toBe(true);
  });

  it('recording: a visible mark while the state says so, in the call’s tab; Stop ends it', () => {
    const { rtc, find, sent } = setup();
    const call = { tabId: 'T1', agents: [ALICE] };
    rtc.handle('assist:state', state({ call, recording: { recordingId: 'rec1', agent: ALICE, startedAt: 1 } }));
    expect(find('data-tandem-recording')!.querySelectorAll('*').map((e) => e.textContent).join(' ')).toContain('Alice is recording this call');
    expect(rtc.summary().recording).toBe(true);
    find('data-tandem-recording-stop')!.dispatchEvent(new FakeEvent('click'));
    expect(sent.at(-1)).toEqual(['assist:end', { feature: 'record' }]);
    rtc.handle('assist:state', state({ call }));
    expect(find('data-tandem-recording')).toBeNull();
  });
});
