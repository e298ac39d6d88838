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
 *
 * rrweb-player plays one document, and each browser tab is its own document (its own snapshots): a
 * session with several tabs gets one events element per tab and a row of tab buttons above the player,
 * which rebuilds the player with the chosen tab's events.
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

/** One events element per tab; the first keeps the id `tandem-events`. */
const tabScript = (index: number, label: string) =>
  `<script type="application/json" id="tandem-events${index === 0 ? '' : `-${index + 1}`}" class="tandem-tab" data-label="${escapeHtml(label)}">`;

export interface HtmlTab {
  label: string;
  /** the tab's events as rrweb JSON lines (read when their turn comes) */
  lines: AsyncIterable<string>;
}

/**
 * The events part of the file, to stream between htmlFraming's `open` and `close`: each tab's events
 * array in its own element, escaped (commas are written here, so the framing's separator is empty).
 */
export async function* htmlTabLines(tabs: HtmlTab[]): AsyncIterable<string> {
  for (let i = 0; i < tabs.length; i++) {
    yield `${i === 0 ? '' : ']</script>\n'}${tabScript(i, tabs[i].label)}[`;
    let first = true;
    for await (const line of tabs[i].lines) {
      yield (first ? '' : ',') + escapeEventLine(line);
      first = false;
    }
  }
  yield ']</script>';
}

/** The file around the events (htmlTabLines). */
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
  #tabs { display: flex; flex-wrap: wrap; gap: 6px; padding: 0 20px 10px; }
  #tabs button { font: inherit; padding: 4px 10px; border: 1px solid #c9cfdb; border-radius: 6px; background: #fff; cursor: pointer; }
  #tabs button[aria-pressed="true"] { background: #1d2433; color: #fff; border-color: #1d2433; }
  #player { display: flex; justify-content: center; padding: 0 20px 20px; }
  #error { color: #b42318; padding: 0 20px; }
</style>
</head><body>
<header><h1>${escapeHtml(title)}</h1><p>${escapeHtml(info.url || '(no URL)')} · ${escapeHtml(when)} · ${Math.round(info.durationMs / 1000)} s</p></header>
<div id="tabs" hidden></div><div id="player"></div><p id="error" hidden></p>
<script>${escapeRawText(js)}</script>
`;
  const tail = `
<script>
(function () {
  var Player = window.rrwebPlayer && (window.rrwebPlayer.default || window.rrwebPlayer);
  var tabs = Array.prototype.slice.call(document.querySelectorAll('script.tandem-tab'));
  var bar = document.getElementById('tabs');
  var buttons = [];
  function show(index) {
    try {
      if (window.tandemPlayer) window.tandemPlayer.$destroy();
      document.getElementById('player').textContent = '';
      var events = JSON.parse(tabs[index].textContent);
      var width = Math.max(320, Math.min(window.innerWidth - 40, 1280));
      window.tandemPlayer = new Player({
        target: document.getElementById('player'),
        props: { events: events, width: width, height: Math.round(width * 9 / 16), autoPlay: true, showController: true },
      });
      window.tandemTab = index;
      buttons.forEach(function (b, i) { b.setAttribute('aria-pressed', String(i === index)); });
    } catch (err) {
      var el = document.getElementById('error');
      el.hidden = false;
      el.textContent = 'This recording cannot be played: ' + err;
    }
  }
  if (tabs.length > 1) {
    bar.hidden = false;
    tabs.forEach(function (tab, i) {
      var b = document.createElement('button');
      b.type = 'button';
      b.textContent = tab.getAttribute('data-label');
      b.onclick = function () { show(i); };
      buttons.push(b);
      bar.appendChild(b);
    });
  }
  show(0);
})();
</script>
</body></html>
`;
  return { open: head, separator: '', close: tail, empty: head + tabScript(0, '') + '[]</script>' + tail };
}
