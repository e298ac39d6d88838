import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Framing } from '../http/stream.js';

/**
 * The HTML export: one file that plays a session offline with rrweb-player 2.1.6. The player's UMD
 * bundle and stylesheet are inlined, the events sit in a `<script type="application/json">`, and a
 * Content-Security-Policy allowing nothing from the network keeps it offline: opening the file must
 * not call the recorded site (or anyone) back. Recorded images that were URLs do not show for that
 * reason; styles inlined by the recorder and data: images do.
 */

interface PlayerAssets {
  js: string;
  css: string;
}

let assets: PlayerAssets | null = null;

/** Read once from the installed package (its `exports` hide dist/, so resolve the entry and go next to it). */
function playerAssets(): PlayerAssets {
  if (!assets) {
    const dist = path.dirname(createRequire(import.meta.url).resolve('rrweb-player'));
    assets = {
      js: readFileSync(path.join(dist, 'rrweb-player.umd.min.cjs'), 'utf8'),
      css: readFileSync(path.join(dist, 'style.min.css'), 'utf8'),
    };
  }
  return assets;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Inside <script>/<style> only `</script`, `</style` or `<!--` can end or bend the element early.
 * Code: those sequences can only sit in strings, regexes or comments, where `<\/` and `<\!` mean the same.
 */
const escapeRawText = (s: string) => s.replace(/<\/(script|style)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');

/** Events JSON is escaped on its way into the file: `<` only appears inside JSON strings, where `\u003c` is the same. */
export const escapeEventLine = (line: string) => (line.includes('<') ? line.replace(/</g, '\\u003c') : line);

const CSP = [
  "default-src 'none'",
  "script-src 'unsafe-inline'",
  "style-src 'unsafe-inline'",
  'img-src data: blob:',
  'font-src data:',
  'media-src data: blob:',
].join('; ');

export interface HtmlExportInfo {
  sessionId: string;
  url: string;
  startedAt: number;
  durationMs: number;
}

/** The file around the events array: stream the events between `open` and `close`. */
export function htmlFraming(info: HtmlExportInfo): Framing {
  const { js, css } = playerAssets();
  const title = `Tandem session ${info.sessionId}`;
  const when = new Date(info.startedAt).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
  const head = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="Tandem (rrweb-player 2.1.6)">
<title>${escapeHtml(title)}</title>
<style>${escapeRawText(css)}</style>
<style>
  body { margin: 0; font: 14px/1.4 system-ui, sans-serif; background: #f4f5f7; color: #1d2433; }
  header { padding: 12px 20px; }
  header h1 { font-size: 16px; margin: 0 0 2px; }
  header p { margin: 0; color: #5b6478; overflow-wrap: anywhere; }
  #player { display: flex; justify-content: center; padding: 0 20px 20px; }
  #error { color: #b42318; padding: 0 20px; }
</style>
</head><body>
<header><h1>${escapeHtml(title)}</h1><p>${escapeHtml(info.url || '(no URL)')} · ${escapeHtml(when)} · ${Math.round(info.durationMs / 1000)} s</p></header>
<div id="player"></div><p id="error" hidden></p>
<script>${escapeRawText(js)}</script>
<script type="application/json" id="tandem-events">`;
  const tail = `</script>
<script>
(function () {
  try {
    var events = JSON.parse(document.getElementById('tandem-events').textContent);
    var Player = window.rrwebPlayer && (window.rrwebPlayer.default || window.rrwebPlayer);
    var width = Math.max(320, Math.min(window.innerWidth - 40, 1280));
    window.tandemPlayer = new Player({
      target: document.getElementById('player'),
      props: { events: events, width: width, height: Math.round(width * 9 / 16), autoPlay: true, showController: true },
    });
  } catch (err) {
    var el = document.getElementById('error');
    el.hidden = false;
    el.textContent = 'This recording cannot be played: ' + err;
  }
})();
</script>
</body></html>
`;
  return { open: head + '[', separator: ',', close: ']' + tail, empty: head + '[]' + tail };
}
