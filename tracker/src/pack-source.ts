/**
 * Batch packing, version 1, run in the compression worker before gzip (compress-worker.ts): the exact,
 * reversible rewrite of a batch that backend/src/ingest/unpack.ts undoes (the rules are listed there).
 * Measured on the bytes bench's minute (docs/decisions.md, issue 8): gzip alone 0.134× of the raw JSON,
 * packed then gzipped 0.098×. Most of it is the first snapshot: rrweb numbers its nodes 1, 2, 3… in document
 * order, and those ~800 distinct numbers are what deflate compresses worst.
 *
 * A plain ES5 string (like the worker source) so a minifier cannot make it depend on helpers outside the
 * worker; tests evaluate it to check the round trip against the backend's unpackBatch. It packs only what it
 * can restore exactly: a key is dropped only when it is the object's last key (it is put back last), and a
 * batch whose timestamps are not all safe integers, or with a node without a numeric id, is left alone
 * (returns null: the worker gzips the text it was given).
 */
export const PACK_SOURCE = `
function tandemPack(body) {
  try {
    return packBatch(body);
  } catch (err) {
    return null; // the body may be half rewritten: the caller sends the text it started from
  }
}
function packBatch(body) {
  var events = body && body.events;
  if (!events || !events.length || body.pack !== undefined) return null;
  var i, e, ts = 0, seq = -2;
  for (i = 0; i < events.length; i++) {
    if (typeof events[i].timestamp !== 'number' || !Number.isSafeInteger(events[i].timestamp)) return null;
  }
  function lastKeyIs(o, k) { var ks = Object.keys(o); return ks[ks.length - 1] === k; }
  function onlyKeys(o, ks) {
    var own = Object.keys(o);
    if (own.length !== ks.length) return false;
    for (var j = 0; j < ks.length; j++) if (own[j] !== ks[j]) return false;
    return true;
  }
  function tree(root) {
    var next = null;
    function take(n) {
      // A node without a numeric id could not be told from one whose id was dropped: leave the batch alone.
      if (!n || typeof n !== 'object' || Array.isArray(n) || typeof n.id !== 'number') throw new Error('node');
      if (next !== null && n.id === next && lastKeyIs(n, 'id')) delete n.id;
      next = (n.id === undefined ? next : n.id) + 1;
    }
    function pack(n) {
      if (n.type === 3 && onlyKeys(n, ['type', 'textContent']) && typeof n.textContent === 'string') return n.textContent;
      if (n.type === 2 && onlyKeys(n, ['type', 'tagName', 'attributes', 'childNodes'])) return [n.tagName, n.attributes, n.childNodes];
      return n;
    }
    take(root);
    var stack = [];
    if (Array.isArray(root.childNodes)) stack.push({ list: root.childNodes, i: 0 });
    while (stack.length) {
      var f = stack[stack.length - 1];
      if (f.i >= f.list.length) {
        for (var k = 0; k < f.list.length; k++) f.list[k] = pack(f.list[k]);
        stack.pop();
        continue;
      }
      var n = f.list[f.i++];
      take(n);
      if (Array.isArray(n.childNodes)) stack.push({ list: n.childNodes, i: 0 });
    }
  }
  for (i = 0; i < events.length; i++) {
    e = events[i];
    var t = e.timestamp;
    e.timestamp = t - ts;
    ts = t;
    if (i > 0 && e.seq === seq + 1 && lastKeyIs(e, 'seq')) { seq = e.seq; delete e.seq; } else seq = e.seq;
    var d = e.data;
    if (!d || typeof d !== 'object') continue;
    if (e.type === 2 && d.node) tree(d.node);
    else if (e.type === 3 && d.source === 0 && Array.isArray(d.adds)) {
      var nextId = null;
      for (var a = 0; a < d.adds.length; a++) {
        var node = d.adds[a] && d.adds[a].node;
        if (!node || typeof node !== 'object' || Array.isArray(node)) continue;
        if (typeof node.id !== 'number') throw new Error('added node');
        if (nextId !== null && node.id === nextId && lastKeyIs(node, 'id')) delete node.id;
        nextId = (node.id === undefined ? nextId : node.id) + 1;
      }
    } else if (e.type === 3 && (d.source === 1 || d.source === 6 || d.source === 12) && Array.isArray(d.positions)) {
      for (var p = 0; p < d.positions.length; p++) {
        var q = d.positions[p];
        if (q && onlyKeys(q, ['x', 'y', 'id', 'timeOffset']) && typeof q.x === 'number' && typeof q.y === 'number' &&
            typeof q.id === 'number' && typeof q.timeOffset === 'number') d.positions[p] = [q.x, q.y, q.id, q.timeOffset];
      }
    }
  }
  body.pack = 1;
  return body;
}
`;
