import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { clockAt, writeGeneratedSession } from '../../bench/src/lib/seek-session.js';
import { PROJECT_KEY } from './support/backend-process.js';
import { waitFor } from './support/browser.js';
import { projectIdOf, useBackendAndBrowser, withStorage } from './support/fixture.js';

/**
 * The session page's player over long generated recordings (bench/src/lib/seek-session.ts: a page
 * whose `#clock` shows `T+<seconds>`, a checkout every 2 minutes, custom events, failed requests,
 * console lines, errors, idle stretches), written straight through the storage writer and replayed
 * by the real backend and dashboard in Chromium. The clock tells which moment the replay shows.
 */

const ARTIFACTS = path.resolve(new URL('../artifacts/', import.meta.url).pathname);
const e2e = useBackendAndBrowser();
const MIN = 60_000;
const LONG = { sessionId: 'playerlong0001', tabId: 'playerlongtab1' };
const TWO = { sessionId: 'playertwo00001', tabA: 'playertwotabA1', tabB: 'playertwotabB1' };
const longStart = Date.now() - 3 * 60 * MIN;
const twoStart = Date.now() - 2 * 60 * MIN;

let ctx: BrowserContext;
let page: Page;

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  await withStorage(e2e, async (store) => {
    const projectId = await projectIdOf(store, PROJECT_KEY);
    await writeGeneratedSession(store, { projectId, ...LONG }, { durationMs: 40 * MIN, startedAt: longStart });
    await writeGeneratedSession(store, { projectId, sessionId: TWO.sessionId, tabId: TWO.tabA }, { durationMs: 8 * MIN, startedAt: twoStart, label: 'A' });
    await writeGeneratedSession(store, { projectId, sessionId: TWO.sessionId, tabId: TWO.tabB }, { durationMs: 6 * MIN, startedAt: twoStart + 3 * MIN, label: 'B', seed: 7 });
  });
  ctx = await e2e.browser.newContext({ viewport: { width: 1400, height: 900 } });
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: e2e.backend.url });
  const [name, value] = (await e2e.agentCookie()).split('=');
  await ctx.addCookies([{ name, value, url: e2e.backend.url }]);
  page = await ctx.newPage();
}, 240_000);

afterAll(async () => {
  await ctx?.close();
});

const frame = (p: Page = page) => p.frameLocator('[data-testid=player] iframe');

async function clockShown(p: Page = page): Promise<string> {
  return (await frame(p).locator('#clock').innerText({ timeout: 15_000 })).trim();
}

/** Waits until the replay shows `label+second` (what the page's clock said at that moment). */
async function waitClock(expected: string, p: Page = page): Promise<void> {
  await waitFor(`the replay to show ${expected}`, async () => (await clockShown(p).catch(() => '')) === expected, 20_000, 100).catch(async (err) => {
    throw new Error(`${(err as Error).message}; it shows ${await clockShown(p).catch(() => '?')}`);
  });
}

async function openShare(t: number, p: Page = page, sessionId = LONG.sessionId, extra = ''): Promise<void> {
  await p.goto(`${e2e.backend.url}/#/sessions/${sessionId}?t=${t}${extra}`);
  await p.locator('[data-testid=player][data-ready=true]').waitFor({ timeout: 60_000 });
}

async function ensurePaused(): Promise<void> {
  const play = page.getByTestId('player-play');
  if ((await play.getAttribute('data-state')) === 'playing') await play.click();
  await waitFor('paused', async () => (await play.getAttribute('data-state')) === 'paused', 5_000, 50);
}

async function playerTime(): Promise<string> {
  return (await page.getByTestId('player-time').innerText()).split('/')[0].trim();
}

async function noScriptsInReplay(p: Page = page): Promise<void> {
  const sandboxes = await p.locator('[data-testid=player] iframe').evaluateAll((els) => els.map((el) => el.getAttribute('sandbox')));
  expect(sandboxes.length).toBeGreaterThan(0);
  for (const s of sandboxes) {
    expect(s).not.toBeNull();
    expect(s).not.toContain('allow-scripts');
  }
}

describe('player: long sessions, share links, timeline, keyboard, panels', () => {
  it('a share link opens paused at its moment, loading only the keyframe window around it', async () => {
    const t = 12 * MIN + 34_321;
    await openShare(t);
    await waitClock(`T+${clockAt(t)}`);
    expect(await page.getByTestId('player-play').getAttribute('data-state')).toBe('paused');
    expect(await playerTime()).toBe('12:34');
    const player = page.getByTestId('player');
    // 40 minutes, a checkout every 2 minutes: a window per checkout.
    expect(Number(await player.getAttribute('data-windows'))).toBe(20);
    expect(await player.getAttribute('data-window')).toBe('6');
    await noScriptsInReplay();
    await page.screenshot({ path: path.join(ARTIFACTS, 'player-share-open.png') });
  });

  it('fits the replayed page into the player and refits it when the window is resized; a share link loads no chart code', async () => {
    const tab = await ctx.newPage();
    try {
      await openShare(5 * MIN + 2_500, tab);
      await waitClock(`T+${clockAt(5 * MIN + 2_500)}`, tab);
      // The recorded page is 1280×800; it is shown at the largest scale (at most 1) that fits the viewport less a 16 px inset.
      const fit = () => tab.locator('[data-testid=player]').evaluate((viewport) => {
        const stage = viewport.querySelector('.replay-stage') as HTMLElement;
        const shown = new DOMMatrix(getComputedStyle(stage).transform).a;
        const wanted = Math.min(1, (viewport.clientWidth - 32) / 1280, (viewport.clientHeight - 32) / 800);
        return { shown, wanted };
      });
      const small = await fit();
      expect(small.shown).toBeLessThan(1);
      expect(Math.abs(small.shown - small.wanted)).toBeLessThan(0.005);
      await tab.setViewportSize({ width: 2200, height: 1300 });
      await waitFor('the replay refitted to the larger window', async () => {
        const now = await fit();
        return now.shown > small.shown && Math.abs(now.shown - now.wanted) < 0.005;
      }, 10_000, 50);
      // The sessions list's chart library is a chunk of its own: a share link never loads it (`u-legend` is
      // one of uPlot's class names, in its code only).
      const scripts = await tab.evaluate(async () => {
        const names = performance.getEntriesByType('resource').map((r) => r.name).filter((n) => n.endsWith('.js'));
        return Promise.all(names.map(async (name) => ({ name, uplot: (await (await fetch(name)).text()).includes('u-legend') })));
      });
      expect(scripts.some((s) => /SessionPage-/.test(s.name))).toBe(true);
      expect(scripts.filter((s) => s.uplot).map((s) => s.name)).toEqual([]);
    } finally {
      await tab.close();
    }
  });

  it('plays on across a window boundary into the next (prefetched) window', async () => {
    await openShare(2 * MIN - 6_000);
    await waitClock('T+113');
    await page.getByTestId('player-speed').selectOption('4');
    await page.getByTestId('player-play').click();
    await waitFor('playback into the next window', async () => {
      const shown = Number((await clockShown().catch(() => 'T+0')).slice(2));
      return shown >= 126 && (await page.getByTestId('player').getAttribute('data-window')) === '1';
    }, 30_000, 100);
    await ensurePaused();
    await page.getByTestId('player-speed').selectOption('1');
  });

  it('puts custom events and failed requests on the timeline at their times, says what they are on hover, and jumps there', async () => {
    const markers = page.locator('[data-testid=timeline-marker][data-kind=custom]');
    await waitFor('8 custom-event markers', async () => (await markers.count()) === 8, 30_000);
    const offsets = await markers.evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-offset'))));
    // A custom event at every 300 s + 150 s (+ 900 ms into that second).
    expect(offsets.sort((a, b) => a - b)).toEqual([150, 450, 750, 1050, 1350, 1650, 1950, 2250].map((s) => s * 1000 + 900));
    const failed = await page.locator('[data-testid=timeline-marker][data-kind=network]').evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-offset'))));
    // One request in five fails (every 100 s, at +10 s); its marker sits at the request's start.
    expect(failed.sort((a, b) => a - b)).toEqual(Array.from({ length: 24 }, (_, i) => (i * 100 + 10) * 1000 + 730));
    expect(await page.locator('[data-testid=timeline-marker][data-kind=error]').count()).toBe(4);
    expect(await page.locator('[data-testid=timeline-marker][data-kind=click]').count()).toBeGreaterThan(50);

    const last = page.locator('[data-testid=timeline-marker][data-kind=custom][data-offset="2250900"]');
    await last.hover();
    const tip = page.getByTestId('marker-tip');
    await expect(tip.innerText()).resolves.toMatch(/Custom event\s+37:30\s+checkout-step/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'player-timeline-tooltip.png') });
    await last.click();
    await waitClock('T+2250');
    expect(await playerTime()).toBe('37:30');

    const failedMarker = page.locator('[data-testid=timeline-marker][data-kind=network][data-offset="310730"]');
    await failedMarker.hover();
    await expect(tip.innerText()).resolves.toMatch(/Failed request[\s\S]*GET https:\/\/shop\.example\/api\/stock\?page=310 → 503/);
    await failedMarker.click();
    await waitClock(`T+${clockAt(310_730)}`);
  });

  it('shades idle stretches and jumps over them while playing with "skip inactivity"', async () => {
    // Idle (no input) from 15:00 to 18:00 and 30:00 to 33:00; the last input before each is at 14:59.9.
    const idle = page.locator('[data-testid=player-scrubber] .inactive');
    await waitFor('two idle stretches', async () => (await idle.count()) === 2, 30_000);
    expect(await page.getByTestId('player-skip').isChecked()).toBe(true);
    await openShare(15 * MIN + 5_000);
    await page.getByTestId('player-play').click();
    await waitFor('the jump over the idle stretch', async () => (await page.getByTestId('player-skipped').count()) > 0, 20_000, 100);
    await waitFor('the clock past the idle stretch', async () => {
      const [m] = (await playerTime()).split(':').map(Number);
      return m >= 17;
    }, 10_000, 100);
    await ensurePaused();
  });

  it('steps with the arrow keys, plays and pauses with space, lists its shortcuts and offers 0.5× to 16×', async () => {
    await openShare(20 * MIN + 500);
    await waitClock('T+1200');
    await page.locator('[data-testid=player-time]').click();
    await page.keyboard.press('ArrowRight');
    await waitClock('T+1205');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await waitClock('T+1195');
    await page.keyboard.press('Space');
    await waitFor('playing', async () => (await page.getByTestId('player-play').getAttribute('data-state')) === 'playing', 5_000, 50);
    await page.keyboard.press('Space');
    await waitFor('paused', async () => (await page.getByTestId('player-play').getAttribute('data-state')) === 'paused', 5_000, 50);
    await page.getByTestId('player-shortcuts-toggle').click();
    const sheet = await page.getByTestId('player-shortcuts').innerText();
    expect(sheet).toContain('Space');
    expect(sheet).toMatch(/Back \/ forward 5 s/);
    const speeds = await page.getByTestId('player-speed').locator('option').allInnerTexts();
    expect(speeds).toEqual(['0.5×', '1×', '2×', '4×', '8×', '16×']);
    await page.screenshot({ path: path.join(ARTIFACTS, 'player-shortcuts.png') });
    await page.getByTestId('player-shortcuts-toggle').click();
  });

  it('console: filters by level and text, expands logged objects, highlights the line at the player time, and rows seek', async () => {
    await ensurePaused();
    await page.getByTestId('tab-console').click();
    const entries = page.getByTestId('console-entry');
    await entries.first().waitFor();
    await entries.filter({ hasText: '"tick 1500"' }).locator('button.main').click();
    await waitClock('T+1500');
    // The highlighted line is the last one at or before the player time.
    await waitFor('the current console line', async () => ((await page.locator('[data-testid=console-entry].current').innerText().catch(() => '')) || '').includes('tick 1500'), 5_000, 100);
    await page.locator('[data-testid=player-time]').click(); // focus off the row's button: keys go to the player
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await waitClock('T+1510');
    expect(await page.locator('[data-testid=console-entry].current').innerText()).toContain('tick 1500');
    await page.screenshot({ path: path.join(ARTIFACTS, 'player-console.png') });

    const current = page.locator('[data-testid=console-entry].current');
    await current.getByTestId('json-toggle').first().click();
    await expect(current.innerText()).resolves.toMatch(/cart:\s*\d/);

    await page.getByTestId('console-filter').locator('[data-value=warn]').click();
    // Text content, not innerText: rows far out of view are not rendered (content-visibility: auto), and
    // innerText of an unrendered row is empty although the row is there (and found by find-in-page).
    const levels = (await entries.locator('.level').allTextContents()).map((l) => l.trim());
    expect(levels.length).toBe(26); // every 90 s over 40 minutes
    expect(new Set(levels.map((l) => l.toLowerCase()))).toEqual(new Set(['warn']));
    await page.getByTestId('console-filter').locator('[data-value=all]').click();
    await page.getByTestId('console-filter').locator('input').fill('tick 2370');
    expect(await entries.count()).toBe(1);
    await page.getByTestId('console-filter').locator('input').fill('');
  });

  it('network: a waterfall with method, URL, status, time and size, failed ones red, a filter, and rows that seek', async () => {
    await ensurePaused();
    await page.getByTestId('tab-network').click();
    const entries = page.getByTestId('network-entry');
    await entries.first().waitFor();
    expect(await entries.count()).toBe(120);
    await page.getByTestId('network-filter').locator('[data-value=failed]').click();
    expect(await entries.count()).toBe(24);
    const row = entries.filter({ hasText: 'page=2010' });
    expect(await row.innerText()).toMatch(/GET[\s\S]*503[\s\S]*120 ms/);
    const color = await row.locator('.url').evaluate((el) => getComputedStyle(el).color);
    expect(color).not.toBe('rgb(0, 0, 0)');
    expect(await row.locator('.bar').count()).toBe(1);
    await page.screenshot({ path: path.join(ARTIFACTS, 'player-network.png') });
    await row.locator('button.main').click();
    await waitClock(`T+${clockAt(2010_730)}`);
    await page.getByTestId('network-filter').locator('[data-value=all]').click();
    await page.getByTestId('network-filter').locator('input').fill('page=30');
    expect(await entries.count()).toBe(1);
  });

  it('errors: message and stack, rows seek', async () => {
    await ensurePaused();
    await page.getByTestId('tab-errors').click();
    const entries = page.getByTestId('error-entry');
    await entries.first().waitFor();
    expect(await entries.count()).toBe(4);
    const row = entries.filter({ hasText: 'cart is undefined (900)' });
    await row.getByText('Show stack').click();
    await expect(row.locator('pre').innerText()).resolves.toContain('at checkout (app.js:1:2)');
    await page.screenshot({ path: path.join(ARTIFACTS, 'player-errors.png') });
    await row.locator('button.main').click();
    await waitClock('T+900');
  });

  it('events: page visits, clicks, custom events and identify, rows seek', async () => {
    await ensurePaused();
    await page.getByTestId('tab-events').click();
    const entries = page.getByTestId('event-entry');
    await waitFor('custom events in the Events panel', async () => (await entries.filter({ hasText: 'checkout-step' }).count()) === 8, 30_000);
    expect(await entries.filter({ hasText: 'u-1' }).count()).toBe(1);
    expect(await page.locator('[data-testid=event-entry] [data-kind=page]').count()).toBe(5); // load + every 10 minutes
    expect(await page.locator('[data-testid=event-entry] [data-kind=click]').count()).toBeGreaterThan(50);
    await page.getByTestId('events-filter').locator('[data-value=custom]').click();
    expect(await entries.count()).toBe(8);
    await page.screenshot({ path: path.join(ARTIFACTS, 'player-events.png') });
    await entries.nth(5).locator('button.main').click();
    await waitClock('T+1650');
    await noScriptsInReplay();
  });

  it('a two-tab session shows both tabs, and a share link names the tab it was made on', async () => {
    await openShare(60_000, page, TWO.sessionId);
    const options = page.getByTestId('tab-option');
    expect(await options.count()).toBe(2);
    await waitClock('A+59');
    await options.nth(1).click();
    await page.locator('[data-testid=player][data-ready=true]').waitFor();
    await waitFor('tab B drawn', async () => (await clockShown().catch(() => '')).startsWith('B+'), 20_000, 100);
    await page.locator('[data-testid=player-time]').click();
    await page.keyboard.press('End');
    await waitClock(`B+${6 * 60}`);
    await page.getByTestId('player-share').click();
    const link = (await page.getByTestId('player-share').getAttribute('data-link')) ?? '';
    // Tab B started 3 minutes into the session and is 6 minutes long: its end is 9:00 of the session.
    const shared = /#\/sessions\/(\w+)\?t=(\d+)&tab=(\w+)$/.exec(link);
    expect(shared?.[1]).toBe(TWO.sessionId);
    expect(shared?.[3]).toBe(TWO.tabB);
    expect(Number(shared?.[2])).toBeGreaterThanOrEqual(9 * MIN);
    expect(Number(shared?.[2])).toBeLessThan(9 * MIN + 1000);
    await page.screenshot({ path: path.join(ARTIFACTS, 'player-two-tabs.png') });
    const other = await ctx.newPage();
    await other.goto(link);
    await other.locator('[data-testid=player][data-ready=true]').waitFor({ timeout: 60_000 });
    await waitClock(`B+${6 * 60}`, other);
    expect(await other.locator('[data-testid=tab-option][aria-selected=true]').getAttribute('data-tab-id')).toBe(TWO.tabB);
    await other.close();
  });
});
