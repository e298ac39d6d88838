/**
 * The `bytes` bench's canvas rows: what each canvas recording level (off / low / high, a project
 * setting) costs on the wire. A page with an animated 2D canvas and an animated WebGL canvas
 * (640×360 each, every frame different) is recorded by the real tracker into a real backend at each
 * level in turn, in one run; the figure is the gzip batch bytes per minute after the first snapshot's
 * batch, and the ratio to `off` from the same run (the page's DOM events alone).
 *
 *   node --import tsx bench/src/canvas-bytes.ts      (CANVAS_BYTES_SECONDS=n, default 30 per level)
 */
import type { Browser, Request } from 'playwright-core';
import type { CanvasRecording } from '@tandem/protocol';
import { CANVAS_PRESETS } from '../../tracker/src/canvas.js';
import { launchChromium } from './lib/browser.js';
import { ensureTrackerBundle, readText } from './lib/bundles.js';
import { isMain } from './lib/main.js';
import { recordResults, type ResultRow } from './lib/report.js';
import { startFixtureServer } from './lib/server.js';
import { fmtBytes } from './lib/stats.js';
import { loadTandem, startTandem, startTandemIngest } from './lib/tandem.js';

const BENCH = 'bytes';
const LEVELS: CanvasRecording[] = (process.env.CANVAS_BYTES_LEVELS?.split(',') as CanvasRecording[] | undefined) ?? ['off', 'low', 'high'];

/** Two busy canvases: a 2D scene redrawn every frame and a WebGL clear colour that never repeats. */
function canvasPage(): string {
  return `<!doctype html><html><head><title>canvas bytes</title></head><body>
<h1>Dashboard</h1><canvas id="c2d" width="640" height="360"></canvas><canvas id="cgl" width="640" height="360"></canvas>
<script>
  const c = document.getElementById('c2d').getContext('2d');
  const gl = document.getElementById('cgl').getContext('webgl');
  function frame(t) {
    c.fillStyle = '#101830'; c.fillRect(0, 0, 640, 360);
    for (let i = 0; i < 24; i++) {
      c.fillStyle = 'hsl(' + ((i * 15 + t / 20) % 360) + ' 70% 55%)';
      c.fillRect((i * 26 + t / 10) % 640, 180 + Math.sin(t / 400 + i) * 120, 20, 20);
    }
    c.fillStyle = '#fff'; c.font = '16px sans-serif'; c.fillText('t = ' + Math.round(t), 12, 24);
    const k = (Math.sin(t / 700) + 1) / 2;
    gl.clearColor(k, 0.4, 1 - k, 1); gl.clear(gl.COLOR_BUFFER_BIT);
    requestAnimationFrame(frame);
  }
  requestAnimationFrame(frame);
</script></body></html>`;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function runCanvasBytes(opts: { seconds?: number; browser?: Browser } = {}): Promise<ResultRow[]> {
  const seconds = opts.seconds ?? Number(process.env.CANVAS_BYTES_SECONDS ?? 30);
  const tracker = ensureTrackerBundle();
  if (tracker.error) throw new Error(tracker.error);
  const server = await startFixtureServer();
  server.routes.set('/canvas.html', { type: 'text/html', body: canvasPage() });
  server.routes.set('/tandem.js', { type: 'text/javascript', body: readText(tracker.path) });
  const ingest = await startTandemIngest(server, { requireBackend: true });
  const backend = ingest.backend!;
  const browser = opts.browser ?? (await launchChromium());
  const perMin = new Map<CanvasRecording, { kbPerMin: number; frames: number; batches: number; wireBytes: number }>();
  try {
    const login = await fetch(`${backend.url}/api/v1/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'bench@example.com', password: 'bench-password-123' }),
    });
    const cookie = login.headers.get('set-cookie')?.split(';')[0];
    if (!cookie) throw new Error(`bench login failed: ${login.status}`);
    for (const level of LEVELS) {
      // Through the API, as an admin would: it also drops the server's cached copy of the project.
      const patch = await fetch(`${backend.url}/api/v1/project`, {
        method: 'PATCH', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ canvasRecording: level }),
      });
      if (!patch.ok) throw new Error(`cannot set canvasRecording=${level}: ${patch.status} ${await patch.text()}`);
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const captured: { at: number; wire: number; frames: number; snapshot: boolean }[] = [];
      context.on('request', (req: Request) => {
        if (req.method() !== 'POST' || !req.url().includes('/ingest/v1/batch')) return;
        const body = req.postDataBuffer();
        if (!body) return;
        captured.push({ at: Date.now(), wire: body.length, frames: 0, snapshot: false });
      });
      const page = await context.newPage();
      page.on('crash', () => console.warn(`[${BENCH}] canvas ${level}: the page crashed`));
      page.on('pageerror', (e) => console.warn(`[${BENCH}] canvas ${level}: page error ${e.message}`));
      await page.goto(`${server.url}/canvas.html`, { waitUntil: 'load' });
      // A returning visitor: the tracker knows the level from an earlier start answer (canvas.ts).
      await page.evaluate(([key, lvl]) => localStorage.setItem(`tandem:${key}:canvas`, lvl), [ingest.projectKey, level]);
      await loadTandem(page, `${server.url}/tandem.js`, ingest.projectKey, ingest.ingestUrl);
      await page.evaluate(() => {
        (window as any).__canvasFrames = 0;
        (window as any).Tandem.tracker.bus.subscribe((e: { type: number; data?: { source?: number } }) => {
          if (e.type === 3 && e.data?.source === 9) (window as any).__canvasFrames++;
        });
      });
      const startedAt = Date.now();
      await startTandem(page);
      await sleep(seconds * 1000);
      await page.evaluate(() => (window as any).Tandem.tracker.flush());
      const endedAt = Date.now();
      const frames: number = await page.evaluate(() => (window as any).__canvasFrames);
      await page.evaluate(() => (window as any).Tandem.tracker.stop());
      await context.close();
      // The first batch carries the full snapshot (its own cost, the same at every level but for
      // the canvases' pictures); the figure is the steady state after it.
      const after = captured.slice(1);
      const wire = after.reduce((a, b) => a + b.wire, 0);
      const minutes = (endedAt - (captured[0]?.at ?? startedAt)) / 60_000;
      perMin.set(level, { kbPerMin: wire / 1024 / minutes, frames, batches: after.length, wireBytes: wire });
      console.log(`[${BENCH}] canvas ${level}: ${captured.length} batches, ${fmtBytes(wire)} after the first over ${minutes.toFixed(2)} min, ${frames} canvas frame events (first batch ${fmtBytes(captured[0]?.wire ?? NaN)})`);
    }
  } finally {
    if (!opts.browser) await browser.close().catch(() => {});
    await ingest.close().catch(() => {});
    await server.close();
  }
  const off = perMin.get('off')!.kbPerMin;
  return LEVELS.map((level) => {
    const r = perMin.get(level)!;
    const nominal = level === 'off' ? 0 : CANVAS_PRESETS[level].fps;
    const perFrame = r.frames ? r.wireBytes / r.frames : 0;
    // A busy machine captures fewer frames than the preset asks for: the per-frame cost times the
    // nominal rate is what one animated canvas costs when the page keeps up (what Settings shows).
    const perCanvas = (perFrame * nominal * 60) / 1024;
    return {
      bench: BENCH,
      figure: level === 'off'
        ? `canvas recording off: ${r.kbPerMin.toFixed(1)} KB/min on the wire after the first snapshot (animated 640×360 2D + WebGL canvases, no frames sent; the same-run reference)`
        : `canvas recording ${level}: ${r.kbPerMin.toFixed(1)} KB/min on the wire after the first snapshot for two animated 640×360 canvases (2D + WebGL), ${r.frames} frames in ${seconds} s = ${(r.frames / seconds).toFixed(1)}/s captured of ${2 * nominal}/s asked, ${(perFrame / 1024).toFixed(2)} KB per frame gzipped → ≈ ${perCanvas.toFixed(0)} KB/min per animated canvas at ${nominal} fps; canvas off, same page and run: ${off.toFixed(1)} KB/min`,
      target: 'no target in DESIGN.md §10; the cost is shown beside the setting',
      met: null,
      gap: level === 'off' ? 'reference' : 'informational',
    };
  });
}

if (isMain(import.meta.url)) {
  try {
    recordResults(await runCanvasBytes());
  } catch (err) {
    console.error(err);
    recordResults([{ bench: BENCH, figure: 'canvas rows not run', target: 'cost of each canvas level', met: null, gap: (err as Error).message }]);
    process.exitCode = 1;
  }
}
