import { describe, expect, it } from 'vitest';
import { NdjsonSplitter, readNdjson } from '../src/lib/api/ndjson';

describe('NdjsonSplitter', () => {
  it('joins lines split across chunks', () => {
    const s = new NdjsonSplitter();
    expect(s.push('{"a":1}\n{"b"')).toEqual(['{"a":1}']);
    expect(s.push(':2}\n')).toEqual(['{"b":2}']);
    expect(s.push('{"c":3}')).toEqual([]);
    expect(s.end()).toEqual(['{"c":3}']);
  });
  it('skips blank lines and strips CR', () => {
    const s = new NdjsonSplitter();
    expect(s.push('{"a":1}\r\n\n{"b":2}\n')).toEqual(['{"a":1}', '{"b":2}']);
    expect(s.end()).toEqual([]);
  });
});

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

describe('readNdjson', () => {
  it('parses a body cut inside a line and inside a multi-byte character', async () => {
    const bytes = new TextEncoder().encode('{"seq":0,"t":"é"}\n{"seq":1,"t":"✓"}\n{"seq":2}');
    const cutInsideE = bytes.indexOf(0xc3) + 1; // between the two bytes of "é"
    const chunks = [bytes.slice(0, cutInsideE), bytes.slice(cutInsideE, 25), bytes.slice(25)];
    const progress: number[] = [];
    const items = await readNdjson<{ seq: number; t?: string }>(streamOf(chunks), (p) => progress.push(p.bytes));
    expect(items).toEqual([{ seq: 0, t: 'é' }, { seq: 1, t: '✓' }, { seq: 2 }]);
    expect(progress.at(-1)).toBe(bytes.byteLength);
  });
});

describe('NdjsonSplitter with a long line in many chunks', () => {
  it('joins every piece of the line once it ends', () => {
    const s = new NdjsonSplitter();
    const big = JSON.stringify({ data: 'x'.repeat(10_000) });
    const out: string[] = [];
    for (let i = 0; i < big.length; i += 333) out.push(...s.push(big.slice(i, i + 333)));
    out.push(...s.push('\n{"next":1}\n'));
    expect(out).toEqual([big, '{"next":1}']);
    expect(s.end()).toEqual([]);
  });
});
