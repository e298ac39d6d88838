/**
 * Batch packing, version 1, run in the compression worker before gzip (compress-worker.ts): the exact,
 * reversible rewrite of a batch that backend/src/ingest/unpack.ts undoes (the rules are listed there).
 * Measured on the bytes bench's minute (docs/decisions.md, issue 8): gzip alone 0.134× of the raw JSON,
 * packed then gzipped 0.098×. Most of it is the first snapshot: rrweb numbers its nodes 1, 2, 3… in document
 * order, and those ~800 distinct numbers are what deflate compresses worst.
 *
 * The worker gets it as source text: `String(tandemPack)`, minified with the bundle (1 KB brotli in
 * /tracker.js instead of 2). So it must stand alone: no imports, no outer names, nothing a compiler would
 * lower into a helper (plain ES5); tracker/test/pack-source.test.ts minifies it with esbuild and runs the
 * result on its own, and backend/test/ingest-pack.test.ts checks the round trip against unpackBatch.
 * It packs only what it can restore exactly: a key is dropped only when it is the object's last key (it is put back last), and a
 * batch whose timestamps are not all safe integers, or with a node without a numeric id, is left alone
 * (returns null: the worker gzips the text it was given).
 */
/* eslint-disable no-var -- ES5 on purpose: see above */
export function tandemPack(body: any): any {
  try {
    return packBatch();
  } catch (err) {
    return null; // the body may be half rewritten: the caller sends the text it started from
  }

  function packBatch(): any {
    var events = body && body.events;
    if (!events || !events.length || body.pack !== undefined) return null;
    var i, e, ts = 0, seq = -2;
    for (i = 0; i < events.length; i++) {
      if (typeof events[i].timestamp !== 'number' || !Number.isSafeInteger(events[i].timestamp)) return null;
    }
    for (i = 0; i < events.length; i++) {
      e = events[i];
      var t = e.timestamp;
      e.timestamp = t - ts;
      ts = t;
      if (i > 0 && e.seq === seq + 1 && lastKeyIs(e, 'seq')) {
        seq = e.seq;
        delete e.seq;
      } else seq = e.seq;
      var d = e.data;
      if (!d || typeof d !== 'object') continue;
      if (e.type === 2 && d.node) tree(d.node);
      else if (e.type === 3 && d.source === 0 && Array.isArray(d.adds)) adds(d.adds);
      else if (e.type === 3 && (d.source === 1 || d.source === 6 || d.source === 12) && Array.isArray(d.positions)) positions(d.positions);
    }
    body.pack = 1;
    return body;
  }

  function lastKeyIs(o: any, k: string): boolean {
    var ks = Object.keys(o);
    return ks[ks.length - 1] === k;
  }

  function onlyKeys(o: any, ks: string[]): boolean {
    var own = Object.keys(o);
    if (own.length !== ks.length) return false;
    for (var j = 0; j < ks.length; j++) if (own[j] !== ks[j]) return false;
    return true;
  }

  /** A snapshot's nodes in document order, with an explicit stack (pages nest deeper than a call stack likes). */
  function tree(root: any): void {
    var next: number | null = null;
    var take = function (n: any): void {
      // A node without a numeric id could not be told from one whose id was dropped: leave the batch alone.
      if (!n || typeof n !== 'object' || Array.isArray(n) || typeof n.id !== 'number') throw new Error('node');
      if (next !== null && n.id === next && lastKeyIs(n, 'id')) delete n.id;
      next = (n.id === undefined ? (next as number) : n.id) + 1;
    };
    var pack = function (n: any): any {
      if (n.type === 3 && typeof n.textContent === 'string' && onlyKeys(n, ['type', 'textContent'])) return n.textContent;
      if (n.type === 2 && onlyKeys(n, ['type', 'tagName', 'attributes', 'childNodes'])) return [n.tagName, n.attributes, n.childNodes];
      return n;
    };
    take(root);
    var stack: { list: any[]; i: number }[] = [];
    if (Array.isArray(root.childNodes)) stack.push({ list: root.childNodes, i: 0 });
    while (stack.length) {
      var f = stack[stack.length - 1];
      if (f.i >= f.list.length) {
        // Children are done (their own lists already packed): now each can take its short form.
        for (var k = 0; k < f.list.length; k++) f.list[k] = pack(f.list[k]);
        stack.pop();
        continue;
      }
      var n = f.list[f.i++];
      take(n);
      if (Array.isArray(n.childNodes)) stack.push({ list: n.childNodes, i: 0 });
    }
  }

  function adds(list: any[]): void {
    var next: number | null = null;
    for (var a = 0; a < list.length; a++) {
      var node = list[a] && list[a].node;
      if (!node || typeof node !== 'object' || Array.isArray(node)) continue;
      if (typeof node.id !== 'number') throw new Error('added node');
      if (next !== null && node.id === next && lastKeyIs(node, 'id')) delete node.id;
      next = (node.id === undefined ? (next as number) : node.id) + 1;
    }
  }

  function positions(list: any[]): void {
    for (var p = 0; p < list.length; p++) {
      var q = list[p];
      if (q && typeof q === 'object' && onlyKeys(q, ['x', 'y', 'id', 'timeOffset']) && typeof q.x === 'number' &&
        typeof q.y === 'number' && typeof q.id === 'number' && typeof q.timeOffset === 'number') list[p] = [q.x, q.y, q.id, q.timeOffset];
    }
  }
}

export { PACK_MAX_VERSION, packVersionFor } from './pack-version.js';

/** What the worker evaluates: the function's own (minified) text, called by its own name. */
export const PACK_SOURCE = `var tandemPack = ${String(tandemPack)};`;
