import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './support/backend-process.js';
import { waitFor } from './support/browser.js';
import { useBackendAndBrowser } from './support/fixture.js';

/**
 * rrweb in and out: a page recorded by plain `@rrweb/record` (no Tandem tracker) → `npx tandem import`
 * → the dashboard replays it → `npx tandem export` gives the same events back → the HTML export plays
 * from a file:// URL with the network blocked.
 */
const ROOT = path.resolve(new URL('../../', import.meta.url).pathname);
const ARTIFACTS = path.join(ROOT, 'e2e/artifacts');
// bench depends on @rrweb/record 2.1.6; its UMD bundle is served to the page as a file.
const RECORD_UMD = path.join(path.dirname(createRequire(path.join(ROOT, 'bench/package.json')).resolve('@rrweb/record')), 'record.umd.min.cjs');

const HEADING = 'Recorded by plain rrweb 7f3a';
const LATE_ITEM = 'Late item after checkout';

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>plain rrweb page</title>
<style>body { font: 16px sans-serif; margin: 24px; } h1 { color: rgb(180, 40, 90); } li { padding: 2px; }</style>
</head><body><h1>${HEADING}</h1><ul id="list"><li>first item</li></ul><button id="add">Add</button>
<script src="/record.umd.min.cjs"></script>
<script>
  window.events = [];
  // The UMD global is an object: rrwebRecord.record(...), not rrwebRecord(...) (DESIGN.md §8).
  window.stopRecording = rrwebRecord.record({ emit: (e) => window.events.push(e) });
  document.getElementById('add').addEventListener('click', () => {
    const li = document.createElement('li');
    li.textContent = 'item ' + document.querySelectorAll('li').length;
    document.getElementById('list').appendChild(li);
  });
</script></body></html>`;

const e2e = useBackendAndBrowser();
let site: http.Server;
let siteUrl: string;
let dir: string;
let apiKey: string;
let recorded: { type: number; timestamp: number }[];
let sessionId: string;

function run(cmd: string, args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const cli = (...args: string[]) => run('npx', ['--no-install', 'tandem', ...args], { TANDEM_URL: e2e.backend.url, TANDEM_API_KEY: apiKey });

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  dir = await mkdtemp(path.join(os.tmpdir(), 'tandem-rrweb-io-'));
  site = http.createServer((req, res) => {
    if (req.url === '/record.umd.min.cjs') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      createReadStream(RECORD_UMD).pipe(res);
    } else if (req.url === '/page.html') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(PAGE);
    } else res.writeHead(404).end();
  });
  const port = await freePort();
  await new Promise<void>((r) => site.listen(port, '127.0.0.1', r));
  siteUrl = `http://127.0.0.1:${port}`;
  const cookie = await e2e.agentCookie();
  const key = await fetch(`${e2e.backend.url}/api/v1/api-keys`, {
    method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify({ name: 'e2e import' }),
  });
  expect(key.status).toBe(200);
  apiKey = ((await key.json()) as { secret: string }).secret;
}, 90_000);

afterAll(async () => {
  await new Promise((r) => site?.close(r));
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('rrweb import and export', () => {
  it('records a page with plain @rrweb/record', async () => {
    const context = await e2e.browser.newContext({ viewport: { width: 1000, height: 700 } });
    const page = await context.newPage();
    await page.goto(`${siteUrl}/page.html`);
    await page.click('#add');
    await page.click('#add');
    await page.waitForTimeout(300);
    // A checkout: a second Meta + FullSnapshot, then one more change after it.
    await page.evaluate(() => (window as any).rrwebRecord.record.takeFullSnapshot(true));
    await page.waitForTimeout(300);
    await page.evaluate((text) => {
      const li = document.createElement('li');
      li.textContent = text;
      document.getElementById('list')!.appendChild(li);
    }, LATE_ITEM);
    await page.waitForTimeout(300);
    // One more change after it, so opening "at the end" does not hinge on whether a player draws an
    // event lying exactly at the seek time (the dashboard's does not: see the report of issue 10).
    await page.evaluate(() => document.querySelector('h1')!.setAttribute('data-done', '1'));
    await page.waitForTimeout(300);
    recorded = await page.evaluate(() => {
      (window as any).stopRecording();
      return (window as any).events;
    });
    await context.close();
    // A recorder that silently recorded nothing would make everything below vacuous.
    expect(recorded.filter((e) => e.type === 2)).toHaveLength(2);
    expect(recorded.filter((e) => e.type === 3).length).toBeGreaterThan(2);
    expect(JSON.stringify(recorded)).toContain(HEADING);
  });

  it('imports it with `npx tandem import`, the session id on the last line', async () => {
    const file = path.join(dir, 'recording.json');
    await writeFile(file, JSON.stringify(recorded));
    const r = await cli('import', file);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    sessionId = r.stdout.trimEnd().split('\n').pop()!;
    expect(sessionId).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
  }, 60_000);

  it('replays the imported session in the dashboard, also opened at a later time', async () => {
    const context = await e2e.browser.newContext({ viewport: { width: 1400, height: 900 } });
    const [name, value] = (await e2e.agentCookie()).split('=');
    await context.addCookies([{ name, value, url: e2e.backend.url }]);
    const page = await context.newPage();
    await page.goto(`${e2e.backend.url}/#/sessions/${sessionId}?t=0`);
    const frame = page.frameLocator('[data-testid=player] iframe');
    const heading = frame.getByText(HEADING).first();
    await heading.waitFor({ timeout: 30_000 });
    expect(await heading.evaluate((el) => getComputedStyle(el).color)).toBe('rgb(180, 40, 90)');
    const sandbox = await page.locator('[data-testid=player] iframe').first().getAttribute('sandbox');
    expect(sandbox ?? '').not.toContain('allow-scripts');
    await page.screenshot({ path: path.join(ARTIFACTS, 'imported-session.png') });

    // Opened at the end: drawn from the second snapshot with the change made after it.
    const end = recorded[recorded.length - 1].timestamp - recorded[0].timestamp;
    await page.goto(`${e2e.backend.url}/#/sessions/${sessionId}?t=${end}`);
    await page.reload();
    try {
      await page.frameLocator('[data-testid=player] iframe').getByText(LATE_ITEM).first().waitFor({ timeout: 30_000 });
    } finally {
      await page.screenshot({ path: path.join(ARTIFACTS, 'imported-session-end.png') });
    }
    await context.close();
  }, 90_000);

  it('imports from the dashboard’s Import button and offers both exports in the session header', async () => {
    const file = path.join(dir, 'recording.json');
    const context = await e2e.browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
    const [name, value] = (await e2e.agentCookie()).split('=');
    await context.addCookies([{ name, value, url: e2e.backend.url }]);
    const page = await context.newPage();
    await page.goto(`${e2e.backend.url}/#/sessions`);
    await page.getByTestId('import-button').waitFor();
    // A file that is not an rrweb recording: the server's reason is shown next to the button.
    const bad = path.join(dir, 'not-rrweb.json');
    await writeFile(bad, JSON.stringify([{ type: 3, data: {}, timestamp: 1 }]));
    await page.getByTestId('import-file').setInputFiles(bad);
    await expect.poll(() => page.getByTestId('import-error').innerText(), { timeout: 15_000 }).toMatch(/not-rrweb\.json: No FullSnapshot/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'import-error.png') });

    await page.getByTestId('import-file').setInputFiles(file);
    await page.waitForURL(/#\/sessions\/[A-Za-z0-9_-]{8,64}/, { timeout: 30_000 });
    const imported = decodeURIComponent(page.url().split('#/sessions/')[1].split('?')[0]);
    expect(imported).not.toBe(sessionId);
    await page.frameLocator('[data-testid=player] iframe').getByText(HEADING).first().waitFor({ timeout: 30_000 });

    await page.getByTestId('export-menu').locator('summary').click();
    await page.screenshot({ path: path.join(ARTIFACTS, 'export-menu.png') });
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-rrweb').click()]);
    expect(download.suggestedFilename()).toBe(`tandem-${imported}.json`);
    const saved = path.join(dir, 'downloaded.json');
    await download.saveAs(saved);
    expect(JSON.parse(await readFile(saved, 'utf8'))).toEqual(JSON.parse(JSON.stringify(recorded)));
    expect(await page.getByTestId('export-html').getAttribute('href')).toBe(`/api/v1/sessions/${imported}/export?format=html`);
    await context.close();
  }, 90_000);

  it('exports the same events back with `npx tandem export`', async () => {
    const r = await cli('export', sessionId);
    expect(r.code).toBe(0);
    // Import changes nothing an rrweb player sees: the envelope's seq is gone again, and the recorder's
    // events were already in timestamp order (import keeps that order).
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(JSON.stringify(recorded)));
  }, 60_000);

  it('plays the HTML export from a file:// URL with the network blocked', async () => {
    const file = path.join(dir, 'session.html');
    const r = await cli('export', sessionId, '--format', 'html', '--out', file);
    expect(r.code).toBe(0);
    const context = await e2e.browser.newContext({ viewport: { width: 1200, height: 900 }, offline: true });
    const requests: string[] = [];
    // Everything but the file itself: the export must not need (nor try) the network.
    await context.route((url) => url.protocol !== 'file:', (route) => {
      requests.push(route.request().url());
      return route.abort();
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(String(err)));
    await page.goto(`file://${file}`);
    const replay = page.frameLocator('.rr-player iframe');
    await replay.getByText(HEADING).first().waitFor({ timeout: 20_000 });
    // It plays (autoPlay): the last change, made after the checkout, gets drawn.
    await replay.getByText(LATE_ITEM).first().waitFor({ timeout: 20_000 });
    expect((await page.locator('.rr-player iframe').first().getAttribute('sandbox')) ?? '').not.toContain('allow-scripts');
    await page.screenshot({ path: path.join(ARTIFACTS, 'html-export.png') });
    expect(errors).toEqual([]);
    expect(requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:') && !u.startsWith('blob:'))).toEqual([]);
    await context.close();
  }, 60_000);
});
