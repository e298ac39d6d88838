import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { useBackendAndBrowser } from './support/fixture.js';
import { waitFor } from './support/browser.js';
import { agentContext, openLiveView, openUserPage, sessionIdOf, waitForAssist, waitForStageText } from './support/live.js';

/**
 * Issue 8: /tracker.js carries only a stand-in of the live assist plugin; the plugin and its socket.io
 * client come from /tracker-assist.js, fetched when the page is idle after the first full snapshot, and
 * the assist socket opens from then on, never inside the snapshot's task.
 */
const e2e = useBackendAndBrowser();
const ARTIFACTS = path.resolve(new URL('../artifacts', import.meta.url).pathname);
beforeAll(() => mkdir(ARTIFACTS, { recursive: true }));

/**
 * Runs before the page's own scripts: logs every socket.io connection attempt (WebSocket, or the polling
 * fallback's XHR/fetch) and, through a tracker plugin queued before /tracker.js loads, the moment the
 * first full snapshot reaches the tracker's bus. `inSnapshotTask` is true from that moment until the
 * task ends (a MessageChannel message runs in the next task), so a socket opened inside that task says so.
 */
const PROBE = `(() => {
  const probe = (window.__probe = { snapshotAt: null, snapshotTimestamp: null, inSnapshotTask: false, sockets: [], storeOpenedAt: null });
  const idbOpen = IDBFactory.prototype.open;
  IDBFactory.prototype.open = function (...args) { if (String(args[0]).startsWith('tandem:')) probe.storeOpenedAt ??= performance.now(); return idbOpen.apply(this, args); };
  const note = (kind, url) => {
    if (String(url).includes('/socket.io/')) probe.sockets.push({ kind, url: String(url), at: performance.now(), inSnapshotTask: probe.inSnapshotTask, afterSnapshot: probe.snapshotAt !== null });
  };
  const RealWebSocket = window.WebSocket;
  window.WebSocket = function (url, protocols) { note('websocket', url); return new RealWebSocket(url, protocols); };
  window.WebSocket.prototype = RealWebSocket.prototype;
  Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
  const open = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) { note('xhr', url); return open.call(this, method, url, ...rest); };
  const realFetch = window.fetch;
  window.fetch = function (input, init) { note('fetch', typeof input === 'string' ? input : input.url); return realFetch.call(this, input, init); };
  window.Tandem = window.Tandem || function () { (window.Tandem.q = window.Tandem.q || []).push(arguments); };
  window.Tandem('use', { name: 'probe', setup(tracker) {
    tracker.bus.subscribe((e) => {
      if (e.type !== 2 || probe.snapshotAt !== null) return;
      probe.snapshotAt = performance.now();
      probe.snapshotTimestamp = e.timestamp;
      probe.inSnapshotTask = true;
      const channel = new MessageChannel();
      channel.port1.onmessage = () => { probe.inSnapshotTask = false; };
      channel.port2.postMessage(0);
    });
  } });
})();`;

interface Probe {
  snapshotAt: number | null;
  snapshotTimestamp: number | null;
  sockets: { kind: string; url: string; at: number; inSnapshotTask: boolean; afterSnapshot: boolean }[];
  storeOpenedAt: number | null;
}

const USER_PAGE = `<h1>Lazy assist page</h1><p id="para">Some text the agent should see</p><button id="add" onclick="document.getElementById('para').textContent='changed by the user'">change</button>`;

async function resourceStart(page: Page, suffix: string): Promise<number | null> {
  return page.evaluate((s) => {
    const entry = performance.getEntriesByType('resource').find((r) => new URL(r.name).pathname === s);
    return entry ? entry.startTime : null;
  }, suffix);
}

describe('the assist plugin as a lazy chunk', () => {
  it('loads /tracker-assist.js after the first snapshot, connects from then on (never in the snapshot task), and an agent sees the page', async () => {
    const context = await e2e.browser.newContext();
    await context.addInitScript(PROBE);
    const page = await context.newPage();
    const requests: string[] = [];
    page.on('request', (req) => {
      const u = new URL(req.url());
      if (u.origin === e2e.backend.url) requests.push(u.pathname);
    });
    page.on('websocket', (ws) => requests.push(`websocket ${new URL(ws.url()).pathname}`));
    await openUserPage(page, e2e.backend.url, USER_PAGE, '/lazy.html');
    const sessionId = await sessionIdOf(page);
    const connected = await waitForAssist(page, 'assist socket connected', (s) => s.connected);
    expect((connected as unknown as { chunk?: string }).chunk).toBe('loaded');

    // Request order: the first script, then (after the session and the snapshot) the chunk, then the socket.
    const at = (p: string) => requests.findIndex((r) => r === p || r.startsWith(p));
    expect(at('/tracker.js')).toBeGreaterThanOrEqual(0);
    expect(at('/tracker-assist.js')).toBeGreaterThan(at('/tracker.js'));
    expect(at('/tracker-assist.js')).toBeGreaterThan(at('/ingest/v1/start'));
    expect(at('websocket /socket.io/')).toBeGreaterThan(at('/tracker-assist.js'));
    expect(requests.filter((r) => r === '/tracker-assist.js')).toHaveLength(1);
    // The pagehide path's sync gzip comes at the same idle moment.
    expect(at('/tracker-gzip.js')).toBeGreaterThan(at('/ingest/v1/start'));
    // Nobody needs WebRTC: that chunk is never fetched.
    expect(at('/tracker-rtc.js')).toBe(-1);

    // Timing, from the page's own clock: snapshot on the bus → chunk requested → socket opened.
    const probe = (await page.evaluate(() => (window as any).__probe)) as Probe;
    expect(probe.snapshotAt).not.toBeNull();
    const chunkStart = await resourceStart(page, '/tracker-assist.js');
    const trackerStart = await resourceStart(page, '/tracker.js');
    expect(chunkStart).not.toBeNull();
    expect(chunkStart!).toBeGreaterThan(trackerStart!);
    expect(chunkStart!).toBeGreaterThanOrEqual(probe.snapshotAt!);
    const gzipStart = (await resourceStart(page, '/tracker-gzip.js'))!;
    expect(gzipStart).toBeGreaterThanOrEqual(probe.snapshotAt!);
    // The IndexedDB store of unsent batches comes with that idle chunk: opened after it, not at start().
    const storeOpenedAt = await waitFor('the IndexedDB store opened', () => page.evaluate(() => (window as any).__probe.storeOpenedAt as number | null));
    expect(storeOpenedAt).toBeGreaterThan(gzipStart);
    expect(probe.sockets.length).toBeGreaterThan(0);
    for (const s of probe.sockets) {
      expect(s.afterSnapshot, `${s.kind} ${s.url} opened before the first snapshot`).toBe(true);
      expect(s.inSnapshotTask, `${s.kind} ${s.url} opened in the first snapshot's task`).toBe(false);
      expect(s.at).toBeGreaterThan(chunkStart!);
    }
    console.log(
      `lazy assist: snapshot on the bus at ${probe.snapshotAt!.toFixed(0)} ms, /tracker-assist.js requested at ${chunkStart!.toFixed(0)} ms, ` +
        `first socket at ${probe.sockets[0].at.toFixed(0)} ms (${probe.sockets[0].kind}); requests: ${requests.join(', ')}`,
    );

    // The plugin works after it: an agent joins and sees the page live.
    const agent = await agentContext(e2e.browser, e2e.backend.url, await e2e.agentCookie());
    const view = await openLiveView(agent, e2e.backend.url, sessionId);
    await waitForStageText(view, 'Some text the agent should see');
    await page.click('#add');
    await waitForStageText(view, 'changed by the user');
    await view.screenshot({ path: path.join(ARTIFACTS, 'assist-lazy-live-view.png') });
    await agent.close();
    await context.close();
  });

  it('an agent already watching when a page loads gets that page once its lazy chunk connects', async () => {
    const context = await e2e.browser.newContext();
    const page = await context.newPage();
    await openUserPage(page, e2e.backend.url, '<h1>First page</h1>', '/first.html');
    const sessionId = await sessionIdOf(page);
    await waitForAssist(page, 'assist socket connected', (s) => s.connected);
    const agent = await agentContext(e2e.browser, e2e.backend.url, await e2e.agentCookie());
    const view = await openLiveView(agent, e2e.backend.url, sessionId);
    await waitForStageText(view, 'First page');

    // The user goes to another page of the site: the agent is waiting in the room before its tracker
    // has even loaded, and events are recorded there before the assist chunk arrives.
    await openUserPage(page, e2e.backend.url, '<h1>Second page</h1><p id="early">recorded before the chunk</p>', '/second.html');
    expect(await sessionIdOf(page)).toBe(sessionId);
    const started = Date.now();
    await waitForStageText(view, 'recorded before the chunk', 15_000);
    const shown = Date.now() - started;
    const state = await waitForAssist(page, 'forwarding on the second page', (s) => s.forwarding);
    expect(state.agents.length).toBe(1);
    expect((state as unknown as { chunk?: string }).chunk).toBe('loaded');
    // Still live after the late join.
    await page.evaluate(() => {
      document.getElementById('early')!.textContent = 'typed after the join';
    });
    await waitForStageText(view, 'typed after the join');
    console.log(`lazy assist: the waiting agent saw the second page ${shown} ms after its navigation started`);
    await waitFor('the agent view stays live', async () => (await view.locator('[data-testid="live-view"][data-state="live"]').count()) > 0);
    await agent.close();
    await context.close();
  });

  it('data-assist="false": no assist chunk and no socket, the gzip chunk still comes', async () => {
    const context = await e2e.browser.newContext();
    await context.addInitScript(PROBE);
    const page = await context.newPage();
    const requests: string[] = [];
    page.on('request', (req) => requests.push(new URL(req.url()).pathname));
    await openUserPage(page, e2e.backend.url, USER_PAGE, '/no-assist.html', 'data-assist="false"');
    await sessionIdOf(page);
    await waitFor('the gzip chunk', async () => requests.includes('/tracker-gzip.js'));
    await page.waitForTimeout(1_500); // longer than an idle wait: nothing else comes
    expect(requests).not.toContain('/tracker-assist.js');
    expect(((await page.evaluate(() => (window as any).__probe)) as Probe).sockets).toEqual([]);
    expect(await page.evaluate(() => new Promise((r) => (window as any).Tandem('assistState', r)))).toBeNull();
    await context.close();
  });
});
