import { describe, expect, it } from 'vitest';
import type { AssetSignRequest, AssetSignResponse } from '@tandem/protocol';
import { ReplayAssets, rewriteCss, rewriteSrcset } from '../src/lib/replay/asset-links';

const OWN = 'http://dash.test';

/** A signer like the server's: a link per URL, recording what it was asked. */
function fakeSigner(enabled = true) {
  const asked: AssetSignRequest[] = [];
  const sign = async (req: AssetSignRequest): Promise<AssetSignResponse> => {
    asked.push(req);
    return { enabled, urls: req.urls.map(({ url, kind }) => (enabled && !url.includes('skip') ? `/api/v1/assets/proxy?k=${kind}&u=${encodeURIComponent(url)}` : null)) };
  };
  return { sign, asked };
}
const proxied = (url: string, kind = 'asset') => `${OWN}/api/v1/assets/proxy?k=${kind}&u=${encodeURIComponent(url)}`;

function snapshot() {
  return [
    { type: 4, timestamp: 1, data: { href: 'https://shop.test/cart', width: 800, height: 600 } },
    {
      type: 2, timestamp: 2, data: {
        node: { type: 0, id: 1, childNodes: [{ type: 2, id: 2, tagName: 'html', attributes: {}, childNodes: [
          { type: 2, id: 3, tagName: 'link', attributes: { rel: 'stylesheet', href: 'https://cdn.test/site.css' }, childNodes: [] },
          { type: 2, id: 4, tagName: 'link', attributes: { rel: 'stylesheet', href: `${OWN}/own.css` }, childNodes: [] },
          { type: 2, id: 5, tagName: 'style', attributes: {}, childNodes: [{ type: 3, id: 6, textContent: '.a{background:url(https://cdn.test/a.png)}', isStyle: true }] },
          { type: 2, id: 7, tagName: 'img', attributes: { src: 'https://cdn.test/p.jpg', srcset: 'https://cdn.test/p1.jpg 1x, https://cdn.test/p2.jpg 2x', style: 'background-image: url("https://cdn.test/bg.png")' }, childNodes: [] },
          { type: 2, id: 8, tagName: 'a', attributes: { href: 'https://cdn.test/not-an-asset' }, childNodes: [] },
          { type: 2, id: 9, tagName: 'img', attributes: { src: 'data:image/png;base64,AA==' }, childNodes: [] },
        ] }] },
        initialOffset: { top: 0, left: 0 },
      },
    },
  ];
}

describe('ReplayAssets', () => {
  it('points stylesheets, images, srcsets, inline and <style> url()s at signed proxy links, nothing else', async () => {
    const { sign, asked } = fakeSigner();
    const events = snapshot();
    await new ReplayAssets(sign, OWN).rewrite(events);
    const html = (events[1].data as any).node.childNodes[0].childNodes;
    expect(html[0].attributes.href).toBe(proxied('https://cdn.test/site.css', 'css'));
    expect(html[1].attributes.href).toBe(`${OWN}/own.css`);
    expect(html[2].childNodes[0].textContent).toBe(`.a{background:url("${proxied('https://cdn.test/a.png')}")}`);
    expect(html[3].attributes.src).toBe(proxied('https://cdn.test/p.jpg'));
    expect(html[3].attributes.srcset).toBe(`${proxied('https://cdn.test/p1.jpg')} 1x, ${proxied('https://cdn.test/p2.jpg')} 2x`);
    expect(html[3].attributes.style).toBe(`background-image: url("${proxied('https://cdn.test/bg.png')}")`);
    expect(html[4].attributes.href).toBe('https://cdn.test/not-an-asset');
    expect(html[5].attributes.src).toBe('data:image/png;base64,AA==');
    expect(asked).toHaveLength(1);
    expect(asked[0].urls).toHaveLength(6);
  });

  it('rewrites later mutations using what earlier batches said about the nodes, and signs each URL once', async () => {
    const { sign, asked } = fakeSigner();
    const assets = new ReplayAssets(sign, OWN);
    await assets.rewrite(snapshot());
    const later = [
      { type: 3, timestamp: 3, data: { source: 0, texts: [{ id: 6, value: '.b{background:url(https://cdn.test/b.png)}' }], removes: [],
        attributes: [{ id: 7, attributes: { src: 'https://cdn.test/p.jpg', style: { 'background-image': 'url(https://cdn.test/c.png)' } } }, { id: 8, attributes: { href: 'https://cdn.test/x' } }],
        adds: [{ parentId: 2, nextId: null, node: { type: 2, id: 20, tagName: 'link', attributes: { rel: 'preload', as: 'font', href: 'https://cdn.test/f.woff2' }, childNodes: [] } }] } },
      { type: 3, timestamp: 4, data: { source: 8, id: 5, adds: [{ rule: '.c:hover{background:url(https://cdn.test/d.png)}', index: 0 }] } },
    ];
    await assets.rewrite(later);
    const m = later[0].data as any;
    expect(m.texts[0].value).toBe(`.b{background:url("${proxied('https://cdn.test/b.png')}")}`);
    expect(m.attributes[0].attributes.src).toBe(proxied('https://cdn.test/p.jpg'));
    expect(m.attributes[0].attributes.style['background-image']).toBe(`url("${proxied('https://cdn.test/c.png')}")`);
    expect(m.attributes[1].attributes.href).toBe('https://cdn.test/x');
    expect(m.adds[0].node.attributes.href).toBe(proxied('https://cdn.test/f.woff2'));
    expect((later[1].data as any).adds[0].rule).toContain(proxied('https://cdn.test/d.png'));
    // p.jpg was signed with the snapshot already.
    expect(asked[1].urls.map((u) => u.url)).not.toContain('https://cdn.test/p.jpg');
    // Idempotent: a second pass over rewritten events changes nothing and asks nothing.
    const copy = JSON.stringify(later);
    await assets.rewrite(later);
    expect(JSON.stringify(later)).toBe(copy);
    expect(asked).toHaveLength(2);
  });

  it('walks a batch without cross-origin URLs once, and still knows its nodes for the next batch', async () => {
    const { sign, asked } = fakeSigner();
    const assets = new ReplayAssets(sign, OWN);
    /** the events, counting how many times they are walked */
    const walked = <T,>(events: T[]) => {
      const out = Object.assign([...events], { walks: 0 });
      const iterate = Array.prototype[Symbol.iterator];
      out[Symbol.iterator] = function () {
        out.walks++;
        return iterate.call(this) as ArrayIterator<T>;
      };
      return out;
    };
    const own = snapshot().map((e) => JSON.parse(JSON.stringify(e).replaceAll('https://cdn.test', OWN)));
    const first = walked(own);
    await assets.rewrite(first);
    expect(first.walks).toBe(1);
    expect(JSON.stringify([...first])).toBe(JSON.stringify(own));
    expect(asked).toHaveLength(0);
    // Node 7 is an <img> and node 6 the text of a <style>, as the skipped walk would also have noted.
    const later = walked([
      { type: 3, timestamp: 3, data: { source: 0, texts: [{ id: 6, value: '.b{background:url(https://cdn.test/b.png)}' }], removes: [], adds: [],
        attributes: [{ id: 7, attributes: { src: 'https://cdn.test/q.jpg' } }] } },
    ]);
    await assets.rewrite(later);
    expect(later.walks).toBe(2);
    const m = later[0].data as any;
    expect(m.texts[0].value).toBe(`.b{background:url("${proxied('https://cdn.test/b.png')}")}`);
    expect(m.attributes[0].attributes.src).toBe(proxied('https://cdn.test/q.jpg'));
  });

  it('leaves the events as recorded when the proxy is off or signing fails', async () => {
    const off = snapshot();
    await new ReplayAssets(fakeSigner(false).sign, OWN).rewrite(off);
    expect(JSON.stringify(off)).toBe(JSON.stringify(snapshot()));
    const failing = snapshot();
    await new ReplayAssets(async () => { throw new Error('offline'); }, OWN).rewrite(failing);
    expect(JSON.stringify(failing)).toBe(JSON.stringify(snapshot()));
  });

  it('treats @import as a stylesheet and keeps srcset descriptors', () => {
    const seen: string[] = [];
    const link = (u: string, k: string) => (seen.push(`${k} ${u}`), `/L/${k}`);
    expect(rewriteCss('@import "https://a.test/x.css"; @import url(https://a.test/y.css); p{b:url(https://a.test/z.png)}', link))
      .toBe('@import url("/L/css"); @import url("/L/css"); p{b:url("/L/asset")}');
    expect(rewriteSrcset('a.png 480w,b.png 800w', link)).toBe('/L/asset 480w,/L/asset 800w');
  });
});
