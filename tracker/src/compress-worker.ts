/**
 * Source of the compression Worker, started from a Blob URL so the tracker stays one file.
 * Kept as a plain string (not a function's toString) so a minifier cannot rewrite it into code that
 * refers to helpers outside the worker. Every failure is answered as a message: a Worker error
 * must never surface in the page.
 */
export const COMPRESS_WORKER_SOURCE = `
self.onmessage = function (ev) {
  var id = ev.data && ev.data.id;
  try {
    var stream = new Blob([ev.data.text]).stream().pipeThrough(new CompressionStream('gzip'));
    new Response(stream).arrayBuffer().then(
      function (buf) { self.postMessage({ id: id, buf: buf }, [buf]); },
      function (err) { self.postMessage({ id: id, error: String(err) }); }
    );
  } catch (err) {
    self.postMessage({ id: id, error: String(err) });
  }
};
`;
