import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for a recorded site's asset host on loopback, with no CORS headers, and the misbehaving
 * answers the proxy must survive: too big, too slow, redirects to places it may not go.
 */
export interface AssetServer {
  origin: string;
  port: number;
  /** Requests per path, to tell cache hits from fetches. */
  hits: Map<string, number>;
  /** Headers of the last request per path (the proxy must send no cookies). */
  lastHeaders: Map<string, http.IncomingHttpHeaders>;
  close(): Promise<void>;
}

export const STYLE_CSS = `@import "more.css" screen;
@font-face { font-family: "Probe"; src: url(fonts/probe.woff2) format("woff2"), url('data:font/woff2;base64,AAAA'); }
.hero { background: url("img/hero.png") no-repeat; fill: url(#gradient); }
a.link:hover, .plain { color: rgb(255, 0, 0); }
`;

export async function startAssetServer(opts: { slowMs?: number; bigBytes?: number } = {}): Promise<AssetServer> {
  const hits = new Map<string, number>();
  const lastHeaders = new Map<string, http.IncomingHttpHeaders>();
  const bigBytes = opts.bigBytes ?? 200 * 1024;
  let origin = '';
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
    lastHeaders.set(url.pathname, req.headers);
    switch (url.pathname) {
      case '/style.css':
        res.writeHead(200, { 'content-type': 'text/css' }).end(STYLE_CSS);
        return;
      case '/more.css':
        res.writeHead(200, { 'content-type': 'text/css' }).end('.more:hover { color: blue }');
        return;
      case '/fonts/probe.woff2':
        res.writeHead(200, { 'content-type': 'font/woff2' }).end(Buffer.from('wOF2-not-really-a-font'));
        return;
      case '/page.html':
        res.writeHead(200, { 'content-type': 'text/html' }).end('<script>alert(1)</script>');
        return;
      case '/big-declared':
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(bigBytes) }).end(Buffer.alloc(bigBytes));
        return;
      case '/big-chunked': {
        // No Content-Length: the limit must hold while streaming.
        res.writeHead(200, { 'content-type': 'image/png' });
        let sent = 0;
        const more = () => {
          while (sent < bigBytes) {
            sent += 16 * 1024;
            if (!res.write(Buffer.alloc(16 * 1024))) return void res.once('drain', more);
          }
          res.end();
        };
        more();
        return;
      }
      case '/slow':
        setTimeout(() => res.writeHead(200, { 'content-type': 'text/css' }).end('.late {}'), opts.slowMs ?? 3_000).unref();
        return;
      case '/to-metadata':
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
        return;
      case '/to-localhost':
        // Loopback by name: only the resolved address tells.
        res.writeHead(302, { location: `http://localhost:${(server.address() as AddressInfo).port}/style.css` }).end();
        return;
      case '/to-style':
        res.writeHead(301, { location: '/style.css' }).end();
        return;
      case '/loop':
        res.writeHead(302, { location: '/loop' }).end();
        return;
      default:
        res.writeHead(404).end('nope');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
  return {
    origin, port, hits, lastHeaders,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
