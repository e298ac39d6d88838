import { PACK_SOURCE } from './pack-source.js';

/**
 * Source of the compression Worker, started from a Blob URL so the tracker stays one file.
 * Kept as a plain string (not a function's toString) so a minifier cannot rewrite it into code that
 * refers to helpers outside the worker. Every failure is answered as a message: a Worker error
 * must never surface in the page.
 *
 * With `pack` (the server's start answer said it unpacks, `config.pack`), the batch is packed first
 * (pack-source.ts): JSON.parse + rewrite + JSON.stringify here, off the page's main thread. A batch that
 * cannot be packed exactly is gzipped as it came.
 */
export const COMPRESS_WORKER_SOURCE = `
${PACK_SOURCE}
function packText(text) {
  try {
    var packed = tandemPack(JSON.parse(text));
    return packed ? JSON.stringify(packed) : text;
  } catch (err) {
    return text;
  }
}
self.onmessage = function (ev) {
  var id = ev.data && ev.data.id;
  try {
    var text = ev.data.pack ? packText(ev.data.text) : ev.data.text;
    var stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
    new Response(stream).arrayBuffer().then(
      function (buf) { self.postMessage({ id: id, buf: buf }, [buf]); },
      function (err) { self.postMessage({ id: id, error: String(err) }); }
    );
  } catch (err) {
    self.postMessage({ id: id, error: String(err) });
  }
};
`;
