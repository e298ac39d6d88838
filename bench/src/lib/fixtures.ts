/** HTML fixtures for the browser benches, served by lib/server.ts. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BENCH_ROOT } from './report.js';

export const FIXTURES_DIR = resolve(BENCH_ROOT, 'fixtures');

const STYLE = `
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; padding: 16px; }
  .row { display: flex; gap: 4px; } .cell { padding: 0 2px; } .d { padding-left: 1px; }
  i.a, i.b, i.c { font-style: normal; } .b { color: #333 } .c { color: #666 }
  nav a { margin-right: 8px; } table { border-collapse: collapse; } td { border: 1px solid #ddd; padding: 2px 4px; }
`;

/** Page for the mutation workloads: an empty #root plus the workload definitions. */
export function mutationPage(): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>tandem bench: mutations</title><style>${STYLE}</style></head>
<body><h1>Mutation workloads</h1><p>Recorder overhead fixture.</p><div id="root"></div>
<script>${readFileSync(resolve(FIXTURES_DIR, 'workloads.js'), 'utf8')}</script></body></html>`;
}

/**
 * A static page of about `targetNodes` DOM nodes (elements + text nodes), built by the HTML parser:
 * a nav, then sections of table rows, list items with links, and form inputs. Returns the HTML.
 */
export function bigPage(targetNodes = 60_000): string {
  const parts: string[] = [];
  // Each block below adds a known number of nodes; keep adding until the target is reached.
  // row: tr + 4 × (td + text) = 9 nodes. li: li + a + text + span + text = 5 nodes.
  let nodes = 0;
  let i = 0;
  parts.push('<nav>');
  for (let k = 0; k < 20; k++) parts.push(`<a href="/p${k}">Link ${k}</a>`), (nodes += 2);
  parts.push('</nav>');
  nodes += 1;
  while (nodes < targetNodes) {
    parts.push(`<section id="s${i}"><h2>Section ${i}</h2><table><tbody>`);
    nodes += 5; // section, h2, text, table, tbody
    for (let r = 0; r < 40; r++) {
      parts.push(`<tr><td>${i}.${r}</td><td>item ${r}</td><td>${(r * 37) % 1000}</td><td>ok</td></tr>`);
      nodes += 9;
    }
    parts.push('</tbody></table><ul>');
    nodes += 1;
    for (let r = 0; r < 40; r++) {
      parts.push(`<li><a href="#s${i}-${r}">entry ${r}</a><span> note</span></li>`);
      nodes += 5;
    }
    parts.push(`</ul><form><input name="q${i}" value="secret ${i}"><textarea name="t${i}">text ${i}</textarea></form></section>`);
    nodes += 5; // form, input, textarea, text, ul (counted once above is table), close enough
    i++;
  }
  return `<!doctype html><html><head><meta charset="utf-8"><title>tandem bench: 60k nodes</title><style>${STYLE}</style></head>
<body><h1>Big page</h1>${parts.join('')}</body></html>`;
}

/** Page for the bytes bench: a form, buttons, a long scrollable article, and one DOM mutation per second. */
export function sessionPage(): string {
  const paras: string[] = [];
  for (let i = 0; i < 60; i++) {
    paras.push(
      `<p>Paragraph ${i}. Session replay records what a visitor sees: the DOM, its changes, input and scrolling. ` +
        `This text exists so the page scrolls and the snapshot carries a realistic amount of copy.</p>`,
    );
  }
  return `<!doctype html><html><head><meta charset="utf-8"><title>tandem bench: session</title><style>${STYLE}
  .card { border: 1px solid #ccc; padding: 8px; margin: 8px 0; } #feed li { color: #345 }</style></head>
<body>
<header><nav><a href="#a">Home</a><a href="#b">Pricing</a><a href="#c">Docs</a></nav></header>
<main>
  <div class="card"><h2>Sign up</h2>
    <form id="signup" onsubmit="return false">
      <label>Name <input id="name" name="name" autocomplete="off"></label><br>
      <label>Email <input id="email" name="email" type="email" autocomplete="off"></label><br>
      <label>Message <textarea id="msg" name="msg" rows="3"></textarea></label><br>
      <label><input id="agree" type="checkbox"> I agree</label><br>
      <select id="plan"><option>free</option><option>team</option><option>enterprise</option></select>
      <button id="submit" type="button">Send</button>
    </form>
  </div>
  <div class="card"><h2>Counter</h2><button id="inc" type="button">+1</button> <span id="count">0</span></div>
  <div class="card"><h2>Live feed</h2><ul id="feed"></ul></div>
  <article>${paras.join('\n')}</article>
</main>
<script>
  var count = 0;
  document.getElementById('inc').addEventListener('click', function () {
    document.getElementById('count').textContent = String(++count);
  });
  document.getElementById('submit').addEventListener('click', function () {
    this.textContent = 'Sent';
  });
  // One DOM mutation per second: a new feed line (older ones trimmed so the list stays short).
  var tick = 0;
  setInterval(function () {
    var feed = document.getElementById('feed');
    var li = document.createElement('li');
    li.textContent = 'update ' + (++tick) + ' at ' + new Date().toISOString().slice(11, 19);
    feed.appendChild(li);
    if (feed.children.length > 5) feed.removeChild(feed.firstChild);
  }, 1000);
</script>
</body></html>`;
}
