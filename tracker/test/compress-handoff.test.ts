import { setImmediate } from 'node:timers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { COMPRESS_WORKER_SOURCE } from '../src/compress-worker.js';
import { Compressor, WORKER_PART_CHARS } from '../src/compress.js';
import { setWorkerSource } from '../src/gzip-sync.js';
import { Guard } from '../src/safe.js';

afterEach(() => {
  vi.unstubAllGlobals();
  setWorkerSource('');
});

/**
 * The hand-off of a long body to the compression worker (issue 8): the parts it is given are posted as
 * they are, each its own message (joining them on the page would copy them), up to WORKER_PART_CHARS per
 * task; the worker joins them in order. A stand-in Worker records what each task posted and answers.
 */
describe('Compressor: a body in parts goes to the worker part by part, a bounded amount per task', () => {
  it('posts every given part unjoined, several per task up to the limit, the last as `text`', async () => {
    // Tasks by hand: the hand-off's next task is its setTimeout(…, 0); the worker's 10 s watchdog is not run.
    const queue: (() => void)[] = [];
    vi.stubGlobal('setTimeout', (fn: () => void, ms?: number) => (ms ? 1 : queue.push(fn)));
    vi.stubGlobal('clearTimeout', () => {});
    const tasks: { part?: string; text?: string; parts?: boolean }[][] = [[]];
    class FakeWorker {
      onmessage: ((ev: { data: unknown }) => void) | null = null;
      postMessage(m: { id: number; part?: string; text?: string; parts?: boolean }) {
        tasks[tasks.length - 1].push({ part: m.part, text: m.text, parts: m.parts });
        if (m.text !== undefined) queueMicrotask(() => this.onmessage?.({ data: { id: m.id, buf: new ArrayBuffer(3) } }));
      }
      terminate() {}
    }
    vi.stubGlobal('Worker', FakeWorker);
    vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: () => 'blob:x', revokeObjectURL: () => {} }));
    setWorkerSource(COMPRESS_WORKER_SOURCE);
    const third = Math.floor(WORKER_PART_CHARS / 3);
    const parts = ['{"a":"', 'x'.repeat(third), 'y'.repeat(third), 'z'.repeat(third), 'w'.repeat(third), '"}'];
    const text = parts.join('');
    const c = new Compressor(new Guard());
    const done = c.compress(text, parts);
    const settle = () => new Promise((r) => setImmediate(r));
    await settle();
    while (queue.length) {
      tasks.push([]);
      queue.shift()!();
      await settle();
    }
    const out = await done;
    expect(out).toBeInstanceOf(Uint8Array);
    const posted = tasks.filter((t) => t.length);
    // Each given part is one message, in order, none joined or cut.
    expect(posted.flat().map((m) => m.part ?? m.text)).toEqual(parts);
    expect(posted.flat().at(-1)).toMatchObject({ text: '"}', parts: true });
    // Several small parts share a task; no task posts more than the limit (one part alone may).
    expect(posted.length).toBeLessThan(parts.length);
    expect(posted.length).toBeGreaterThan(1);
    for (const t of posted) {
      const chars = t.reduce((n, m) => n + (m.part ?? m.text ?? '').length, 0);
      if (t.length > 1) expect(chars).toBeLessThanOrEqual(WORKER_PART_CHARS);
    }
  });
});
