/**
 * A canvas video that reaches the live view before the first picture (the order on a quiet machine: the
 * canvas peer connects while the user's snapshot is still on its way) is already playing, hidden, when the
 * picture comes, and the same <video> element is then placed over its canvas: it is on screen in the
 * picture's own frame instead of being made after it (pages/live/LiveStage.svelte). Proven by holding the
 * user's first live:events frames (the snapshot) in the user's page until the video plays in the view.
 */
import { describe, expect, it } from 'vitest';
import { useBackendAndBrowser } from './support/fixture.js';
import { waitFor, WEBRTC_CHROMIUM_ARGS } from './support/browser.js';
import { agentContext, sessionIdOf, waitForAssist, waitForLiveState } from './support/live.js';
import { PC_TAP_INIT, patientContext, serveAssistPages } from './support/assist.js';

const e2e = useBackendAndBrowser({ chromiumArgs: WEBRTC_CHROMIUM_ARGS });
/** A WebRTC test on a loaded 2-core machine (as assist-canvas.test.ts). */
const WEBRTC_TEST_TIMEOUT_MS = 300_000;

/** In the user's page: `__holdEvents()` keeps every live:events frame (in order) until `__releaseEvents()`. */
const HOLD_EVENTS_INIT = `(() => {
  const send = WebSocket.prototype.send;
  let holding = false, socket = null;
  const queue = [];
  window.__holdEvents = () => { holding = true; };
  window.__heldEvents = () => queue.length;
  window.__releaseEvents = () => { holding = false; for (const d of queue.splice(0)) send.call(socket, d); };
  WebSocket.prototype.send = function (data) {
    if (holding && typeof data === 'string' && data.indexOf('"live:events"') >= 0) { socket = this; queue.push(data); return; }
    return send.call(this, data);
  };
})();`;

describe('canvas video before the first picture', { timeout: WEBRTC_TEST_TIMEOUT_MS }, () => {
  it('plays the canvas video hidden while the picture is on its way, and shows that same element over its canvas with the picture', async () => {
    const context = patientContext(await e2e.browser.newContext({ viewport: { width: 1000, height: 700 } }));
    await context.addInitScript(PC_TAP_INIT + HOLD_EVENTS_INIT);
    await serveAssistPages(context, e2e.backend.url);
    const page = await context.newPage();
    await page.goto(`${e2e.backend.url}/app/canvas.html`);
    const sessionId = await sessionIdOf(page);
    await waitForAssist(page, 'assist socket connected', (s) => s.connected);
    await page.evaluate(() => (window as any).__holdEvents());

    const agent = patientContext(await agentContext(e2e.browser, e2e.backend.url, await e2e.agentCookie()));
    const view = await agent.newPage();
    await view.goto(`${e2e.backend.url}/#/live/${encodeURIComponent(sessionId)}`);

    // The snapshot is held in the user's page: no picture, yet the canvas videos are in the view and play.
    await waitFor('canvas videos playing in the view before the picture', async () => {
      const frames = await view.getByTestId('assist-canvas-video').evaluateAll((els) => els.map((el) => (el as HTMLVideoElement).getVideoPlaybackQuality().totalVideoFrames));
      return frames.length === 2 && frames.every((f) => f > 0);
    }, 60_000);
    expect(await page.evaluate(() => (window as any).__heldEvents() as number)).toBeGreaterThan(0);
    const before = await view.evaluate(() => {
      const videos = [...document.querySelectorAll<HTMLVideoElement>('[data-testid="assist-canvas-video"]')];
      videos.forEach((v) => ((v as any).__early = true));
      const iframe = document.querySelector<HTMLIFrameElement>('[data-testid="live-stage"] iframe');
      return {
        state: document.querySelector('[data-testid="live-view"]')?.getAttribute('data-state'),
        canvasesInPicture: iframe?.contentDocument?.querySelectorAll('canvas').length ?? 0,
        // Not on screen yet: nothing to place them over.
        shown: videos.filter((v) => v.getClientRects().length > 0 || v.dataset.placed === 'true').length,
      };
    });
    expect(before).toEqual({ state: 'connecting', canvasesInPicture: 0, shown: 0 });

    // The snapshot goes: the picture is drawn and the same elements are placed over their canvases.
    await page.evaluate(() => (window as any).__releaseEvents());
    await waitForLiveState(view, 'live', 45_000);
    const after = await waitFor('the early videos placed over the replayed canvases', async () => {
      const videos = await view.getByTestId('assist-canvas-video').evaluateAll((els) =>
        els.map((el) => ({ early: !!(el as any).__early, placed: (el as HTMLElement).dataset.placed === 'true', onScreen: el.getClientRects().length > 0 })),
      );
      return videos.length === 2 && videos.every((v) => v.placed) ? videos : null;
    }, 30_000);
    expect(after).toEqual([
      { early: true, placed: true, onScreen: true },
      { early: true, placed: true, onScreen: true },
    ]);
    await agent.close();
    await context.close();
  });
});
