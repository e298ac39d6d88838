/**
 * Canvas video (issue 7): every visible <canvas> of the user's page, 2D and WebGL, reaches a watching agent
 * as a live video (captureStream over the tab↔agent peer), drawn exactly over the replayed canvas. Asserted
 * on frames the agent decoded and on the pixels of the video, not on an element existing.
 */
import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { useBackendAndBrowser } from './support/fixture.js';
import { waitFor, WEBRTC_CHROMIUM_ARGS } from './support/browser.js';
import { agentContext, openLiveView, sessionIdOf, stageFrame, waitForAssist, waitForStageText } from './support/live.js';
import { PC_TAP_INIT, inboundDelta, patientContext, rtcState, serveAssistPages, waitForInboundGrowth } from './support/assist.js';

const e2e = useBackendAndBrowser({ chromiumArgs: WEBRTC_CHROMIUM_ARGS });
/** A WebRTC test on a loaded 2-core machine: several peers, encoders and page loads (the suite default is 120 s). */
const WEBRTC_TEST_TIMEOUT_MS = 300_000;
const ARTIFACTS = path.resolve(new URL('../artifacts', import.meta.url).pathname);
beforeAll(() => mkdir(ARTIFACTS, { recursive: true }));

interface Box { x: number; y: number; width: number; height: number }

/** The agent's canvas peers (`canvas:tab:<tabId>` in `__tandemAssist.peers()`), apart from a call's `tab:<tabId>`. */
const CANVAS_PEERS = 'canvas:tab:';

/** Video bytes the user's page sent over its open peer connections (outbound-rtp), and how many are open. */
async function outbound(page: Page): Promise<{ videoBytes: number; peers: number }> {
  return page.evaluate(async () => {
    const out = { videoBytes: 0, peers: 0 };
    for (const pc of ((window as any).__pcs ?? []) as RTCPeerConnection[]) {
      if (pc.connectionState === 'closed') continue;
      out.peers++;
      (await pc.getStats()).forEach((r: any) => {
        if (r.type === 'outbound-rtp' && r.kind === 'video') out.videoBytes += r.bytesSent ?? 0;
      });
    }
    return out;
  });
}

/** Outbound video bytes over `ms`, after `settleMs` for what was in flight. */
async function outboundDelta(page: Page, ms: number, settleMs = 500): Promise<{ videoBytes: number; peers: number }> {
  await page.waitForTimeout(settleMs);
  const a = await outbound(page);
  await page.waitForTimeout(ms);
  const b = await outbound(page);
  return { videoBytes: b.videoBytes - a.videoBytes, peers: b.peers };
}

/** Each canvas video of the live view: its node id, its box in the page, frames presented, a pixel. */
function canvasVideos(view: Page) {
  return view.getByTestId('assist-canvas-video').evaluateAll((els) =>
    els.map((el) => {
      const v = el as HTMLVideoElement;
      const r = v.getBoundingClientRect();
      let pixel: number[] | null = null;
      if (v.videoWidth > 0) {
        const c = document.createElement('canvas');
        c.width = v.videoWidth;
        c.height = v.videoHeight;
        const ctx = c.getContext('2d')!;
        ctx.drawImage(v, 0, 0);
        // The WebGL canvas is one clear colour; the 2D one is dark with a moving square: sample the middle row.
        const row = ctx.getImageData(0, Math.floor(c.height / 2), c.width, 1).data;
        let r0 = 0, g0 = 0, b0 = 0;
        for (let i = 0; i < row.length; i += 4) { r0 += row[i]; g0 += row[i + 1]; b0 += row[i + 2]; }
        const n = row.length / 4;
        pixel = [Math.round(r0 / n), Math.round(g0 / n), Math.round(b0 / n)];
      }
      return {
        nodeId: v.getAttribute('data-node-id'),
        box: { x: r.x, y: r.y, width: r.width, height: r.height },
        frames: v.getVideoPlaybackQuality().totalVideoFrames,
        size: [v.videoWidth, v.videoHeight],
        pixel,
      };
    }),
  );
}

const close = (a: Box, b: Box, tol = 3) =>
  Math.abs(a.x - b.x) <= tol && Math.abs(a.y - b.y) <= tol && Math.abs(a.width - b.width) <= tol && Math.abs(a.height - b.height) <= tol;

/** The replayed canvases' boxes in the agent's page (the replay is scaled: these are what the videos must cover). */
async function replayedCanvasBoxes(view: Page): Promise<Record<string, Box>> {
  const out: Record<string, Box> = {};
  for (const id of ['c2d', 'cgl']) {
    const b = await stageFrame(view).locator(`#${id}`).boundingBox();
    if (b) out[id] = b;
  }
  return out;
}

describe('canvas video', { timeout: WEBRTC_TEST_TIMEOUT_MS }, () => {
  it('a 2D and a WebGL canvas animating on the user page arrive as video where the replayed canvases are', async () => {
    const context = patientContext(await e2e.browser.newContext({ viewport: { width: 1000, height: 700 } }));
    await context.addInitScript(PC_TAP_INIT);
    await serveAssistPages(context, e2e.backend.url);
    const page = await context.newPage();
    await page.goto(`${e2e.backend.url}/app/canvas.html`);
    expect(await page.evaluate(() => (window as any).__webgl)).toBe(true);
    const sessionId = await sessionIdOf(page);
    await waitForAssist(page, 'assist socket connected', (s) => s.connected);
    // Nobody watches: no peer, no stream.
    await page.waitForTimeout(1_000);
    expect(await page.evaluate(() => (window as any).__pcs.length)).toBe(0);

    const agent = patientContext(await agentContext(e2e.browser, e2e.backend.url, await e2e.agentCookie()));
    const view = await openLiveView(agent, e2e.backend.url, sessionId, 45_000);
    await waitForStageText(view, 'Canvas page', 45_000);
    await waitForInboundGrowth(view, 'agent', { video: true }, 'canvas video bytes at the agent', { peerPrefix: CANVAS_PEERS, minBytes: 20_000 });
    await waitFor('two canvas videos playing', async () => {
      const v = await canvasVideos(view);
      return v.length === 2 && v.every((x) => x.frames > 10);
    }, 20_000);
    await waitFor('the plugin streams two canvases', async () => (await rtcState(page)).rtc?.canvasStreams === 2);

    // Each video sits over its replayed canvas (same box in the agent's page, whatever the replay's scale).
    const placed = async () => {
      const [videos, canvases] = await Promise.all([canvasVideos(view), replayedCanvasBoxes(view)]);
      const matched = Object.entries(canvases).map(([id, box]) => [id, videos.find((v) => close(v.box, box))] as const);
      return { videos, canvases, matched };
    };
    const first = await waitFor('videos over the replayed canvases', async () => {
      const p = await placed();
      return p.matched.length === 2 && p.matched.every(([, v]) => v) ? p : null;
    }, 10_000).catch(async (err) => { throw new Error(`${(err as Error).message}: ${JSON.stringify(await placed())}`); });
    const webglVideo = first.matched.find(([id]) => id === 'cgl')![1]!;
    const twoDVideo = first.matched.find(([id]) => id === 'c2d')![1]!;
    expect(webglVideo.nodeId).not.toBe(twoDVideo.nodeId);
    // Not blank: the WebGL video shows the page's clear colour (blue-ish, green 0.4 ≈ 102), and it changes.
    expect(webglVideo.pixel).not.toBeNull();
    expect(webglVideo.pixel![1]).toBeGreaterThan(60);
    const later = await waitFor('the WebGL colour changes', async () => {
      const v = (await canvasVideos(view)).find((x) => x.nodeId === webglVideo.nodeId);
      return v && v.pixel && Math.abs(v.pixel[0] - webglVideo.pixel![0]) > 20 ? v : null;
    }, 5_000);
    expect(later.frames).toBeGreaterThan(webglVideo.frames);
    await view.screenshot({ path: path.join(ARTIFACTS, 'assist-canvas-agent.png') });

    // The video follows the canvas when it is resized on the user's page.
    await page.evaluate(() => (document.getElementById('c2d')!.style.width = '480px'));
    await waitFor('the 2D video follows the resized canvas', async () => {
      const p = await placed();
      const v = p.videos.find((x) => x.nodeId === twoDVideo.nodeId);
      return v && p.canvases.c2d && close(v.box, p.canvases.c2d) && v.box.width > twoDVideo.box.width * 1.2;
    }, 10_000).catch(async (err) => { throw new Error(`${(err as Error).message}: ${JSON.stringify(await placed())}`); });

    // Off screen the streams pause; back on screen they resume.
    await page.evaluate(() => window.scrollTo(0, 2500));
    const offscreen = await inboundDelta(view, 'agent', 2_000, 1_500, CANVAS_PEERS);
    expect(offscreen.framesDecoded).toBeLessThan(6);
    await page.evaluate(() => window.scrollTo(0, 0));
    await waitForInboundGrowth(view, 'agent', { video: true }, 'canvas video back on screen', { peerPrefix: CANVAS_PEERS, minBytes: 10_000 });

    // Nobody watches any more: the tab stops streaming and closes its peer.
    await agent.close();
    await waitFor('streams stopped after the agent left', async () => {
      const s = await rtcState(page);
      const open = await page.evaluate(() => (window as any).__pcs.filter((pc: RTCPeerConnection) => pc.connectionState !== 'closed').length);
      return (s.rtc?.canvasStreams ?? 0) === 0 && open === 0;
    }, 25_000);
    await context.close();
  });

  it('switching tabs: the old tab stops sending canvas video, the new one sends it; switching back brings it back', async () => {
    const url = e2e.backend.url;
    const context = patientContext(await e2e.browser.newContext({ viewport: { width: 1000, height: 700 } }));
    await context.addInitScript(PC_TAP_INIT);
    await serveAssistPages(context, url);
    const one = await context.newPage();
    await one.goto(`${url}/app/canvas.html`);
    const sessionId = await sessionIdOf(one);
    const two = await context.newPage();
    await two.goto(`${url}/app/canvas.html?tab=2`);
    expect(await sessionIdOf(two)).toBe(sessionId);
    await waitForAssist(two, 'tab 2 connected', (s) => s.connected);

    const agent = patientContext(await agentContext(e2e.browser, e2e.backend.url, await e2e.agentCookie()));
    const view = await openLiveView(agent, url, sessionId, 45_000);
    await view.getByTestId('live-follow').uncheck().catch(() => {});
    await waitFor('two tabs listed', async () => (await view.getByTestId('live-tab').count()) === 2, 45_000);
    const watchers = async (p: Page) => ((await rtcState(p)).rtc as { canvasWatchers?: number } | undefined)?.canvasWatchers ?? 0;
    const [watched, other] = await waitFor('one tab streams its canvases to the agent', async () => {
      const [a, b] = [await watchers(one), await watchers(two)];
      return a + b === 1 ? (a ? [one, two] : [two, one]) : null;
    }, 45_000);
    await waitForInboundGrowth(view, 'agent', { video: true }, 'canvas video at the agent', { peerPrefix: CANVAS_PEERS, minBytes: 20_000 });
    expect((await outboundDelta(watched, 1_500)).videoBytes).toBeGreaterThan(10_000);

    const switchTab = async () => {
      const chip = view.locator('[data-testid="live-tab"]:not([data-watching="true"])').first();
      const id = await chip.getAttribute('data-tab-id');
      await chip.click();
      await waitFor('the view watches the other tab', async () =>
        (await view.locator(`[data-testid="live-tab"][data-tab-id="${id}"]`).getAttribute('data-watching')) === 'true');
    };

    // To the other tab: the old one stops (no bytes, no open peer), the new one streams to the agent.
    await switchTab();
    await waitFor('the other tab streams, the old one stopped', async () => (await watchers(other)) === 1 && (await watchers(watched)) === 0, 45_000);
    await waitFor("the old tab's canvas peer closed", async () => (await outbound(watched)).peers === 0, 20_000);
    const stopped = await outboundDelta(watched, 2_000);
    expect(stopped.videoBytes).toBe(0);
    await waitForInboundGrowth(view, 'agent', { video: true }, 'the new tab\'s canvas video at the agent', { peerPrefix: CANVAS_PEERS, minBytes: 20_000 });
    expect((await outboundDelta(other, 1_500)).videoBytes).toBeGreaterThan(10_000);

    // And back: the first tab is asked again (the server does not skip a watcher it once asked it for).
    await switchTab();
    await waitFor('the first tab streams again', async () => (await watchers(watched)) === 1 && (await watchers(other)) === 0, 45_000);
    expect((await outboundDelta(watched, 1_500)).videoBytes).toBeGreaterThan(10_000);
    await waitFor("the second tab's canvas peer closed", async () => (await outbound(other)).peers === 0, 20_000);
    await waitForInboundGrowth(view, 'agent', { video: true }, 'canvas video back at the agent', { peerPrefix: CANVAS_PEERS, minBytes: 20_000 });
    await agent.close();
    await context.close();
  });
});
