import { describe, expect, it } from 'vitest';
import type { NetworkPayload } from '@tandem/protocol';
import { installNetworkCapture, requestBodySize } from '../src/network.js';
import { REDACTED } from '../src/redact.js';
import { Guard } from '../src/safe.js';

function setup(impl: (this: unknown, input: unknown, init?: RequestInit) => Promise<Response>) {
  const win = { fetch: impl, location: { href: 'https://shop.test/demo/' } } as unknown as Window & typeof globalThis;
  const events: NetworkPayload[] = [];
  const undo = installNetworkCapture({ win, guard: new Guard(() => {}), emit: (p) => events.push(p), ignorePrefixes: ['https://ingest.test/ingest/'] });
  return { win, events, undo };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('fetch capture', () => {
  it('records method, redacted absolute URL, status and sizes, and returns the very same promise', async () => {
    const res = new Response('[1,2]', { status: 201, headers: { 'content-length': '5' } });
    const p = Promise.resolve(res);
    const { win, events } = setup(() => p);
    const out = win.fetch('/demo/api/items?token=abc&page=2', { method: 'post', body: 'hello' });
    expect(out).toBe(p);
    expect(await out).toBe(res);
    await flush();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'fetch', method: 'POST', status: 201, requestBytes: 5, responseBytes: 5 });
    expect(events[0].url).toBe(`https://shop.test/demo/api/items?token=${REDACTED}&page=2`);
    expect(JSON.stringify(events[0])).not.toContain('hello');
  });

  it('passes `this` and arguments through untouched', async () => {
    let seenThis: unknown;
    let seenArgs: unknown[] = [];
    const { win } = setup(function (this: unknown, ...args: unknown[]) {
      seenThis = this;
      seenArgs = args;
      return Promise.resolve(new Response(''));
    });
    const init = { headers: { Authorization: 'Bearer x' } };
    await win.fetch.call(win, 'https://a.test/', init);
    expect(seenThis).toBe(win);
    expect(seenArgs).toEqual(['https://a.test/', init]);
  });

  it('rethrows a synchronous exception and keeps a rejection the page’s own', async () => {
    const boom = new TypeError('Illegal invocation');
    const { win, events } = setup(() => {
      throw boom;
    });
    expect(() => win.fetch('x')).toThrow(boom);
    const failing = setup(() => Promise.reject(new TypeError('Failed to fetch')));
    await expect(failing.win.fetch('https://down.test/')).rejects.toThrow('Failed to fetch');
    await flush();
    expect(failing.events[0]).toMatchObject({ status: 0, error: 'TypeError' });
    expect(events).toHaveLength(0);
  });

  it('never records the tracker’s own ingest requests', async () => {
    const { win, events } = setup(() => Promise.resolve(new Response('{}')));
    await win.fetch('https://ingest.test/ingest/v1/batch?token=t');
    await flush();
    expect(events).toHaveLength(0);
  });

  it('uninstall restores the original fetch', () => {
    const impl = () => Promise.resolve(new Response(''));
    const { win, undo } = setup(impl);
    expect(win.fetch).not.toBe(impl);
    undo();
    expect(win.fetch).toBe(impl);
  });
});

describe('requestBodySize', () => {
  it('measures cheap bodies only', () => {
    expect(requestBodySize('abcd')).toBe(4);
    expect(requestBodySize(new Uint8Array(7))).toBe(7);
    expect(requestBodySize(new Blob(['123']))).toBe(3);
    expect(requestBodySize(new URLSearchParams({ a: '1' }))).toBe(3);
    expect(requestBodySize(new FormData())).toBeUndefined();
    expect(requestBodySize(undefined)).toBeUndefined();
  });
});
