import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RRWEB_EVENT, type TandemEvent } from '@tandem/protocol';
import { gzipSync, strToU8 } from 'fflate';
import { Compressor, MIN_COMPRESS_BYTES } from '../src/compress.js';
import { GZIP_GLOBAL, loadSyncGzipWhenIdle, setSyncGzip, syncGzip } from '../src/gzip-sync.js';
import { Guard } from '../src/safe.js';

const text = JSON.stringify({ events: Array.from({ length: 50 }, (_, i) => ({ seq: i, data: 'same words again and again' })) });

afterEach(() => {
  setSyncGzip(null);
  vi.unstubAllGlobals();
});

describe('sync gzip for the pagehide path (its own chunk in /tracker.js builds)', () => {
  it('compressSync sends plain JSON until the gzip is there, gzip after', () => {
    expect(text.length).toBeGreaterThan(MIN_COMPRESS_BYTES);
    const c = new Compressor(new Guard());
    expect(c.compressSync(text)).toBe(text);
    setSyncGzip((t) => gzipSync(strToU8(t)));
    const body = c.compressSync(text);
    expect(body).toBeInstanceOf(Uint8Array);
    expect(gunzipSync(body as Uint8Array).toString()).toBe(text);
    expect((body as Uint8Array).byteLength).toBeLessThan(text.length / 4);
  });

  it('the ES module build sets it at import', async () => {
    await import('../src/index.js');
    expect(syncGzip()).not.toBeNull();
  }, 60_000); // the whole SDK (rrweb, the plugin) is transformed for this import

  it('loads the chunk at an idle moment after the first full snapshot, as a script; a failure waits for the next snapshot', async () => {
    const idle: (() => void)[] = [];
    vi.stubGlobal('requestIdleCallback', (fn: () => void) => void idle.push(fn));
    const appended: { src: string; onload?: () => void; onerror?: () => void }[] = [];
    const win: Record<string, unknown> = {};
    const script = () => ({ remove() {} }) as unknown as { src: string; onload?: () => void; onerror?: () => void; remove(): void };
    vi.stubGlobal('document', {
      defaultView: win,
      head: { appendChild: (s: (typeof appended)[number]) => void appended.push(s) },
      createElement: script,
    });
    const listeners = new Set<(e: TandemEvent) => void>();
    const bus = { subscribe: (fn: (e: TandemEvent) => void) => (listeners.add(fn), () => void listeners.delete(fn)) };
    const publish = (type: number) => {
      for (const fn of [...listeners]) fn({ type, data: {}, timestamp: 1, seq: 1 } as unknown as TandemEvent);
    };
    const errors: string[] = [];
    loadSyncGzipWhenIdle(bus, 'https://t.test/tracker-gzip.js?v=1', (_err, where) => errors.push(where));

    publish(RRWEB_EVENT.Meta);
    expect(idle).toHaveLength(0);
    publish(RRWEB_EVENT.FullSnapshot);
    expect(appended).toHaveLength(0); // not in the snapshot's task
    idle.shift()!();
    expect(appended.map((s) => s.src)).toEqual(['https://t.test/tracker-gzip.js?v=1']);
    appended[0].onerror!();
    await Promise.resolve();
    expect(errors).toEqual(['gzip chunk']);
    expect(syncGzip()).toBeNull();

    publish(RRWEB_EVENT.FullSnapshot);
    idle.shift()!();
    win[GZIP_GLOBAL] = (t: string) => gzipSync(strToU8(t));
    appended[1].onload!();
    await Promise.resolve();
    await Promise.resolve();
    expect(syncGzip()).toBe(win[GZIP_GLOBAL]);
    expect(listeners.size).toBe(0); // done: nothing left on the bus
  });
});
