/**
 * A live view opened in a new tab answers the user's canvas offer before the view itself exists
 * (frontend/src/lib/live/early-peers.ts): the early join loads the WebRTC mesh by itself, so the
 * answer does not wait for the view's chunk, its attach and the snapshot's rebuild. Proven by holding
 * the live view's chunk back: the user's canvas peer connects and sends video while the agent's page
 * has no view yet; once the chunk comes, the view adopts that peer and draws its video.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { useBackendAndBrowser } from './support/fixture.js';
import { waitFor, WEBRTC_CHROMIUM_ARGS } from './support/browser.js';
import { agentContext, sessionIdOf, waitForAssist, waitForLiveState } from './support/live.js';
import { PC_TAP_INIT, patientContext, rtcState, serveAssistPages, waitForInboundGrowth } from './support/assist.js';

const e2e = useBackendAndBrowser({ chromiumArgs: WEBRTC_CHROMIUM_ARGS });
/** A WebRTC test on a loaded 2-core machine (as assist-canvas.test.ts). */
const WEBRTC_TEST_TIMEOUT_MS = 300_000;

/** The user's open peer connections: their state and the video bytes they sent. */
function userPeers(page: Page): Promise<{ state: string; videoBytes: number }[]> {
  return page.evaluate(async () =>
    Promise.all(
      ((window as any).__pcs as RTCPeerConnection[])
        .filter((pc) => pc.connectionState !== 'closed')
        .map(async (pc) => {
          let videoBytes = 0;
          (await pc.getStats()).forEach((r: any) => {
            if (r.type === 'outbound-rtp' && r.kind === 'video') videoBytes += r.bytesSent ?? 0;
          });
          return { state: pc.connectionState, videoBytes };
        }),
    ),
  );
}

describe('canvas video, early answer', { timeout: WEBRTC_TEST_TIMEOUT_MS }, () => {
  it('the canvas offer is answered and video flows before the live view attaches; the view then adopts the peer and shows the video', async () => {
    const context = patientContext(await e2e.browser.newContext({ viewport: { width: 1000, height: 700 } }));
    await context.addInitScript(PC_TAP_INIT);
    await serveAssistPages(context, e2e.backend.url);
    const page = await context.newPage();
    await page.goto(`${e2e.backend.url}/app/canvas.html`);
    const sessionId = await sessionIdOf(page);
    await waitForAssist(page, 'assist socket connected', (s) => s.connected);

    const agent = patientContext(await agentContext(e2e.browser, e2e.backend.url, await e2e.agentCookie()));
    // The live view's chunk (the view, its AssistController) is held back until we say so.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let held = 0;
    await agent.route(/\/assets\/live-view\.svelte-[^/]+\.js$/, async (route) => {
      held++;
      await released;
      await route.continue();
    });
    const view = await agent.newPage();
    await view.goto(`${e2e.backend.url}/#/live/${encodeURIComponent(sessionId)}`);

    // The user's canvas peer connects and sends video to the agent's page, which has no view yet.
    const connected = await waitFor('the user\'s canvas peer connected and sending video', async () => {
      const peers = await userPeers(page);
      return peers.some((p) => p.state === 'connected' && p.videoBytes > 5_000) ? peers : null;
    }, 45_000);
    expect(connected.length).toBeGreaterThan(0);
    expect(held).toBeGreaterThan(0);
    const before = await view.evaluate(() => ({
      attached: performance.getEntriesByName('tandem:live-attached').length,
      liveView: !!document.querySelector('[data-testid="live-view"]'),
    }));
    expect(before).toEqual({ attached: 0, liveView: false });

    // The view comes: it takes over the same peer (no new offer needed) and draws its video.
    const pcsBefore = await page.evaluate(() => (window as any).__pcs.length as number);
    release();
    await waitForLiveState(view, 'live', 45_000);
    await waitForInboundGrowth(view, 'agent', { video: true }, 'canvas video bytes at the agent', { peerPrefix: 'canvas:tab:', minBytes: 20_000 });
    await waitFor('two canvas videos playing in the view', async () => {
      const frames = await view.getByTestId('assist-canvas-video').evaluateAll((els) => els.map((el) => (el as HTMLVideoElement).getVideoPlaybackQuality().totalVideoFrames));
      return frames.length === 2 && frames.every((f) => f > 10);
    }, 30_000);
    expect(await page.evaluate(() => (window as any).__pcs.length as number)).toBe(pcsBefore);
    expect((await rtcState(page)).rtc?.canvasStreams).toBe(2);
    await agent.close();
    await context.close();
  });
});
