import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { clockAt, writeGeneratedSession } from '../../bench/src/lib/seek-session.js';
import { PROJECT_KEY } from './support/backend-process.js';
import { waitFor } from './support/browser.js';
import { projectIdOf, useBackendAndBrowser, withStorage } from './support/fixture.js';

/**
 * A share link's first frame before the app (frontend/src/lib/player/early-frame.ts): index.html's
 * early `/open` answer is drawn as the paused replay at the link's moment by a small chunk that runs
 * before the dashboard's entry, and the session page adopts that Replayer (its iframe moves into the
 * player's stage) instead of building a second one.
 */

const ARTIFACTS = path.resolve(new URL('../artifacts/', import.meta.url).pathname);
const e2e = useBackendAndBrowser();
const MIN = 60_000;
const S = { sessionId: 'earlyframe0001', tabId: 'earlyframetab1' };

let ctx: BrowserContext;

/** Watches every animation frame: iframes in the page, their sandboxes, and when the early stage first shows a clock. */
const WATCH = `
  window.__iframesMax = 0; window.__sandboxes = []; window.__early = null;
  (function () {
    const tick = () => {
      const frames = document.querySelectorAll('iframe');
      window.__iframesMax = Math.max(window.__iframesMax, frames.length);
      for (const f of frames) { const s = String(f.getAttribute('sandbox')); if (!window.__sandboxes.includes(s)) window.__sandboxes.push(s); }
      const early = document.querySelector('[data-testid=player-early] iframe');
      const clock = early && early.contentDocument && early.contentDocument.getElementById('clock');
      if (clock && !window.__early) {
        early.setAttribute('data-e2e-early', '1');
        window.__earlyDoc = early.contentDocument;
        window.__early = { clock: clock.textContent.trim(), appChildren: document.getElementById('app').childElementCount, at: performance.now() };
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  })();
`;

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  await withStorage(e2e, async (store) => {
    await writeGeneratedSession(store, { projectId: await projectIdOf(store, PROJECT_KEY), ...S }, { durationMs: 20 * MIN, startedAt: Date.now() - 60 * MIN });
  });
  ctx = await e2e.browser.newContext({ viewport: { width: 1400, height: 900 } });
  const [name, value] = (await e2e.agentCookie()).split('=');
  await ctx.addCookies([{ name, value, url: e2e.backend.url }]);
  await ctx.addInitScript(WATCH);
}, 240_000);

afterAll(async () => {
  await ctx?.close();
});

async function clockIn(page: Page, selector: string): Promise<string> {
  return (await page.frameLocator(selector).locator('#clock').innerText({ timeout: 15_000 })).trim();
}

async function waitClock(page: Page, expected: string): Promise<void> {
  await waitFor(`the player to show ${expected}`, async () => (await clockIn(page, '[data-testid=player] iframe').catch(() => '')) === expected, 20_000, 50);
}

/** The player shows the early frame's iframe: one iframe ever, never with scripts, adopted (no second build). */
async function expectAdopted(page: Page, sawEarlyStage: boolean): Promise<void> {
  const state = await page.evaluate(() => {
    const w = window as any;
    const frames = [...document.querySelectorAll('iframe')];
    const marks = (name: string) => performance.getEntriesByName(name).length;
    return {
      iframesMax: w.__iframesMax as number,
      iframes: frames.length,
      inPlayer: document.querySelectorAll('[data-testid=player] iframe[data-e2e-early]').length,
      sameDocument: frames[0]?.contentDocument === w.__earlyDoc,
      sandboxes: w.__sandboxes as string[],
      earlyStages: document.querySelectorAll('[data-testid=player-early]').length,
      adopted: marks('tandem:early-adopted'),
      built: marks('tandem:replayer-built'),
    };
  });
  expect(state.iframesMax).toBe(1);
  expect(state.iframes).toBe(1);
  // When the early stage was on screen for a frame (the app held back), its very iframe and page are the player's now.
  if (sawEarlyStage) {
    expect(state.inPlayer).toBe(1);
    expect(state.sameDocument).toBe(true);
  }
  expect(state.sandboxes.length).toBeGreaterThan(0);
  for (const s of state.sandboxes) {
    expect(s).not.toBe('null');
    expect(s).not.toContain('allow-scripts');
  }
  expect(state.earlyStages).toBe(0);
  expect(state.adopted).toBe(1);
  expect(state.built).toBe(0);
}

type Box = { x: number; y: number; width: number; height: number };
type Boxes = { frame: Box; backdrop: Box };

/** Where the replayed page (its iframe, scaled) and the stage's backdrop (the viewport around it) are on screen. */
async function boxes(page: Page, viewport: string): Promise<Boxes> {
  return page.locator(viewport).evaluate((el) => {
    const box = (r: DOMRect) => ({ x: r.x, y: r.y, width: r.width, height: r.height });
    return { frame: box(el.querySelector('iframe')!.getBoundingClientRect()), backdrop: box(el.getBoundingClientRect()) };
  });
}

describe('player: a share link draws its moment before the app and the page adopts it', () => {
  it('draws the moment while the app has not even loaded, then the page takes that same replay over and seeks on', async () => {
    const page = await ctx.newPage();
    let earlyBox!: Boxes;
    try {
      // The dashboard's entry chunk held back until the early frame has been seen: the frame cannot come from the app.
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      await page.route(/\/assets\/index-[\w-]+\.js$/, async (route) => {
        await held;
        await route.continue();
      });
      const t = 7 * MIN + 12_345;
      await page.goto(`${e2e.backend.url}/#/sessions/${S.sessionId}?t=${t}`, { waitUntil: 'commit' });
      try {
        await waitFor('the early frame', async () => (await page.evaluate(() => (window as any).__early)) !== null, 20_000, 50);
        const early = await page.evaluate(() => (window as any).__early as { clock: string; appChildren: number });
        expect(early.appChildren).toBe(0);
        expect(early.clock).toBe(`T+${clockAt(t)}`);
        expect(await page.locator('#app').evaluate((app) => app.childElementCount)).toBe(0);
        await page.screenshot({ path: path.join(ARTIFACTS, 'player-early-frame-before-app.png') });
        earlyBox = await boxes(page, '[data-testid=player-early]');
      } finally {
        release();
      }

      await page.locator('[data-testid=player][data-ready=true]').waitFor({ timeout: 30_000 });
      await waitClock(page, `T+${clockAt(t)}`);
      expect(await page.getByTestId('player-play').getAttribute('data-state')).toBe('paused');
      expect((await page.getByTestId('player-time').innerText()).split('/')[0].trim()).toBe('7:12');
      await expectAdopted(page, true);
      await page.screenshot({ path: path.join(ARTIFACTS, 'player-early-frame-adopted.png') });
      // The early stage sat where the player puts the replay: taking it over moves neither the picture nor its backdrop.
      const adoptedBox = await boxes(page, '[data-testid=player]');
      console.log('early frame boxes, before the app | adopted', JSON.stringify(earlyBox), JSON.stringify(adoptedBox));
      for (const part of ['frame', 'backdrop'] as const) {
        for (const side of ['x', 'y', 'width', 'height'] as const) expect(Math.abs(earlyBox[part][side] - adoptedBox[part][side]), `${part} ${side}`).toBeLessThanOrEqual(2);
      }

      // Seeks after the adoption: forward in the adopted window (arrow key), then far (a new link's moment).
      await page.locator('[data-testid=player-time]').click();
      await page.keyboard.press('ArrowRight');
      await waitClock(page, `T+${clockAt(t + 5_000)}`);
      await page.evaluate((to) => (location.hash = `#/sessions/${to.id}?t=${to.t}`), { id: S.sessionId, t: 16 * MIN + 2_500 });
      await waitClock(page, `T+${clockAt(16 * MIN + 2_500)}`);
      expect(await page.getByTestId('player').getAttribute('data-window')).toBe('8');
      const sandboxes = await page.locator('[data-testid=player] iframe').evaluateAll((els) => els.map((el) => el.getAttribute('sandbox')));
      for (const s of sandboxes) expect(s ?? 'allow-scripts').not.toContain('allow-scripts');
    } finally {
      await page.close();
    }
  });

  it('adopts the early frame on an ordinary open too, and plays from it', async () => {
    const page = await ctx.newPage();
    try {
      const t = 3 * MIN + 40_000;
      await page.goto(`${e2e.backend.url}/#/sessions/${S.sessionId}?t=${t}`);
      await page.locator('[data-testid=player][data-ready=true]').waitFor({ timeout: 30_000 });
      await waitClock(page, `T+${clockAt(t)}`);
      // Here the page may adopt the frame in the same task that built it (before any paint of the early stage).
      await expectAdopted(page, false);
      // The app mounts once the early frame is painted (main.ts holds it): the frame does not share the main thread with the app's render.
      const marks = await page.evaluate(() => Object.fromEntries(['tandem:early-positioned', 'tandem:app-mounted'].map((n) => [n, performance.getEntriesByName(n)[0]?.startTime ?? NaN])));
      expect(marks['tandem:early-positioned']).toBeLessThan(marks['tandem:app-mounted']);
      await page.getByTestId('player-play').click();
      await waitFor('playback from the adopted frame', async () => Number((await clockIn(page, '[data-testid=player] iframe').catch(() => 'T+0')).slice(2)) >= clockAt(t) + 2, 15_000, 100);
    } finally {
      await page.close();
    }
  });

  it('a plain session link (no moment) builds its frame in the page, with no early stage', async () => {
    const page = await ctx.newPage();
    try {
      await page.goto(`${e2e.backend.url}/#/sessions/${S.sessionId}`);
      await page.locator('[data-testid=player][data-ready=true]').waitFor({ timeout: 30_000 });
      const marks = await page.evaluate(() => ({ early: performance.getEntriesByName('tandem:early-built').length, built: performance.getEntriesByName('tandem:replayer-built').length, iframes: document.querySelectorAll('iframe').length }));
      expect(marks).toEqual({ early: 0, built: 1, iframes: 1 });
    } finally {
      await page.close();
    }
  });
});
