import { PACK_SOURCE } from './pack-source.js';

/**
 * Source of the compression Worker, started from a Blob URL so the tracker stays one file.
 * Kept as a plain string (not a function's toString) so a minifier cannot rewrite it into code that
 * refers to helpers outside the worker. Every failure is answered as a message: a Worker error
 * must never surface in the page.
 *
 * With `pack` (a version the server's start answer said it unpacks, `config.pack`), the batch is packed
 * first (pack-source.ts): JSON.parse + rewrite + JSON.stringify here, off the page's main thread. A batch
 * that cannot be packed exactly is compressed as it came. Version 2 also leaves out the envelope's ids
 * (the server takes them from the token) and uses zlib ('deflate'), which such a server reads as well.
 * A long body comes in parts (`part` messages, then the last piece as `text` with `parts: true`;
 * compress.ts WORKER_PART_CHARS): they are joined here, off the page's main thread.
 */
export const COMPRESS_WORKER_SOURCE = `
${PACK_SOURCE}
function packText(text, version) {
  try {
    var packed = tandemPack(JSON.parse(text));
    if (!packed) return text;
    if (version >= 2) {
      delete packed.sessionId;
      delete packed.tabId;
      packed.pack = 2;
    }
    return JSON.stringify(packed);
  } catch (err) {
    return text;
  }
}
var held = {};
self.onmessage = function (ev) {
  var id = ev.data && ev.data.id;
  try {
    if (typeof ev.data.part === 'string') {
      (held[id] = held[id] || []).push(ev.data.part);
      return;
    }
    var whole = ev.data.text;
    if (ev.data.parts) {
      whole = (held[id] || []).join('') + whole;
      delete held[id];
    }
    var version = ev.data.pack || 0;
    var text = version ? packText(whole, version) : whole;
    var stream = new Blob([text]).stream().pipeThrough(new CompressionStream(version >= 2 ? 'deflate' : 'gzip'));
    new Response(stream).arrayBuffer().then(
      function (buf) { self.postMessage({ id: id, buf: buf }, [buf]); },
      function (err) { self.postMessage({ id: id, error: String(err) }); }
    );
  } catch (err) {
    delete held[id];
    self.postMessage({ id: id, error: String(err) });
  }
};
`;
