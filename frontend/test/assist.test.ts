import { MAX_STROKE_POINTS, type AssistAgent, type AssistState } from '@tandem/protocol';
import { describe, expect, it } from 'vitest';
import { splitBlob } from '../src/lib/assist/chunks';
import { overlayBox, sameBox, scaleOf, toUserPoint, toUserPointClamped } from '../src/lib/assist/geometry';
import { isTextKey, resolveVisit } from '../src/lib/assist/input';
import { fingerprintOf } from '../src/lib/assist/sdp';
import { featureOfEvent, holds, initialStatus, reduceStatus, type AssistStatus, type StatusEvent } from '../src/lib/assist/status';
import { FLUSH_MS, PIECE_POINTS, StrokeChunker } from '../src/lib/assist/strokes';
import { mediaTimeAt, needsSeek } from '../src/lib/recording-sync';

const agent = (peerId: string, name = peerId): AssistAgent => ({ id: name, name, via: 'login', peerId });
const me = 'agent:me';
const other = 'agent:other';

function state(patch: Partial<AssistState> = {}): AssistState {
  return { sessionId: 's1', call: null, control: null, annotate: [], recording: null, pending: [], ...patch };
}

function run(events: StatusEvent[], from: AssistStatus = initialStatus()): AssistStatus {
  return events.reduce(reduceStatus, from);
}

describe('assist status (toolbar state from assist:state and results)', () => {
  it('goes requesting → active from the state, whatever order the result comes in', () => {
    const pending = state({ pending: [{ requestId: 'r1', feature: 'call', agent: agent(me), expiresAt: 1 }] });
    const active = state({ call: { tabId: 't1', agents: [agent(me)] } });
    const a = run([{ kind: 'requested', feature: 'call' }, { kind: 'state', state: pending, self: me }, { kind: 'result', feature: 'call', outcome: 'accepted' }, { kind: 'state', state: active, self: me }]);
    expect(a.features.call).toBe('active');
    const b = run([{ kind: 'requested', feature: 'call' }, { kind: 'state', state: active, self: me }, { kind: 'result', feature: 'call', outcome: 'accepted' }]);
    expect(b.features.call).toBe('active');
    expect(b.last).toBe('call');
  });

  it('keeps declined and timeout (with a message) until the next request', () => {
    const declined = run([{ kind: 'requested', feature: 'control' }, { kind: 'result', feature: 'control', outcome: 'declined' }, { kind: 'state', state: state(), self: me }]);
    expect(declined.features.control).toBe('declined');
    expect(declined.message).toMatch(/declined/);
    const timeout = run([{ kind: 'requested', feature: 'control' }, { kind: 'result', feature: 'control', outcome: 'timeout' }]);
    expect(timeout.features.control).toBe('timeout');
    expect(run([{ kind: 'requested', feature: 'control' }], timeout).features.control).toBe('requesting');
  });

  it('a refused request says busy (naming the holder) or refused', () => {
    const busy = run([{ kind: 'requested', feature: 'control' }, { kind: 'refused', feature: 'control', code: 'busy', message: 'Ann has control' }]);
    expect(busy.features.control).toBe('busy');
    expect(busy.message).toBe('Ann has control');
    expect(run([{ kind: 'refused', feature: 'record', code: 'forbidden', message: 'no' }]).features.record).toBe('refused');
  });

  it('active → ended when the state drops it; another agent holding it is not ours', () => {
    const on = run([{ kind: 'state', state: state({ control: { agent: agent(me), tabId: 't1', since: 1 } }), self: me }]);
    expect(on.features.control).toBe('active');
    const off = run([{ kind: 'state', state: state({ control: { agent: agent(other), tabId: 't1', since: 2 } }), self: me }], on);
    expect(off.features.control).toBe('ended');
    expect(run([{ kind: 'ended', feature: 'control', reason: 'user_ended' }], on).message).toMatch(/user ended/);
  });

  it('shows the feature asked for when a grant brings another (control covers drawing)', () => {
    const granted = state({ control: { agent: agent(me), tabId: 't1', since: 1 }, annotate: [agent(me)] });
    const s = run([{ kind: 'requested', feature: 'control' }, { kind: 'state', state: granted, self: me }]);
    expect(s.features.control).toBe('active');
    expect(s.features.annotate).toBe('active');
    expect(s.last).toBe('control');
  });

  it('holds: call membership, control, annotate list, recording agent', () => {
    const s = state({
      call: { tabId: 't', agents: [agent(other), agent(me)] },
      control: { agent: agent(other), tabId: 't', since: 0 },
      annotate: [agent(other), agent(me)],
      recording: { recordingId: '', agent: agent(me), startedAt: 0 },
    });
    expect([holds(s, 'call', me), holds(s, 'control', me), holds(s, 'annotate', me), holds(s, 'record', me)]).toEqual([true, false, true, true]);
    expect(holds(s, 'call', null)).toBe(false);
    expect(holds(null, 'call', me)).toBe(false);
  });

  it('maps refused socket events to features', () => {
    expect(featureOfEvent('control:input')).toBe('control');
    expect(featureOfEvent('annotate:stroke')).toBe('annotate');
    expect(featureOfEvent('assist:request')).toBeNull();
  });
});

describe('coordinates: agent screen → user viewport', () => {
  // A 1280×720 user viewport shown at half size with its top-left at (100, 50) on the agent's screen.
  const frame = { left: 100, top: 50, width: 640, height: 360 };

  it('divides out the replay scale and the frame offset', () => {
    expect(scaleOf(frame, 1280)).toBe(0.5);
    expect(toUserPoint(100, 50, frame, 1280, 720)).toEqual({ x: 0, y: 0 });
    expect(toUserPoint(420, 230, frame, 1280, 720)).toEqual({ x: 640, y: 360 });
    expect(toUserPoint(740, 410, frame, 1280, 720)).toEqual({ x: 1280, y: 720 });
    expect(toUserPoint(100.3, 50.3, frame, 1280, 720)).toEqual({ x: 0.6, y: 0.6 });
  });

  it('is the identity at scale 1, and refuses points outside the viewport', () => {
    expect(toUserPoint(15, 25, { left: 0, top: 0, width: 800, height: 600 }, 800, 600)).toEqual({ x: 15, y: 25 });
    expect(toUserPoint(99, 60, frame, 1280, 720)).toBeNull();
    expect(toUserPoint(741, 60, frame, 1280, 720)).toBeNull();
    expect(toUserPointClamped(0, 1000, frame, 1280, 720)).toEqual({ x: 0, y: 720 });
  });

  it('an unknown size falls back to scale 1', () => {
    expect(scaleOf({ left: 0, top: 0, width: 0, height: 0 }, 1280)).toBe(1);
    expect(scaleOf(frame, 0)).toBe(1);
  });

  it('places a replayed element in the overlay layer; hidden or scrolled away → none', () => {
    expect(overlayBox({ left: 10, top: -20, width: 300, height: 150 }, 1280, 720)).toEqual({ left: 10, top: -20, width: 300, height: 150 });
    expect(overlayBox({ left: 10, top: 20, width: 0, height: 150 }, 1280, 720)).toBeNull();
    expect(overlayBox({ left: 10, top: -200, width: 300, height: 150 }, 1280, 720)).toBeNull();
    expect(overlayBox({ left: 1300, top: 0, width: 300, height: 150 }, 1280, 720)).toBeNull();
    expect(sameBox({ left: 1, top: 2, width: 3, height: 4 }, { left: 1, top: 2, width: 3, height: 4 })).toBe(true);
    expect(sameBox(null, { left: 1, top: 2, width: 3, height: 4 })).toBe(false);
  });
});

describe('annotation strokes in pieces', () => {
  const style = { color: '#f00', width: 4 };

  it('sends a piece every FLUSH_MS, each starting where the last ended, and done at pen-up', () => {
    const c = new StrokeChunker('s1', style, 0);
    expect(c.add(0, 0, 0)).toBeNull();
    expect(c.add(10, 0, 10)).toBeNull();
    const first = c.add(20, 0, FLUSH_MS);
    expect(first).toEqual({ id: 's1', points: [0, 0, 10, 0, 20, 0], color: '#f00', width: 4, done: false });
    expect(c.add(30, 5, FLUSH_MS + 10)).toBeNull();
    const last = c.end(FLUSH_MS + 20);
    expect(last).toEqual({ id: 's1', points: [20, 0, 30, 5], color: '#f00', width: 4, done: true });
    expect(c.add(40, 5, 1_000)).toBeNull(); // nothing after pen-up
  });

  it('cuts long fast strokes at PIECE_POINTS, never above MAX_STROKE_POINTS numbers', () => {
    const c = new StrokeChunker('s2', style, 0);
    const pieces = [];
    for (let i = 0; i < PIECE_POINTS * 3; i++) {
      const p = c.add(i * 2, i, 1); // all within one flush period
      if (p) pieces.push(p);
    }
    pieces.push(c.end(2));
    expect(pieces.length).toBeGreaterThanOrEqual(3);
    for (const p of pieces) expect(p.points.length).toBeLessThanOrEqual(Math.min(MAX_STROKE_POINTS, (PIECE_POINTS + 1) * 2));
    // Joined, the pieces hold every point once plus one joint point per later piece.
    const total = pieces.reduce((n, p) => n + p.points.length / 2, 0);
    expect(total).toBe(PIECE_POINTS * 3 + (pieces.filter((p) => p.points.length).length - 1));
  });

  it('drops sub-pixel jitter, and a tap is a dot', () => {
    const c = new StrokeChunker('s3', style, 0);
    c.add(5, 5, 0);
    expect(c.add(5.4, 5.2, FLUSH_MS * 2)).toBeNull();
    expect(c.end(FLUSH_MS * 3).points).toEqual([5, 5, 5, 5]);
  });
});

describe('small pure helpers', () => {
  it('splits a chunk larger than the server takes, in order', async () => {
    const blob = new Blob([new Uint8Array([1, 2, 3, 4, 5, 6, 7])], { type: 'video/webm' });
    const parts = splitBlob(blob, 3);
    expect(parts.map((p) => p.size)).toEqual([3, 3, 1]);
    expect([...new Uint8Array(await new Blob(parts).arrayBuffer())]).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(splitBlob(blob, 0)).toEqual([blob]);
  });

  it('reads the DTLS fingerprint of an SDP', () => {
    const sdp = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\na=fingerprint:sha-256 AB:CD:EF\r\na=setup:actpass\r\n';
    expect(fingerprintOf(sdp)).toBe('sha-256 AB:CD:EF');
    expect(fingerprintOf('v=0\r\n')).toBeNull();
  });

  it('resolves the visit box against the current page', () => {
    expect(resolveVisit('/pricing', 'https://shop.example/cart?x=1')).toBe('https://shop.example/pricing');
    expect(resolveVisit(' https://shop.example/a ', undefined)).toBe('https://shop.example/a');
    expect(resolveVisit('', 'https://shop.example/')).toBeNull();
    expect(resolveVisit('/x', undefined)).toBeNull();
  });

  it('types printable keys as text, not shortcuts', () => {
    const k = (key: string, mods: Partial<{ ctrlKey: boolean; metaKey: boolean; altKey: boolean }> = {}) => ({ key, ctrlKey: false, metaKey: false, altKey: false, ...mods });
    expect(isTextKey(k('a'))).toBe(true);
    expect(isTextKey(k('Enter'))).toBe(false);
    expect(isTextKey(k('a', { ctrlKey: true }))).toBe(false);
  });
});

describe('call recording on the session timeline', () => {
  const rec = { startedAt: 10_000, durationMs: 5_000 };

  it('currentTime = (playerTs − startedAt) / 1000 inside the recording, none outside', () => {
    expect(mediaTimeAt(10_000, rec)).toBe(0);
    expect(mediaTimeAt(12_500, rec)).toBe(2.5);
    expect(mediaTimeAt(15_000, rec)).toBe(5);
    expect(mediaTimeAt(9_999, rec)).toBeNull();
    expect(mediaTimeAt(15_001, rec)).toBeNull();
    // Still uploading (no duration yet): open-ended.
    expect(mediaTimeAt(99_000, { startedAt: 10_000, durationMs: 0 })).toBe(89);
  });

  it('seeks a playing video only when it drifted, a paused one to the frame', () => {
    expect(needsSeek(2.0, 2.2, true)).toBe(false);
    expect(needsSeek(2.0, 2.5, true)).toBe(true);
    expect(needsSeek(2.0, 2.2, false)).toBe(true);
  });
});
