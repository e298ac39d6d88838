import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { openPath } from '../src/lib/api/early';
import { readOpenStream } from '../src/lib/player/open-stream';
import { parseShareTime } from '../src/lib/player/share';

/** index.html's inline script, run in a sandbox with `location.hash` set and `fetch` recorded. */
function earlyRequests(hash: string, chunks: string[] = []): { paths: string[]; links: { rel: string; href: string }[] } {
  const html = readFileSync(resolve(__dirname, '../index.html'), 'utf8');
  const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1];
  const paths: string[] = [];
  const links: { rel: string; href: string }[] = [];
  const window: Record<string, unknown> = { __tandemSessionChunks: chunks };
  const sandbox = {
    window,
    location: { hash },
    URLSearchParams,
    isFinite,
    Number,
    String,
    document: { createElement: () => ({}), head: { appendChild: (l: { rel: string; href: string }) => links.push({ rel: l.rel, href: l.href }) } },
    fetch: (path: string) => (paths.push(path), Promise.resolve(new Response('{}'))),
  };
  window.fetch = sandbox.fetch;
  window.URLSearchParams = URLSearchParams;
  runInNewContext(script, sandbox);
  const early = window.__tandemEarly as Record<string, unknown> | undefined;
  expect(Object.keys(early ?? {}).sort()).toEqual([...paths].sort());
  return { paths, links };
}

/** What the app asks for on the same link (SessionView.open → openPath). */
function appPath(hash: string): string {
  const m = /^#\/sessions\/([^/?]+)\/?(?:\?(.*))?$/.exec(hash)!;
  const share = parseShareTime(new URLSearchParams(m[2] ?? ''));
  return openPath(decodeURIComponent(m[1]), share.t, share.tabId);
}

describe("index.html's early requests", () => {
  it('asks on a session link for exactly the paths the app will ask for', () => {
    for (const hash of [
      '#/sessions/abc123def456?t=61234',
      '#/sessions/abc123def456?t=61234.9&tab=tab_00000001',
      '#/sessions/abc123def456',
      '#/sessions/abc123def456/?tab=tab-2xxxxxxx',
      '#/sessions/abc123def456?t=%20300%20',
      '#/sessions/abc123def456?t=-4',
      '#/sessions/abc123def456?t=soon&x=1',
    ]) {
      const { paths } = earlyRequests(hash);
      expect(paths, hash).toEqual(['/api/v1/auth/me', appPath(hash)]);
    }
  });

  it('asks nothing elsewhere, and preloads the session chunks only on a session link', () => {
    for (const hash of ['', '#/sessions', '#/sessions?range=7d', '#/live/abc123def456', '#/settings']) {
      const { paths, links } = earlyRequests(hash, ['/assets/SessionPage-x.js']);
      expect(paths, hash).toEqual([]);
      expect(links, hash).toEqual([]);
    }
    const { links } = earlyRequests('#/sessions/abc123def456?t=5', ['/assets/SessionPage-x.js', '/assets/SessionPage-x.css']);
    expect(links).toEqual([
      { rel: 'modulepreload', href: '/assets/SessionPage-x.js' },
      { rel: 'stylesheet', href: '/assets/SessionPage-x.css' },
    ]);
  });
});

/** The inline script in a build (the early frame's chunk named): what it writes into the parser, and the path it hands that chunk. */
function earlyFrameWrite(hash: string): { written: string[]; path: unknown } {
  const html = readFileSync(resolve(__dirname, '../index.html'), 'utf8');
  const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1];
  const written: string[] = [];
  const window: Record<string, unknown> = { __tandemEarlyFrameSrc: '/assets/early-frame-x.js', URLSearchParams };
  const fetch = () => Promise.resolve(new Response('{}'));
  window.fetch = fetch;
  const document = { createElement: () => ({}), head: { appendChild: () => {} }, write: (html: string) => written.push(html) };
  runInNewContext(script, { window, location: { hash }, URLSearchParams, isFinite, Number, String, document, fetch });
  return { written, path: window.__tandemEarlyFrame };
}

describe("index.html's early frame", () => {
  it('on a shared moment (t) runs the early frame chunk, before the app, for exactly the open path the app asks for', () => {
    for (const hash of ['#/sessions/abc123def456?t=61234', '#/sessions/abc123def456?t=61234.9&tab=tab_00000001']) {
      const { written, path } = earlyFrameWrite(hash);
      expect(written, hash).toEqual(['<script type="module" crossorigin async src="/assets/early-frame-x.js"></script>']);
      expect(path, hash).toBe(appPath(hash));
    }
  });

  it('on a shared moment preloads only the early frame\'s chunks (all of them, and the CSS), leaving the page\'s other chunks for the app', () => {
    const html = readFileSync(resolve(__dirname, '../index.html'), 'utf8');
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1];
    const run = (hash: string) => {
      const links: { rel: string; href: string }[] = [];
      const window: Record<string, unknown> = {
        __tandemEarlyFrameSrc: '/assets/early-frame-x.js',
        // ndjson-x: imported by the early frame and by the app's entry, so not in the session page's list
        __tandemEarlyChunks: ['/assets/early-frame-x.js', '/assets/style-x.js', '/assets/ndjson-x.js'],
        __tandemSessionChunks: ['/assets/SessionPage-x.js', '/assets/SessionPage-x.css', '/assets/early-frame-x.js', '/assets/style-x.js', '/assets/recordings-x.js'],
        URLSearchParams,
      };
      const fetch = () => Promise.resolve(new Response('{}'));
      window.fetch = fetch;
      const document = { createElement: () => ({}), head: { appendChild: (l: { rel: string; href: string }) => links.push({ rel: l.rel, href: l.href }) }, write: () => {} };
      runInNewContext(script, { window, location: { hash }, URLSearchParams, isFinite, Number, String, document, fetch });
      return { links: links.map((l) => `${l.rel} ${l.href}`), later: window.__tandemLaterChunks };
    };
    expect(run('#/sessions/abc123def456?t=5')).toEqual({
      links: ['stylesheet /assets/SessionPage-x.css', 'modulepreload /assets/early-frame-x.js', 'modulepreload /assets/style-x.js', 'modulepreload /assets/ndjson-x.js'],
      later: ['/assets/SessionPage-x.js', '/assets/recordings-x.js'],
    });
    // Without a moment the page loads as before: everything preloaded now.
    expect(run('#/sessions/abc123def456').links).toHaveLength(5);
  });

  it('not on a session link without a moment, nor elsewhere', () => {
    for (const hash of ['#/sessions/abc123def456', '#/sessions/abc123def456?tab=t1', '#/sessions', '#/live/abc123def456']) {
      const { written, path } = earlyFrameWrite(hash);
      expect(written, hash).toEqual([]);
      expect(path, hash).toBeUndefined();
    }
  });
});

/** The inline script with `fetch` answering `answer(path)`, as the browser runs it (ReadableStream, Response). */
function earlyWith(hash: string, answer: (path: string) => Response): Record<string, Promise<Response>> {
  const html = readFileSync(resolve(__dirname, '../index.html'), 'utf8');
  const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1];
  const window: Record<string, unknown> = { ReadableStream, Response, URLSearchParams };
  const fetch = (path: string) => Promise.resolve(answer(path));
  window.fetch = fetch;
  const document = { createElement: () => ({}), head: { appendChild: () => {} } };
  runInNewContext(script, { window, location: { hash }, URLSearchParams, isFinite, Number, String, document, fetch });
  return window.__tandemEarly as Record<string, Promise<Response>>;
}

describe("index.html's early open", () => {
  const hash = '#/sessions/abc123def456?t=61234';
  const path = appPath(hash);

  it('reads the answer to its end before the app asks for it, and hands the app the same bytes', async () => {
    const text = `{"head":1}\n${'{"seq":1,"timestamp":2}\n'.repeat(200)}`;
    const bytes = new TextEncoder().encode(text);
    let pulled = 0;
    let ended = false;
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= bytes.length) return (ended = true), controller.close();
        controller.enqueue(bytes.slice(pulled, pulled + 700));
        pulled += 700;
      },
    }, { highWaterMark: 0 });
    const early = earlyWith(hash, (p) => new Response(p === path ? source : '{}', { headers: { 'x-kind': 'ndjson' } }));
    const response = await early[path];
    // Nobody has read the answer yet: the early script did, to its end (left alone, the source would
    // only be pulled as the reader asks).
    for (let i = 0; i < 50 && !ended; i++) await new Promise((r) => setTimeout(r, 0));
    expect(ended).toBe(true);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-kind')).toBe('ndjson');
    expect(await response.text()).toBe(text);
  });

  it('leaves an answer that is not a success as it came (its error body is read by the app)', async () => {
    const early = earlyWith(hash, () => new Response('{"error":{"code":"not_found","message":"No such session"}}', { status: 404 }));
    const response = await early[path];
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: { code: 'not_found', message: 'No such session' } });
  });

  it('lets the app stop reading: cancelling the answer cancels the request', async () => {
    let cancelled: unknown = null;
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"head":1}\n'));
      },
      cancel(reason) {
        cancelled = reason ?? 'cancelled';
      },
    });
    const early = earlyWith(hash, (p) => new Response(p === path ? source : '{}'));
    const response = await early[path];
    await response.body!.cancel('left the page');
    expect(cancelled).toBe('left the page');
  });
});

function streamOf(text: string, cut: number[]): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  const points = [0, ...cut, bytes.length];
  return new ReadableStream({
    start(controller) {
      for (let i = 1; i < points.length; i++) controller.enqueue(bytes.slice(points[i - 1], points[i]));
      controller.close();
    },
  });
}

describe('readOpenStream', () => {
  const frame = { tabId: 't1', offset: 5, window: { index: 0, fromSeq: 0, toSeq: 2, start: 0, end: 10 }, tabs: [], keyframes: [] };
  const session = { sessionId: 's1', tabs: [], keyframes: [] };
  const events = '{"type":3,"seq":0,"timestamp":30}\n{"type":3,"seq":1,"timestamp":10}\n{"type":3,"seq":2,"timestamp":20}\n{"windowEvents":3}\n';
  const restLast = `${JSON.stringify(frame)}\n${events}${JSON.stringify({ session })}\n`;
  const restFirst = `${JSON.stringify(frame)}\n${JSON.stringify({ session })}\n${events}`;

  it('hands over the frame, the events in timestamp order with progress and the head, whatever the chunking and order', async () => {
    for (const body of [restLast, restFirst]) {
      for (const cut of [[], [3], [body.indexOf('\n') + 1], [body.indexOf('\n') - 1, body.length - 4]]) {
        const stream = readOpenStream(streamOf(body, cut));
        expect(await stream.frame).toEqual(frame);
        const seen: number[] = [];
        stream.onProgress = (p) => seen.push(p.items);
        const got = await stream.events;
        expect(got.map((e) => e.seq), String(cut)).toEqual([1, 2, 0]);
        expect(stream.progress.items).toBe(3);
        // What had arrived when the window ended: at least everything up to its end line, at most the whole answer.
        const windowEnd = body.indexOf('{"windowEvents"');
        expect(stream.progress.bytes).toBeGreaterThanOrEqual(new TextEncoder().encode(body.slice(0, body.indexOf('\n', windowEnd) + 1)).length);
        expect(stream.progress.bytes).toBeLessThanOrEqual(new TextEncoder().encode(body).length);
        expect(await stream.head).toEqual({ session, tabId: 't1', offset: 5, window: frame.window });
      }
    }
  });

  it('gives the head as soon as the detail is in, before the events that follow it', async () => {
    let push!: (s: string) => void;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (push = (s) => c.enqueue(new TextEncoder().encode(s))) });
    const stream = readOpenStream(body);
    push(`${JSON.stringify(frame)}\n${JSON.stringify({ session })}\n`);
    expect((await stream.head).session).toEqual(session);
  });

  it('gives the events at the window\'s end, before the detail behind them and the answer\'s end', async () => {
    let push!: (s: string) => void;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (push = (s) => c.enqueue(new TextEncoder().encode(s))) });
    const stream = readOpenStream(body);
    const upToEnd = `${JSON.stringify(frame)}\n${events}`;
    push(upToEnd);
    expect((await stream.events).map((e) => e.seq)).toEqual([1, 2, 0]);
    expect(stream.progress).toEqual({ items: 3, bytes: new TextEncoder().encode(upToEnd).length });
    push(`${JSON.stringify({ session })}\n`);
    expect((await stream.head).session).toEqual(session);
  });

  it('rejects the frame and the head when the answer ends before them', async () => {
    const stream = readOpenStream(streamOf('', []));
    await expect(stream.frame).rejects.toThrow(/ended/);
    await expect(stream.head).rejects.toThrow(/ended/);
    await expect(stream.events).rejects.toThrow(/ended/);
  });

  it('rejects the head, and still gives the events, when the answer ends without the detail', async () => {
    const stream = readOpenStream(streamOf(`${JSON.stringify(frame)}\n${events}`, []));
    await expect(stream.head).rejects.toThrow(/ended/);
    expect((await stream.events).map((e) => e.seq)).toEqual([1, 2, 0]);
  });
});

