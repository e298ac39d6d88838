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

/**
 * Page for the bytes bench: an ordinary shop-like page (~1,300 DOM nodes, ~9 KB of inline CSS): header,
 * nav, hero, a product grid, a sign-up form, a FAQ, a footer, a long article so it scrolls, and a live
 * feed the page itself updates once per second (the "1 mutation per second").
 */
export function sessionPage(): string {
  const css: string[] = [STYLE];
  // A stylesheet of the size real sites inline or link (rrweb inlines it into the snapshot).
  for (let i = 0; i < 120; i++) {
    css.push(`.u-m${i}{margin:${i % 24}px ${(i * 3) % 32}px} .u-c${i}{color:hsl(${(i * 37) % 360} 40% 35%)} .card-${i}:hover{box-shadow:0 ${i % 8}px ${i % 16}px rgba(0,0,0,.${(i % 9) + 1})}`);
  }
  css.push(`.card{border:1px solid #ccc;padding:8px;margin:8px 0;border-radius:6px} .grid{display:grid;grid-template-columns:repeat(4,1fr);gap:12px}
    .product img{width:100%;height:120px;object-fit:cover;background:#eee} .price{font-weight:600} #feed li{color:#345}
    header,footer{background:#f6f6f8;padding:12px} nav a{margin-right:12px} details{margin:6px 0}`);
  const nav = ['Home', 'Shop', 'New in', 'Sale', 'Brands', 'Journal', 'Stores', 'Help', 'Account', 'Cart']
    .map((t, i) => `<a href="/${t.toLowerCase().replace(/\s/g, '-')}" class="u-c${i}">${t}</a>`)
    .join('');
  const products: string[] = [];
  for (let i = 0; i < 32; i++) {
    products.push(
      `<div class="product card card-${i}" data-sku="SKU-${1000 + i}"><img src="/img/p${i}.jpg" alt="Product ${i}" loading="lazy">` +
        `<h3 class="u-m${i}">Everyday item ${i}</h3><p>Soft, durable and made to last. Colour: ${['sand', 'ink', 'moss', 'rust'][i % 4]}.</p>` +
        `<div><span class="price">€${(19 + i * 3).toFixed(2)}</span> <s>€${(29 + i * 3).toFixed(2)}</s></div>` +
        `<button type="button" class="add" data-i="${i}">Add to cart</button></div>`,
    );
  }
  const faq: string[] = [];
  for (let i = 0; i < 12; i++) {
    faq.push(`<details><summary>Question ${i + 1}: how does delivery option ${i} work?</summary><p>Orders ship within ${i + 1} working days. Returns are free for 30 days.</p></details>`);
  }
  const paras: string[] = [];
  for (let i = 0; i < 30; i++) {
    paras.push(`<p class="u-m${i}">Paragraph ${i}. Session replay records what a visitor sees: the DOM, its changes, input and scrolling. This copy is here so the page scrolls like a real one.</p>`);
  }
  const footer: string[] = [];
  for (let c = 0; c < 4; c++) {
    footer.push(`<div><h4>Column ${c}</h4><ul>${Array.from({ length: 8 }, (_, i) => `<li><a href="/f/${c}/${i}">Footer link ${c}.${i}</a></li>`).join('')}</ul></div>`);
  }
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Tandem bench shop</title><style>${css.join('\n')}</style></head>
<body>
<header><strong>Tandem Shop</strong> <nav>${nav}</nav> <span id="cart">Cart (0)</span></header>
<main>
  <section class="card"><h1>Spring collection</h1><p>New arrivals every week. Free shipping over €50.</p></section>
  <section class="grid">${products.join('')}</section>
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
  <section class="card"><h2>FAQ</h2>${faq.join('')}</section>
  <article>${paras.join('\n')}</article>
</main>
<footer style="display:flex;gap:24px">${footer.join('')}</footer>
<script>
  var count = 0, cart = 0;
  document.getElementById('inc').addEventListener('click', function () {
    document.getElementById('count').textContent = String(++count);
  });
  document.querySelectorAll('button.add').forEach(function (b) {
    b.addEventListener('click', function () { document.getElementById('cart').textContent = 'Cart (' + (++cart) + ')'; });
  });
  document.getElementById('submit').addEventListener('click', function () { this.textContent = 'Sent'; });
  // One DOM mutation per second: a new feed line (the oldest dropped so the list stays short).
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
