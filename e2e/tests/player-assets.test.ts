import { readdir, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { ADMIN, BackendProcess, PROJECT_KEY, freePort, tempDataDir } from './support/backend-process.js';
import { launchChromium, waitFor } from './support/browser.js';

/**
 * The player's assets and canvases, in real Chromium against a real backend:
 * - a "customer site" on its own origin (a plain node server, no CORS headers anywhere) with a
 *   stylesheet on a second origin of that server (so rrweb cannot inline it) whose web font and
 *   `:hover` rule only work in the replay through the asset proxy;
 * - an animated 2D and WebGL canvas recorded at the project's `high` level and replayed without
 *   `allow-scripts` on the replay iframe.
 */

const ARTIFACTS = path.resolve(new URL('../artifacts', import.meta.url).pathname);

/** A real TrueType font that ships in a package we already have (playwright-core's icon font). */
async function probeFont(): Promise<Buffer> {
  const root = path.dirname(createRequire(import.meta.url).resolve('playwright-core/package.json'));
  const walk = async (dir: string): Promise<string | null> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        const found = await walk(p);
        if (found) return found;
      } else if (entry.name.endsWith('.ttf')) return p;
    }
    return null;
  };
  const file = await walk(path.join(root, 'lib'));
  if (!file) throw new Error('no .ttf found in playwright-core');
  return readFile(file);
}

interface Site {
  port: number;
  pageUrl: string;
  hits: Map<string, number>;
  close(): Promise<void>;
}

async function startSite(backendUrl: string, font: Buffer): Promise<Site> {
  const hits = new Map<string, number>();
  let port = 0;
  const server = http.createServer((req, res) => {
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    hits.set(p, (hits.get(p) ?? 0) + 1);
    if (p === '/page.html') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><html><head><title>Assets</title>
<link rel="stylesheet" href="http://localhost:${port}/style.css"></head><body>
<h1 class="probe-font">Asset probe</h1>
<div id="hov" class="hover-target" style="width:200px;height:60px">hover me</div>
<canvas id="c2d" width="320" height="180"></canvas>
<canvas id="cgl" width="320" height="180"></canvas>
<script>
  const c2d = document.getElementById('c2d').getContext('2d');
  const gl = document.getElementById('cgl').getContext('webgl');
  function frame(t) {
    const x = (t / 8) % 320;
    c2d.fillStyle = 'rgb(20, 20, 60)'; c2d.fillRect(0, 0, 320, 180);
    c2d.fillStyle = 'rgb(250, 200, 0)'; c2d.fillRect(x, 40, 60, 100);
    const k = (Math.sin(t / 300) + 1) / 2;
    gl.clearColor(k, 0.3, 1 - k, 1); gl.clear(gl.COLOR_BUFFER_BIT);
    requestAnimationFrame(frame);
  }
  requestAnimationFrame(frame);
</script>
<script src="${backendUrl}/tracker.js" data-project-key="${PROJECT_KEY}" data-assist="false" async></script>
</body></html>`);
    } else if (p === '/style.css') {
      // Absolute font URL on the page's own origin: the recorded page may load it (same origin), the
      // dashboard may not (cross-origin font, no Access-Control-Allow-Origin) — unless proxied.
      res.writeHead(200, { 'content-type': 'text/css' }).end(`
@font-face { font-family: "ProbeFont"; src: url("http://127.0.0.1:${port}/probe.ttf") format("truetype"); }
.probe-font { font-family: "ProbeFont", monospace; color: rgb(12, 34, 56); }
.hover-target { background-color: rgb(200, 200, 200); }
.hover-target:hover { background-color: rgb(0, 128, 0); }
`);
    } else if (p === '/probe.ttf') {
      res.writeHead(200, { 'content-type': 'font/ttf' }).end(font);
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  return {
    port, hits, pageUrl: `http://127.0.0.1:${port}/page.html`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

async function loginCookie(url: string): Promise<string> {
  const res = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  const set = res.headers.get('set-cookie');
  if (!set) throw new Error(`login failed with ${res.status}`);
  return set.split(';')[0];
}

/**
 * What the viewer sees of a replayed canvas: a script-less document renders a canvas's fallback
 * content, so the player shows frames in an <img> inside it. Read by the dashboard page (the iframe
 * runs no script): its on-screen size and a hash of its pixels.
 */
function replayCanvas(page: Page, id: string): Promise<{ nonBlank: number; hash: string; width: number } | null> {
  return page.evaluate(async (canvasId) => {
    const frame = document.querySelector<HTMLIFrameElement>('[data-testid=player] iframe');
    const img = frame?.contentDocument?.querySelector<HTMLImageElement>(`#${canvasId} > img[data-tandem-canvas]`);
    if (!img || !img.complete || !img.naturalWidth) return null;
    const rect = img.getBoundingClientRect();
    const c = document.createElement('canvas');
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    const ctx = c.getContext('2d')!;
    ctx.drawImage(img, 0, 0);
    const data = ctx.getImageData(0, 0, c.width, c.height).data;
    let nonBlank = 0;
    let h = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] > 0) nonBlank++;
      h = (h * 31 + data[i] * 7 + data[i + 1] * 3 + data[i + 2]) >>> 0;
    }
    return { nonBlank, hash: String(h), width: rect.width };
  }, id);
}

let backend: BackendProcess;
let dataDir: string;
let browser: Browser;
let site: Site;
let cookie: string;

beforeAll(async () => {
  dataDir = await tempDataDir();
  const port = await freePort();
  site = await startSite(`http://127.0.0.1:${port}`, await probeFont());
  // Loopback is refused by default: the test's site is let in by host:port, nothing else.
  backend = new BackendProcess(port, dataDir, { TANDEM_ASSET_PROXY_ALLOW: `127.0.0.1:${site.port},localhost:${site.port}` });
  await backend.start();
  browser = await launchChromium();
  cookie = await loginCookie(backend.url);
});
afterAll(async () => {
  await browser?.close();
  await backend?.stop('SIGKILL');
  await site?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('player: cross-origin assets and canvases', () => {
  let sessionId = '';

  it('an admin sets the canvas level in Settings, with the byte cost of each level beside it', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 1000 } });
    await context.addCookies([{ name: cookie.split('=')[0], value: cookie.split('=').slice(1).join('='), url: backend.url }]);
    const page = await context.newPage();
    await page.goto(`${backend.url}/#/settings`);
    const section = page.getByTestId('canvas-section');
    await section.waitFor();
    expect(await page.getByTestId('canvas-level-off').isChecked()).toBe(true);
    for (const level of ['low', 'high']) expect(await page.getByTestId(`canvas-cost-${level}`).innerText()).toMatch(/KB per minute/);
    await page.getByTestId('canvas-level-low').check();
    await page.locator('[data-testid="canvas-status"][data-state="saved"]').waitFor();
    const info = await (await fetch(`${backend.url}/api/v1/project`, { headers: { cookie } })).json();
    expect(info.canvasRecording).toBe('low');
    await section.screenshot({ path: path.join(ARTIFACTS, 'settings-canvas.png') });
    await context.close();
  });

  it('records a page with a cross-origin stylesheet and font, a hover, and 2D + WebGL canvases at the high level', async () => {
    const patch = await fetch(`${backend.url}/api/v1/project`, {
      method: 'PATCH', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ canvasRecording: 'high' }),
    });
    expect((await patch.json()).canvasRecording).toBe('high');

    const user = await browser.newContext({ viewport: { width: 900, height: 700 } });
    const page = await user.newPage();
    await page.goto(site.pageUrl);
    sessionId = await waitFor('session', () => page.evaluate(() => new Promise<string>((r) => (window as any).Tandem('getSessionId', r))));
    // The start answer told this first load the level; a reload records canvases from its first
    // moment (WebGL contexts created after the recorder's patch keep their drawing buffer readable).
    await waitFor('canvas level remembered', () => page.evaluate((k) => localStorage.getItem(`tandem:${k}:canvas`) === 'high', PROJECT_KEY));
    await page.reload();
    expect(await page.evaluate(() => new Promise<string>((r) => (window as any).Tandem('getSessionId', r)))).toBe(sessionId);
    // The recorded page itself shows the font (same origin as the page) and the stylesheet.
    await waitFor('font in the recorded page', () => page.evaluate(() => document.fonts.check('16px ProbeFont') && [...document.fonts].some((f) => f.status === 'loaded')));
    await page.mouse.move(600, 650);
    await page.waitForTimeout(4_000);
    await page.hover('#hov');
    expect(await page.locator('#hov').evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(0, 128, 0)');
    await page.waitForTimeout(1_500);
    await page.evaluate(() => (window as any).Tandem.tracker.flush());
    const events = await waitFor('canvas frames stored', async () => {
      const text = await (await fetch(`${backend.url}/api/v1/sessions/${sessionId}/events`, { headers: { cookie } })).text();
      return (text.match(/"source":9/g) ?? []).length >= 10 ? text : null;
    });
    // Both canvases sent frames (ids differ; each has several).
    const ids = new Set([...events.matchAll(/"source":9,"id":(\d+)/g)].map((m) => m[1]));
    expect(ids.size).toBeGreaterThanOrEqual(2);
    await user.close();
  });

  it('replays the stylesheet, the web font and the hover through the proxy, and both canvases animate — without allow-scripts', async () => {
    const agent = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    await agent.addCookies([{ name: cookie.split('=')[0], value: cookie.split('=').slice(1).join('='), url: backend.url }]);
    const page = await agent.newPage();
    const sandboxes = new Set<string>();
    // Opened paused 1 s in (a share link): before the recorded hover, whatever the machine's speed.
    await page.goto(`${backend.url}/#/sessions/${sessionId}?t=1000`);
    const frame = page.frameLocator('[data-testid=player] iframe');
    await frame.locator('.probe-font').first().waitFor({ timeout: 30_000 });

    // The stylesheet link points at the proxy, and it applied.
    const href = await frame.locator('link[rel=stylesheet]').first().getAttribute('href');
    expect(href).toContain(`${backend.url}/api/v1/assets/proxy?u=`);
    await waitFor('stylesheet applied in the replay', async () =>
      (await frame.locator('.probe-font').first().evaluate((el) => getComputedStyle(el).color)) === 'rgb(12, 34, 56)');
    // The font loaded (cross-origin without CORS, so only the proxy makes this possible).
    const fontStatus = await waitFor('font loaded in the replay', () => page.evaluate(() => {
      const doc = document.querySelector<HTMLIFrameElement>('[data-testid=player] iframe')?.contentDocument;
      const face = doc && [...doc.fonts].find((f) => f.family.replace(/"/g, '') === 'ProbeFont');
      return face && face.status !== 'unloaded' && face.status !== 'loading' ? face.status : null;
    }), 20_000);
    expect(fontStatus).toBe('loaded');
    expect(site.hits.get('/probe.ttf')).toBeGreaterThanOrEqual(2); // the user's page, then the proxy once
    // Not hovered at 1 s (the recorded hover comes later).
    expect(await frame.locator('#hov').evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(200, 200, 200)');

    // Play at normal speed: canvases fill in and change while the recording plays.
    const play = page.getByTestId('player-play');
    if ((await play.getAttribute('data-state')) === 'paused') await play.click();
    for (const id of ['c2d', 'cgl']) {
      const first = await waitFor(`replayed ${id} drawn`, async () => {
        const px = await replayCanvas(page, id);
        return px && px.nonBlank > 1000 && px.width > 100 ? px : null;
      }, 30_000, 100);
      const later = await waitFor(`replayed ${id} changes`, async () => {
        const px = await replayCanvas(page, id);
        return px && px.nonBlank > 1000 && px.hash !== first.hash ? px : null;
      }, 10_000, 100);
      expect(later.hash).not.toBe(first.hash);
    }
    await page.screenshot({ path: path.join(ARTIFACTS, 'player-canvas.png') });
    // Then the recorded hover turns it green through the rewritten `:hover` rule.
    await waitFor('hover replayed', async () =>
      (await frame.locator('#hov').evaluate((el) => getComputedStyle(el).backgroundColor)) === 'rgb(0, 128, 0)', 30_000, 200);
    expect(await frame.locator('#hov').evaluate((el) => el.classList.contains(':hover'))).toBe(true);

    for (const el of await page.locator('[data-testid=player] iframe').all()) sandboxes.add((await el.getAttribute('sandbox')) ?? '');
    expect([...sandboxes]).toEqual(['allow-same-origin']);
    await page.screenshot({ path: path.join(ARTIFACTS, 'player-assets.png'), fullPage: true });
    await agent.close();
  });

  it('a server without the allow-list refuses the same loopback assets', async () => {
    const otherDir = await tempDataDir();
    const other = new BackendProcess(await freePort(), otherDir);
    try {
      await other.start();
      const otherCookie = await loginCookie(other.url);
      const signed = await fetch(`${other.url}/api/v1/assets/sign`, {
        method: 'POST', headers: { cookie: otherCookie, 'content-type': 'application/json' },
        body: JSON.stringify({ urls: [{ url: `http://localhost:${site.port}/style.css`, kind: 'css' }, { url: `http://127.0.0.1:${site.port}/probe.ttf`, kind: 'asset' }] }),
      });
      const links = (await signed.json()).urls as string[];
      for (const link of links) {
        const res = await fetch(`${other.url}${link}`);
        expect([res.status, (await res.json()).error.code]).toEqual([403, 'asset_forbidden']);
      }
      // An unsigned link is refused before anything is fetched.
      const hitsBefore = site.hits.get('/style.css') ?? 0;
      const bare = await fetch(`${other.url}/api/v1/assets/proxy?u=${encodeURIComponent(`http://localhost:${site.port}/style.css`)}&k=css`);
      expect(bare.status).toBe(401);
      expect(site.hits.get('/style.css') ?? 0).toBe(hitsBefore);
    } finally {
      await other.stop('SIGKILL');
      await rm(otherDir, { recursive: true, force: true });
    }
  });
});
