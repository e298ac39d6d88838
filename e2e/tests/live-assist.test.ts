import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { signInNewAgent, useBackendAndBrowser } from './support/fixture.js';
import { waitFor } from './support/browser.js';
import {
  agentContext,
  assertNoLiveTrafficFor,
  assistState,
  openLiveView,
  openUserPage,
  sessionIdOf,
  skewClockScript,
  stageFrame,
  waitForAssist,
  waitForLiveState,
  waitForStageText,
} from './support/live.js';

const e2e = useBackendAndBrowser();
const ARTIFACTS = path.resolve(new URL('../artifacts', import.meta.url).pathname);
beforeAll(() => mkdir(ARTIFACTS, { recursive: true }));

const USER_PAGE = `
  <h1>Checkout help</h1>
  <div id="notes" contenteditable="true"></div>
  <input id="card-name" type="text" placeholder="Name on card">
  <button id="add">Add line</button>
  <button id="log">Log</button>
  <ul id="lines"></ul>
  <script>
    document.getElementById('add').onclick = () => {
      const li = document.createElement('li');
      li.textContent = 'line ' + (document.querySelectorAll('#lines li').length + 1);
      document.getElementById('lines').appendChild(li);
    };
    document.getElementById('log').onclick = () => console.log('live console says hello');
  </script>`;

/** A fresh user (own browser context = own visitor and session) on the fixture page. */
async function newUser(init?: string): Promise<{ page: Page; sessionId: string; close(): Promise<void> }> {
  const context = await e2e.browser.newContext();
  if (init) await context.addInitScript(init);
  const page = await context.newPage();
  await openUserPage(page, e2e.backend.url, USER_PAGE);
  const sessionId = await sessionIdOf(page);
  await waitForAssist(page, 'assist socket connected', (s) => s.connected);
  return { page, sessionId, close: () => context.close() };
}

async function newAgent() {
  return agentContext(e2e.browser, e2e.backend.url, await e2e.agentCookie());
}

/** A second agent of the project (added through the settings API), signed in in its own browser context. */
async function secondAgent(name: string) {
  return agentContext(e2e.browser, e2e.backend.url, await signInNewAgent(e2e.backend.url, await e2e.agentCookie(), name));
}

describe('live assist in real browsers', () => {
  it('sends no DOM until an agent joins; the agent then sees typing, mutations, the cursor and the console live', async () => {
    const user = await newUser();
    // Connected, but nobody watches: nothing flows.
    const idle = await assertNoLiveTrafficFor(user.page, 1_500);
    expect(idle.forwarding).toBe(false);
    expect(idle.sentMessages).toBe(0);

    const agent = await newAgent();
    const view = await openLiveView(agent, e2e.backend.url, user.sessionId);
    await waitForStageText(view, 'Checkout help');
    await waitForAssist(user.page, 'forwarding', (s) => s.forwarding);

    // Text typed in a contenteditable is page text: the agent sees it as typed.
    await user.page.click('#notes');
    await user.page.keyboard.type('my card was declined');
    await waitForStageText(view, 'my card was declined');
    // Input values stay masked live too: the agent sees the mask, never the value.
    await user.page.fill('#card-name', 'Grace Hopper');
    let seen = '';
    await waitFor('masked input value', async () => (seen = await stageFrame(view).locator('#card-name').inputValue()) === '************')
      .catch((err) => { throw new Error(`${err.message}; the agent's input shows ${JSON.stringify(seen)}`); });
    // DOM mutations.
    await user.page.click('#add');
    await user.page.click('#add');
    await waitForStageText(view, 'line 2');
    // The user's cursor is drawn where they clicked (rrweb's mouse over the replay).
    const mouse = view.locator('[data-testid="live-stage"] .replayer-mouse').first();
    await waitFor('cursor drawn at the click', async () => {
      const box = await mouse.boundingBox();
      const button = await stageFrame(view).locator('#add').boundingBox();
      return !!box && !!button && Math.abs(box.x - (button.x + button.width / 2)) < button.width && Math.abs(box.y - (button.y + button.height / 2)) < 3 * button.height;
    });
    // Console, live.
    await user.page.click('#log');
    await view.getByTestId('live-console-entry').filter({ hasText: 'live console says hello' }).first().waitFor({ timeout: 10_000 });
    await view.screenshot({ path: path.join(ARTIFACTS, 'live-view.png') });
    // The replay iframe never runs the page's scripts.
    const sandbox = await view.locator('[data-testid="live-stage"] iframe').first().getAttribute('sandbox');
    expect(sandbox ?? '').not.toContain('allow-scripts');

    await agent.close();
    await user.close();
  });

  it('joins over the one WebSocket index.html opened before the modules ran (the early socket is taken over, not doubled)', async () => {
    const user = await newUser();
    const agent = await newAgent();
    // Every WebSocket the agent's page makes, with the first messages it sends (the join rides on the namespace handshake).
    await agent.addInitScript(`(() => {
      const Orig = window.WebSocket;
      window.__sockets = [];
      function Tapped(...args) {
        const ws = new Orig(...args);
        // 'loading': made by a script that ran while the HTML was parsed (index.html's first), not by a module.
        const entry = { url: String(args[0]), sent: [], readyState: document.readyState };
        window.__sockets.push(entry);
        const send = ws.send;
        ws.send = function (data) { if (entry.sent.length < 5) entry.sent.push(String(data).slice(0, 200)); return send.call(this, data); };
        return ws;
      }
      Tapped.prototype = Orig.prototype;
      for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) Tapped[k] = Orig[k];
      window.WebSocket = Tapped;
    })();`);
    const view = await openLiveView(agent, e2e.backend.url, user.sessionId);
    await waitForStageText(view, 'Checkout help');
    const seen = await view.evaluate(() => ({ sockets: (window as any).__sockets as { url: string; sent: string[]; readyState: string }[], stash: '__tandemEarlySocket' in window }));
    const io = seen.sockets.filter((s) => new URL(s.url).pathname === '/socket.io/');
    expect(io).toHaveLength(1);
    expect(io[0].url).toMatch(/transport=websocket/);
    expect(io[0].readyState).toBe('loading');
    // The namespace handshake on it carried the join (AgentHandshake.join): the inline script's socket was adopted.
    expect(io[0].sent.some((m) => m.startsWith('40/assist,') && m.includes(`"join":{"sessionId":"${user.sessionId}"`))).toBe(true);
    expect(seen.stash).toBe(false);
    await agent.close();
    await user.close();
  });

  it('serves two agents at once, and stops forwarding when the last one leaves', async () => {
    const user = await newUser();
    const a1 = await newAgent();
    const a2 = await secondAgent('Blake Support');
    const v1 = await openLiveView(a1, e2e.backend.url, user.sessionId);
    const v2 = await openLiveView(a2, e2e.backend.url, user.sessionId);
    await user.page.click('#add');
    await waitForStageText(v1, 'line 1');
    await waitForStageText(v2, 'line 1');
    // Both agents are named on the user's banner.
    await waitForAssist(user.page, 'two agents', (s) => s.agents.length === 2);
    const banner = (await user.page.locator('[data-tandem-banner]').textContent()) ?? '';
    expect(banner).toContain('Admin');
    expect(banner).toContain('Blake Support');

    await a1.close();
    await user.page.click('#add');
    await waitForStageText(v2, 'line 2');
    await a2.close();
    await waitForAssist(user.page, 'forwarding stopped', (s) => !s.forwarding && s.agents.length === 0);
    // The page keeps changing, yet no live message leaves it.
    await user.page.click('#add');
    await user.page.click('#add');
    await assertNoLiveTrafficFor(user.page, 1_500);
    await user.close();
  });

  it("leaves live assist when the site stops the tracker (e.g. the user withdrew consent): the agent's view ends", async () => {
    const user = await newUser();
    const agent = await newAgent();
    const view = await openLiveView(agent, e2e.backend.url, user.sessionId);
    await waitForStageText(view, 'Checkout help');
    await user.page.evaluate(() => (window as any).Tandem('stop'));
    await waitForAssist(user.page, 'socket closed', (s) => !s.connected && !s.forwarding);
    await user.page.click('#add');
    await assertNoLiveTrafficFor(user.page, 1_000);
    // The tab said it left (no grace period as for a dropped connection): the session ends for the agent now.
    await waitForLiveState(view, 'ended', 5_000);
    expect(await view.getByTestId('live-ended').getAttribute('data-reason')).toBe('session_gone');
    await agent.close();
    await user.close();
  });

  it('lets the user end the watching from the banner, and the agent sees that it ended', async () => {
    const user = await newUser();
    const agent = await newAgent();
    const view = await openLiveView(agent, e2e.backend.url, user.sessionId);
    await waitForStageText(view, 'Checkout help');
    const banner = user.page.locator('[data-tandem-banner]');
    await banner.waitFor();
    expect(await banner.textContent()).toContain('Admin');
    await user.page.locator('[data-tandem-stop]').click();
    await waitForLiveState(view, 'ended');
    expect(await view.getByTestId('live-ended').getAttribute('data-reason')).toBe('user_stopped');
    await waitForAssist(user.page, 'forwarding stopped', (s) => !s.forwarding);
    await expect(banner.isVisible()).resolves.toBe(false);
    await agent.close();
    await user.close();
  });

  it('keeps the agent watching across a page reload', async () => {
    const user = await newUser();
    const agent = await newAgent();
    const view = await openLiveView(agent, e2e.backend.url, user.sessionId);
    await user.page.click('#add');
    await waitForStageText(view, 'line 1');
    await user.page.reload();
    expect(await sessionIdOf(user.page)).toBe(user.sessionId);
    await waitForAssist(user.page, 'forwarding after reload', (s) => s.forwarding);
    // After the reload the list is empty again; a new line shows the agent follows the new page.
    await user.page.click('#add');
    await user.page.click('#add');
    await waitForStageText(view, 'line 2');
    expect(await view.getByTestId('live-view').getAttribute('data-state')).toBe('live');
    await agent.close();
    await user.close();
  });

  for (const skewS of [-60, 60]) {
    it(`stays live when the user's clock is ${Math.abs(skewS)} s ${skewS < 0 ? 'behind' : 'ahead'}`, async () => {
      const user = await newUser(skewClockScript(skewS * 1000));
      const agent = await newAgent();
      const view = await openLiveView(agent, e2e.backend.url, user.sessionId);
      await waitForStageText(view, 'Checkout help');
      for (let i = 1; i <= 3; i++) {
        await user.page.click('#add');
        // Each change must be drawn within a few seconds, not after the skew (60 s) or never.
        await waitForStageText(view, `line ${i}`, 5_000);
      }
      await agent.close();
      await user.close();
    });
  }

  it('shows the tabs of a user, which one is active, and switches between them', async () => {
    const context = await e2e.browser.newContext();
    const tab1 = await context.newPage();
    await openUserPage(tab1, e2e.backend.url, `<h1>First tab page</h1>`, '/tab-one.html');
    const sessionId = await sessionIdOf(tab1);
    const tab2 = await context.newPage();
    await openUserPage(tab2, e2e.backend.url, `<h1>Second tab page</h1>`, '/tab-two.html');
    expect(await sessionIdOf(tab2)).toBe(sessionId);
    await waitForAssist(tab2, 'tab 2 connected', (s) => s.connected);

    const agent = await newAgent();
    const view = await agent.newPage();
    await view.goto(`${e2e.backend.url}/#/live/${sessionId}`);
    await waitForLiveState(view, 'live');
    const tabs = view.getByTestId('live-tab');
    await waitFor('two tabs listed', async () => (await tabs.count()) === 2);
    // Switch by hand to the tab that is not being watched.
    await view.getByTestId('live-follow').uncheck().catch(() => {});
    const other = view.locator('[data-testid="live-tab"]:not([data-watching="true"])').first();
    const otherId = await other.getAttribute('data-tab-id');
    await other.click();
    await waitFor('switched tab', async () => (await view.locator(`[data-testid="live-tab"][data-tab-id="${otherId}"]`).getAttribute('data-watching')) === 'true');
    const watchedText = (await view.locator(`[data-testid="live-tab"][data-tab-id="${otherId}"]`).textContent()) ?? '';
    // Tab buttons show the tab's page title (`User page /tab-one.html` or `/tab-two.html`).
    expect(watchedText).toMatch(/tab-(one|two)\.html/);
    await waitForStageText(view, watchedText.includes('tab-two') ? 'Second tab page' : 'First tab page');
    await agent.close();
    await context.close();
  });

  it('goes back in time within a live session and returns to live with one click', async () => {
    const user = await newUser();
    const agent = await newAgent();
    const view = await openLiveView(agent, e2e.backend.url, user.sessionId);
    await user.page.click('#add');
    await waitForStageText(view, 'line 1');
    await user.page.waitForTimeout(1_500);
    for (let i = 0; i < 3; i++) await user.page.click('#add');
    await waitForStageText(view, 'line 4');

    // Drag to the start: the page as it was before any line was added.
    const scrubber = view.getByTestId('time-travel-scrubber');
    await scrubber.fill('0').catch(async () => scrubber.press('Home'));
    await waitForLiveState(view, 'time-travel');
    await view.waitForTimeout(300);
    await view.screenshot({ path: path.join(ARTIFACTS, 'live-time-travel.png') });
    const frames = view.frameLocator('[data-testid="live-stage"] iframe');
    await waitFor('earlier state shown', async () => {
      for (let i = 0; i < (await view.locator('[data-testid="live-stage"] iframe').count()); i++) {
        const f = frames.nth(i);
        const visible = await view.locator('[data-testid="live-stage"] iframe').nth(i).isVisible();
        if (visible && (await f.locator('#lines li').count()) === 0 && (await f.getByText('Checkout help').count()) > 0) return true;
      }
      return false;
    });
    await view.getByTestId('time-travel-back-to-live').click();
    await waitForLiveState(view, 'live');
    await user.page.click('#add');
    await waitForStageText(view, 'line 5');
    await agent.close();
    await user.close();
  });

  it('watches up to 4 live sessions in a grid and opens one full size', async () => {
    const users: Awaited<ReturnType<typeof newUser>>[] = [];
    for (let i = 0; i < 4; i++) users.push(await newUser());
    const agent = await newAgent();
    const grid = await agent.newPage();
    await grid.goto(`${e2e.backend.url}/#/live/grid?ids=${users.map((u) => u.sessionId).join(',')}`);
    const cells = grid.getByTestId('grid-cell');
    await waitFor('4 cells', async () => (await cells.count()) === 4);
    for (const [i, u] of users.entries()) {
      await u.page.click('#add');
      await u.page.evaluate((n) => (document.querySelector('h1')!.textContent = `Checkout help ${n}`), i);
    }
    for (const [i, u] of users.entries()) {
      await waitForStageText(grid, `Checkout help ${i}`, 10_000, `[data-testid="grid-cell"][data-session-id="${u.sessionId}"]`);
    }
    await grid.screenshot({ path: path.join(ARTIFACTS, 'live-grid.png') });
    await grid.locator(`[data-testid="grid-cell"][data-session-id="${users[2].sessionId}"] [data-testid="grid-open"]`).click();
    await waitFor('full view', async () => grid.url().endsWith(`#/live/${users[2].sessionId}`));
    await waitForLiveState(grid, 'live');
    await waitForStageText(grid, 'Checkout help 2');
    await agent.close();
    for (const u of users) await u.close();
  });

  it('lists live sessions with their page, tabs and watching agents, updating by itself', async () => {
    const agent = await newAgent();
    const list = await agent.newPage();
    await list.goto(`${e2e.backend.url}/#/live`);
    const user = await newUser();
    const row = list.locator(`[data-testid="live-row"][data-session-id="${user.sessionId}"]`);
    await row.waitFor({ timeout: 10_000 });
    expect(await row.getByTestId('live-page').textContent()).toContain('fixture.html');
    expect(await row.getByTestId('live-tabs').textContent()).toContain('1');
    const watcher = await newAgent();
    await openLiveView(watcher, e2e.backend.url, user.sessionId);
    await waitFor('agent shown as watching', async () => ((await row.getByTestId('live-agents').textContent()) ?? '').includes('Admin'));
    await list.screenshot({ path: path.join(ARTIFACTS, 'live-list.png') });
    await user.close();
    await waitFor('row gone after the user left', async () => (await row.count()) === 0, 40_000);
    await watcher.close();
    await agent.close();
  });
});
