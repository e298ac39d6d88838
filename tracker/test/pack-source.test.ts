import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The worker evaluates the packer from its own source text (`String(tandemPack)`), so that text must run
 * alone once the tracker's build has minified it: no reference to anything outside the function. Built
 * here with the tracker's esbuild options, then run in a scope of its own (the round trip itself is
 * checked against the backend's unpackBatch in backend/test/ingest-pack.test.ts).
 */
describe('pack-source in the minified bundle', () => {
  it('runs on its own and packs a batch', async () => {
    const out = await build({
      entryPoints: [fileURLToPath(new URL('../src/pack-source.ts', import.meta.url))],
      bundle: true, format: 'iife', globalName: 'packModule', minify: true, target: ['es2020'], write: false, platform: 'browser',
    });
    const bundle = out.outputFiles[0].text;
    const source = new Function(`${bundle}; return packModule.PACK_SOURCE;`)() as string;
    expect(source.length).toBeLessThan(2500);
    // A fresh scope: only the source text, as in the worker.
    const pack = new Function(`${source}; return tandemPack;`)() as (b: unknown) => any;
    const body = {
      v: 1, sessionId: 's', tabId: 't',
      events: [
        { type: 2, data: { node: { type: 0, childNodes: [{ type: 2, tagName: 'p', attributes: {}, childNodes: [{ type: 3, textContent: 'hi', id: 3 }], id: 2 }], id: 1 } }, timestamp: 1000, seq: 4 },
        { type: 3, data: { source: 1, positions: [{ x: 1, y: 2, id: 3, timeOffset: -5 }] }, timestamp: 1050, seq: 5 },
      ],
    };
    expect(JSON.stringify(pack(body))).toBe(
      '{"v":1,"sessionId":"s","tabId":"t","events":[{"type":2,"data":{"node":{"type":0,"childNodes":[["p",{},["hi"]]],"id":1}},"timestamp":1000,"seq":4},'
      + '{"type":3,"data":{"source":1,"positions":[[1,2,3,-5]]},"timestamp":50}],"pack":1}',
    );
    expect(pack({ events: [{ type: 3, timestamp: 1.5, seq: 0 }] })).toBeNull();
  });
});
