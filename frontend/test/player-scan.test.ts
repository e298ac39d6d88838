import { describe, expect, it } from 'vitest';
import { TANDEM_EVENT } from '@tandem/protocol';
import { scanStream, ShortLineSplitter } from '../src/lib/player/scan';
import { splitConsoleMessage } from '../src/lib/console-message';
import { parseShareTime, shareLink } from '../src/lib/player/share';

function streamOf(text: string, chunkSize: number): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= bytes.length) return c.close();
      c.enqueue(bytes.slice(at, at + chunkSize));
      at += chunkSize;
    },
  });
}

describe('ShortLineSplitter', () => {
  it('hands on short lines split across chunks and drops long ones without joining them', () => {
    const lines: string[] = [];
    const s = new ShortLineSplitter(10);
    const enc = new TextEncoder();
    s.push(enc.encode('abc\nde'), (l) => lines.push(l));
    s.push(enc.encode('f\n0123456789ABCDEF'), (l) => lines.push(l));
    s.push(enc.encode('GHIJ\nxyz\né'), (l) => lines.push(l));
    s.end((l) => lines.push(l));
    expect(lines).toEqual(['abc', 'def', 'xyz', 'é']);
  });
});

describe('scanStream', () => {
  it('collects clicks, custom events, identify and user activity, skipping big snapshots', async () => {
    const events = [
      { type: 4, data: { href: 'https://a/', width: 800, height: 600 }, timestamp: 1000, seq: 0 },
      { type: 2, data: { node: { big: 'x'.repeat(100_000) } }, timestamp: 1001, seq: 1 },
      { type: 3, data: { source: 1, positions: [] }, timestamp: 1500, seq: 2 },
      { type: 3, data: { source: 2, type: 2, id: 5, x: 1, y: 2 }, timestamp: 2000, seq: 3 },
      { type: 3, data: { source: 0, adds: [], removes: [], texts: [], attributes: [] }, timestamp: 2500, seq: 4 },
      { type: 5, data: { tag: TANDEM_EVENT.custom, payload: { name: 'checkout', payload: { total: 42 } } }, timestamp: 3000, seq: 5 },
      { type: 5, data: { tag: TANDEM_EVENT.identify, payload: { userId: 'u-1', traits: { plan: 'pro' } } }, timestamp: 3500, seq: 6 },
      { type: 5, data: { tag: TANDEM_EVENT.network, payload: { url: 'x' } }, timestamp: 3600, seq: 7 },
    ];
    const scan = await scanStream(streamOf(events.map((e) => JSON.stringify(e)).join('\n'), 4096));
    expect(scan.clicks).toEqual([{ ts: 2000, seq: 3 }]);
    expect(scan.customs).toEqual([{ ts: 3000, seq: 5, name: 'checkout', payload: { total: 42 } }]);
    expect(scan.identifies).toEqual([{ ts: 3500, seq: 6, userId: 'u-1', traits: { plan: 'pro' } }]);
    expect(scan.interactions).toEqual([1500, 2000]);
  });
});

describe('splitConsoleMessage', () => {
  it('turns JSON objects and arrays inside a message into values', () => {
    expect(splitConsoleMessage('plain text')).toEqual([{ text: 'plain text' }]);
    expect(splitConsoleMessage('cart {"items":[1,2],"note":"a } b"} done [3]')).toEqual([
      { text: 'cart ' },
      { json: { items: [1, 2], note: 'a } b' } },
      { text: ' done ' },
      { json: [3] },
    ]);
    expect(splitConsoleMessage('not json {a:1}')).toEqual([{ text: 'not json {a:1}' }]);
  });
});

describe('share links', () => {
  it('round-trips a moment and a tab', () => {
    const link = shareLink('http://h:1/', 'sess 1', 61_234.6, 'tab-2');
    expect(link).toBe('http://h:1/#/sessions/sess%201?t=61235&tab=tab-2');
    const params = new URLSearchParams(link.split('?')[1]);
    expect(parseShareTime(params)).toEqual({ t: 61_235, tabId: 'tab-2' });
    expect(parseShareTime(new URLSearchParams('t=abc'))).toEqual({ t: null, tabId: null });
    expect(parseShareTime(new URLSearchParams(''))).toEqual({ t: null, tabId: null });
  });
});
