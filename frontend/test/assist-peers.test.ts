import { EventEmitter } from 'node:events';
import type { PeerChannel, PeerSignal } from '@tandem/protocol';
import { describe, expect, it } from 'vitest';
import { PeerMesh, canvasPeerKey, peerKey, type PeerFactory } from '../src/lib/assist/peers';

/** Stands in for simple-peer (no WebRTC in Node): records what the mesh hands it. */
class FakePeer extends EventEmitter {
  signals: unknown[] = [];
  destroyed = false;
  _pc = { signalingState: 'stable', getConfiguration: () => ({}), setConfiguration() {} };
  constructor(readonly opts: { initiator?: boolean }) {
    super();
  }
  signal(s: unknown) {
    this.signals.push(s);
  }
  destroy() {
    this.destroyed = true;
  }
}

const offer = (fingerprint = 'AA:BB'): PeerSignal => ({ type: 'offer', sdp: `v=0\r\na=fingerprint:sha-256 ${fingerprint}\r\n` }) as PeerSignal;
const candidate = (c: string): PeerSignal => ({ type: 'candidate', candidate: { candidate: c, sdpMid: '0', sdpMLineIndex: 0 } }) as PeerSignal;

function setup() {
  const made: FakePeer[] = [];
  const sent: { to: string; signal: PeerSignal; channel?: PeerChannel }[] = [];
  const closed: { key: string; failed: boolean }[] = [];
  const factory: PeerFactory = (opts) => {
    const p = new FakePeer(opts);
    made.push(p);
    return p as never;
  };
  const mesh = new PeerMesh((to, signal, channel) => sent.push({ to, signal, ...(channel ? { channel } : {}) }), {
    stream() {},
    streamChanged() {},
    closed: (key, failed) => closed.push({ key, failed }),
  }, factory);
  return { mesh, made, sent, closed };
}

describe('agent peer mesh: canvas and call peers with one tab', () => {
  it('keys the canvas peer by channel: a canvas offer and a call offer from the same tab make two peers', () => {
    const { mesh, made, sent } = setup();
    mesh.signal('tab:T1', offer(), 'canvas');
    mesh.signal('tab:T1', offer());
    expect(mesh.ids().sort()).toEqual(['canvas:tab:T1', 'tab:T1']);
    expect(canvasPeerKey('T1')).toBe(peerKey('tab:T1', 'canvas'));
    expect(made).toHaveLength(2);
    const [canvas, call] = made;
    expect(canvas.opts.initiator).toBe(false);
    // Later signals reach the peer of their own channel only.
    mesh.signal('tab:T1', candidate('for-canvas'), 'canvas');
    mesh.signal('tab:T1', candidate('for-call'));
    expect(canvas.signals.map((s) => (s as { candidate?: { candidate: string } }).candidate?.candidate ?? 'offer')).toEqual(['offer', 'for-canvas']);
    expect(call.signals.map((s) => (s as { candidate?: { candidate: string } }).candidate?.candidate ?? 'offer')).toEqual(['offer', 'for-call']);
    // What each peer sends goes out on its channel.
    canvas.emit('signal', { type: 'answer', sdp: 'canvas-answer' });
    call.emit('signal', { type: 'answer', sdp: 'call-answer' });
    expect(sent).toEqual([
      { to: 'tab:T1', signal: { type: 'answer', sdp: 'canvas-answer' }, channel: 'canvas' },
      { to: 'tab:T1', signal: { type: 'answer', sdp: 'call-answer' } },
    ]);
  });

  it('closing one of the two leaves the other (a call ending never stops the canvas video)', () => {
    const { mesh, made, closed } = setup();
    mesh.signal('tab:T1', offer(), 'canvas');
    mesh.signal('tab:T1', offer());
    mesh.close('tab:T1');
    expect(mesh.ids()).toEqual(['canvas:tab:T1']);
    expect(made[0].destroyed).toBe(false);
    expect(made[1].destroyed).toBe(true);
    expect(closed).toEqual([{ key: 'tab:T1', failed: false }]);
  });

  it('watching a tab builds no peer until the tab offers; the offer makes its canvas peer', () => {
    const { mesh, made } = setup();
    mesh.watchCanvasesOf('T1');
    expect(mesh.ids()).toEqual([]);
    expect(made).toHaveLength(0);
    mesh.signal('tab:T1', offer(), 'canvas');
    expect(made).toHaveLength(1);
    expect(made[0].opts.initiator).toBe(false);
    expect(made[0].signals).toHaveLength(1);
    // Watching the same tab again (a rejoin) keeps it.
    mesh.watchCanvasesOf('T1');
    expect(made).toHaveLength(1);
    expect(made[0].destroyed).toBe(false);
  });

  it('switching tabs closes the old tab’s canvas peer and keeps its call peer', () => {
    const { mesh, made, closed } = setup();
    mesh.watchCanvasesOf('T1');
    mesh.signal('tab:T1', offer(), 'canvas');
    mesh.signal('tab:T1', offer());
    const [oldCanvas, call] = made;
    mesh.watchCanvasesOf('T2');
    expect(oldCanvas.destroyed).toBe(true);
    expect(call.destroyed).toBe(false);
    expect(mesh.ids()).toEqual(['tab:T1']);
    expect(closed).toEqual([{ key: 'canvas:tab:T1', failed: false }]);
    // A late signal from the old tab's canvas side is stale: no peer is made for it.
    mesh.signal('tab:T1', candidate('late'), 'canvas');
    expect(made).toHaveLength(2);
    expect(oldCanvas.signals).toHaveLength(1);
    // The new tab's offer makes its canvas peer; watching nothing closes every canvas peer.
    mesh.signal('tab:T2', offer(), 'canvas');
    expect(mesh.ids().sort()).toEqual(['canvas:tab:T2', 'tab:T1']);
    mesh.watchCanvasesOf(null);
    expect(mesh.ids()).toEqual(['tab:T1']);
  });

  it('a canvas offer with another DTLS fingerprint (the user reloaded) replaces the canvas peer only', () => {
    const { mesh, made } = setup();
    mesh.signal('tab:T1', offer('AA'), 'canvas');
    mesh.signal('tab:T1', offer('AA'));
    mesh.signal('tab:T1', offer('BB'), 'canvas');
    expect(made).toHaveLength(3);
    expect(made[0].destroyed).toBe(true);
    expect(made[1].destroyed).toBe(false);
    expect(mesh.ids().sort()).toEqual(['canvas:tab:T1', 'tab:T1']);
  });
});
