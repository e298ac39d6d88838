import { describe, expect, it } from 'vitest';
import { MAX_CONTROL_TEXT, MAX_SDP_BYTES, MAX_STROKE_POINTS, type ControlInput } from '@tandem/protocol';
import { parseCanvasStreams, parseControl, parseEnd, parseSignal, parseStroke } from '../src/live/assist-schemas.js';

// The shapes the server forwards (R2, R5): every ControlInput type of signal.ts, what simple-peer
// 9.11 emits as signals, and the limits. Pure functions, so the edge cases are cheap to list.
const SID = 'session-0001';

describe('control input', () => {
  const valid: ControlInput[] = [
    { type: 'pointer', x: 1.5, y: 2 },
    { type: 'click', x: 10, y: 20, nodeId: 7, button: 0 },
    { type: 'click', x: 10, y: 20 },
    { type: 'dblclick', x: 1, y: 1, nodeId: 3 },
    { type: 'mousedown', x: 1, y: 1, button: 2 },
    { type: 'mousemove', x: 1, y: 1, nodeId: 9, button: 0 },
    { type: 'mouseup', x: 1, y: 1 },
    { type: 'wheel', x: 1, y: 1, dx: 0, dy: -120, nodeId: 4 },
    { type: 'scroll', left: 0, top: 500 },
    { type: 'scroll', nodeId: 12, left: 30, top: 0 },
    { type: 'key', key: 'Enter', code: 'Enter', shift: false, ctrl: false, alt: false, meta: false },
    { type: 'key', key: 'a', code: '' },
    { type: 'text', text: 'héllo 👋', nodeId: 5 },
    { type: 'text', text: 'x'.repeat(MAX_CONTROL_TEXT) },
    { type: 'select', nodeId: 8, value: '' },
    { type: 'navigate', url: 'https://shop.test/cart?x=1#top' },
    { type: 'navigate', url: 'http://localhost:3000/' },
  ];
  it.each(valid.map((input) => [input.type, input]))('accepts %s', (_type, input) => {
    expect(parseControl({ sessionId: SID, input })).toEqual({ ok: true, value: { sessionId: SID, input } });
  });

  const invalid: [string, unknown][] = [
    ['javascript: URL', { type: 'navigate', url: 'javascript:alert(1)' }],
    ['data: URL', { type: 'navigate', url: 'data:text/html,<script>1</script>' }],
    ['relative URL', { type: 'navigate', url: '/cart' }],
    ['text too long', { type: 'text', text: 'x'.repeat(MAX_CONTROL_TEXT + 1) }],
    ['empty text', { type: 'text', text: '' }],
    ['null coordinate (NaN/Infinity after JSON)', { type: 'click', x: null, y: 1 }],
    ['string coordinate', { type: 'pointer', x: '1', y: 1 }],
    ['huge coordinate', { type: 'pointer', x: 1e9, y: 1 }],
    ['fractional node id', { type: 'click', x: 1, y: 1, nodeId: 1.5 }],
    ['negative node id', { type: 'click', x: 1, y: 1, nodeId: -1 }],
    ['button 3', { type: 'click', x: 1, y: 1, button: 3 }],
    ['unknown key', { type: 'click', x: 1, y: 1, target: 'body' }],
    ['unknown type', { type: 'eval', code: '1' }],
    ['empty key', { type: 'key', key: '' }],
    ['select without node', { type: 'select', value: 'a' }],
  ];
  it.each(invalid)('refuses %s', (_why, input) => {
    const r = parseControl({ sessionId: SID, input });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message.length).toBeGreaterThan(3);
  });

  it('refuses a message without a well-formed session id', () => {
    expect(parseControl({ input: { type: 'pointer', x: 1, y: 1 } }).ok).toBe(false);
    expect(parseControl({ sessionId: '../x', input: { type: 'pointer', x: 1, y: 1 } }).ok).toBe(false);
  });
});

describe('signals (what simple-peer emits)', () => {
  const sdp = 'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';
  it.each([
    ['offer', { type: 'offer', sdp }],
    ['answer', { type: 'answer', sdp }],
    ['candidate', { type: 'candidate', candidate: { candidate: 'candidate:842163049 1 udp 1677729535 1.2.3.4 46154 typ srflx', sdpMLineIndex: 0, sdpMid: '0' } }],
    ['end-of-candidates', { type: 'candidate', candidate: { candidate: '', sdpMLineIndex: null, sdpMid: null, usernameFragment: null } }],
    ['renegotiate', { type: 'renegotiate', renegotiate: true }],
    ['transceiverRequest', { type: 'transceiverRequest', transceiverRequest: { kind: 'video', init: { direction: 'recvonly' } } }],
  ])('accepts %s', (_t, signal) => {
    expect(parseSignal({ to: 'agent:AbC123_-', signal })).toEqual({ ok: true, value: { to: 'agent:AbC123_-', signal } });
  });

  it.each([
    ['an SDP over MAX_SDP_BYTES', { type: 'offer', sdp: 'x'.repeat(MAX_SDP_BYTES + 1) }],
    ['renegotiate false', { type: 'renegotiate', renegotiate: false }],
    ['a huge transceiver init', { type: 'transceiverRequest', transceiverRequest: { kind: 'audio', init: { x: 'y'.repeat(5000) } } }],
    ['a data channel kind', { type: 'transceiverRequest', transceiverRequest: { kind: 'data' } }],
  ])('refuses %s', (_t, signal) => {
    expect(parseSignal({ to: 'tab:abcdefgh', signal }).ok).toBe(false);
  });

  it('`from` is not the client\'s to give: dropped from what is forwarded; `to` must be a peer id', () => {
    const r = parseSignal({ to: 'tab:abcdefgh', from: 'agent:x', signal: { type: 'renegotiate', renegotiate: true } });
    expect(r.ok && 'from' in r.value).toBe(false);
    expect(parseSignal({ to: 'server', signal: { type: 'renegotiate', renegotiate: true } }).ok).toBe(false);
    expect(parseSignal({ to: 'tab:a b', signal: { type: 'renegotiate', renegotiate: true } }).ok).toBe(false);
  });
});

describe('strokes, canvas streams, ends', () => {
  const stroke = { id: 'Xy_12-lz3k9-1', points: [0, 0, 10, 10], color: 'rgb(225, 29, 72)', width: 4, done: false };
  it('accepts a stroke piece and refuses odd, oversized or unsafe ones', () => {
    expect(parseStroke({ sessionId: SID, stroke }).ok).toBe(true);
    expect(parseStroke({ sessionId: SID, stroke: { ...stroke, color: '#e11d48' } }).ok).toBe(true);
    expect(parseStroke({ sessionId: SID, stroke: { ...stroke, points: Array(MAX_STROKE_POINTS * 2).fill(1) } }).ok).toBe(true);
    expect(parseStroke({ sessionId: SID, stroke: { ...stroke, points: Array(MAX_STROKE_POINTS * 2 + 2).fill(1) } }).ok).toBe(false);
    expect(parseStroke({ sessionId: SID, stroke: { ...stroke, points: [1, 2, 3] } }).ok).toBe(false);
    expect(parseStroke({ sessionId: SID, stroke: { ...stroke, color: 'url(javascript:1)' } }).ok).toBe(false);
    expect(parseStroke({ sessionId: SID, stroke: { ...stroke, width: 1000 } }).ok).toBe(false);
    expect(parseStroke({ sessionId: SID, stroke: { ...stroke, id: '<img>' } }).ok).toBe(false);
    expect(parseStroke({ sessionId: SID, stroke: { ...stroke, id: 'agent:x-1' } }).ok).toBe(false);
    expect(parseStroke({ sessionId: SID, stroke: { ...stroke, id: 'x'.repeat(65) } }).ok).toBe(false);
  });

  it('canvas streams: node id and stream id only, a bounded list', () => {
    expect(parseCanvasStreams({ streams: [{ nodeId: 3, streamId: '{a1b2-c3}' }] }).ok).toBe(true);
    expect(parseCanvasStreams({ streams: Array.from({ length: 65 }, (_, i) => ({ nodeId: i, streamId: `s${i}` })) }).ok).toBe(false);
    expect(parseCanvasStreams({ streams: [{ nodeId: 3, streamId: 's', extra: 1 }] }).ok).toBe(false);
  });

  it('assist:end names a feature; the optional agent is a peer id', () => {
    expect(parseEnd({ feature: 'call' })).toEqual({ ok: true, value: { feature: 'call' } });
    expect(parseEnd({ sessionId: SID, feature: 'control', agentPeerId: 'agent:abc' }).ok).toBe(true);
    expect(parseEnd({ feature: 'view' }).ok).toBe(false);
    expect(parseEnd({ feature: 'call', agentPeerId: 'someone' }).ok).toBe(false);
  });
});
