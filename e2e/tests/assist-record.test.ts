/**
 * Call recording (issue 7): with the user's consent an agent in the call records it (MediaRecorder webm,
 * chunks uploaded while recording); the file is stored with the session, served with Range, plays in
 * Chromium, and plays in sync with the DOM replay on the session page.
 */
import path from 'node:path';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { RECORDING_ROUTES, type CallRecording } from '@tandem/protocol';
import { useBackendAndBrowser } from './support/fixture.js';
import { waitFor, WEBRTC_CHROMIUM_ARGS } from './support/browser.js';
import { agentContext, openLiveView, sessionIdOf, waitForAssist, waitForStageText } from './support/live.js';
import { PC_TAP_INIT, answerPrompt, patientContext, serveAssistPages, waitForInboundGrowth } from './support/assist.js';

const e2e = useBackendAndBrowser({ chromiumArgs: WEBRTC_CHROMIUM_ARGS });
/** A WebRTC test on a loaded 2-core machine: several peers, encoders and page loads (the suite default is 120 s). */
const WEBRTC_TEST_TIMEOUT_MS = 300_000;
const ARTIFACTS = path.resolve(new URL('../artifacts', import.meta.url).pathname);
beforeAll(() => mkdir(ARTIFACTS, { recursive: true }));

describe('call recording', { timeout: WEBRTC_TEST_TIMEOUT_MS }, () => {
  it('records the call with consent: a playable webm stored with the session that plays in sync on the session page', async () => {
    const userContext = patientContext(await e2e.browser.newContext({ viewport: { width: 1100, height: 800 } }));
    await userContext.addInitScript(PC_TAP_INIT);
    await serveAssistPages(userContext, e2e.backend.url);
    const userPage = await userContext.newPage();
    await userPage.goto(`${e2e.backend.url}/app/second.html`);
    const user = { page: userPage, sessionId: await sessionIdOf(userPage), close: () => userContext.close() };
    await waitForAssist(user.page, 'assist socket connected', (s) => s.connected);
    const context = patientContext(await agentContext(e2e.browser, e2e.backend.url, await e2e.agentCookie()));
    const view = await openLiveView(context, e2e.backend.url, user.sessionId, 45_000);
    await waitForStageText(view, 'Second page of the site', 45_000);
    await view.getByTestId('assist-call').click();
    await answerPrompt(user.page, true, 'Admin');
    await waitForInboundGrowth(view, 'agent', { audio: true, video: true }, "the user's media at the agent", { peerPrefix: 'tab:' });
    await view.getByTestId('assist-record').click();
    await answerPrompt(user.page, true, 'Admin');
    // The visible "recording" mark on both sides while it lasts.
    await user.page.locator('[data-tandem-recording]').waitFor({ state: 'visible' });
    await view.getByTestId('assist-recording').first().waitFor({ state: 'visible' });
    await user.page.screenshot({ path: path.join(ARTIFACTS, 'assist-recording-user.png') });
    // The user keeps using the page while the call is recorded (the replay's timeline covers the recording).
    for (let i = 0; i < 8; i++) {
      await user.page.click('#second-btn');
      await user.page.waitForTimeout(500);
    }
    await view.getByTestId('assist-record').click();
    await user.page.locator('[data-tandem-recording]').waitFor({ state: 'detached', timeout: 10_000 });

    const cookie = await e2e.agentCookie();
    const rec = await waitFor('a complete recording listed with the session', async () => {
      const res = await fetch(`${e2e.backend.url}${RECORDING_ROUTES.list(user.sessionId)}`, { headers: { cookie } });
      if (!res.ok) return null;
      const body = (await res.json()) as { items?: CallRecording[] } | CallRecording[];
      const list = Array.isArray(body) ? body : body.items ?? [];
      return list.find((r) => r.complete && r.bytes > 0) ?? null;
    }, 20_000, 250);
    expect(rec.sessionId).toBe(user.sessionId);
    expect(rec.mimeType).toContain('webm');
    expect(rec.durationMs).toBeGreaterThan(2_500);

    // Stored on disk under the data dir, as many bytes as the metadata says.
    const recDir = path.join(e2e.dataDir, 'recordings');
    const projects = await readdir(recDir);
    const onDisk = await Promise.all(projects.map((p) => stat(path.join(recDir, p, `${rec.recordingId}.webm`)).catch(() => null)));
    const file = onDisk.find(Boolean);
    expect(file?.size).toBe(rec.bytes);

    // Served as webm (EBML magic), with Range.
    const mediaUrl = `${e2e.backend.url}${RECORDING_ROUTES.media(rec.recordingId)}`;
    const media = await fetch(mediaUrl, { headers: { cookie } });
    expect(media.status).toBe(200);
    const bytes = new Uint8Array(await media.arrayBuffer());
    expect([...bytes.slice(0, 4)]).toEqual([0x1a, 0x45, 0xdf, 0xa3]);
    const ranged = await fetch(mediaUrl, { headers: { cookie, range: 'bytes=0-99' } });
    expect(ranged.status).toBe(206);
    expect((await ranged.arrayBuffer()).byteLength).toBe(100);

    // Playable: Chromium decodes video frames and has audio from it.
    const player = await context.newPage();
    await player.goto(`${e2e.backend.url}/healthz`);
    const played = await player.evaluate(async (src) => {
      const v = document.createElement('video');
      v.muted = true;
      v.src = src;
      document.body.appendChild(v);
      await new Promise((res, rej) => { v.onloadeddata = res; v.onerror = () => rej(new Error(`video error ${v.error?.code}`)); });
      await v.play();
      await new Promise((r) => setTimeout(r, 1500));
      return { width: v.videoWidth, frames: v.getVideoPlaybackQuality().totalVideoFrames, time: v.currentTime, audio: (v as any).webkitAudioDecodedByteCount as number };
    }, mediaUrl);
    expect(played.width).toBeGreaterThan(0);
    expect(played.frames).toBeGreaterThan(5);
    expect(played.audio).toBeGreaterThan(0);
    await player.close();

    // The session page plays it in a <video> on the replay's timeline, with a download.
    // The user's clicks during the recording are stored (the tracker flushes every few seconds).
    const stamps = async () => {
      const events = await (await fetch(`${e2e.backend.url}/api/v1/sessions/${user.sessionId}/events`, { headers: { cookie } })).text();
      return events.trim().split('\n').map((l) => JSON.parse(l).timestamp as number).filter(Number.isFinite);
    };
    await waitFor('events stored past the middle of the recording', async () => Math.max(...(await stamps())) > rec.startedAt + rec.durationMs / 2, 30_000, 500);
    const page = await context.newPage();
    await page.goto(`${e2e.backend.url}/#/sessions/${encodeURIComponent(user.sessionId)}`);
    const video = page.getByTestId('recording-player').first();
    await video.waitFor({ state: 'attached', timeout: 20_000 });
    expect(await page.getByTestId('recording-download').first().getAttribute('href')).toContain(RECORDING_ROUTES.media(rec.recordingId));
    // Seek the replay 2 s into the recording: the video's time follows the player's clock.
    const firstTs = Math.min(...(await stamps()));
    const scrubber = page.getByTestId('player-scrubber');
    await waitFor('the player loaded', async () => Number(await scrubber.getAttribute('aria-valuemax')) > 0);
    const total = Number(await scrubber.getAttribute('aria-valuemax'));
    const box = (await scrubber.boundingBox())!;
    // Aim at the middle of the recording; the scrubber's own value says where the click landed, so a
    // second click corrects for the track's padding.
    const want = rec.startedAt + rec.durationMs / 2 - firstTs;
    let x = box.x + Math.min(0.99, want / total) * box.width;
    for (let attempt = 0; attempt < 3; attempt++) {
      await page.mouse.click(x, box.y + box.height / 2);
      const landed = Number(await scrubber.getAttribute('aria-valuenow'));
      if (Math.abs(landed - want) < rec.durationMs / 4) break;
      x += ((want - landed) / total) * box.width;
    }
    const sync = async () => {
      const now = Number(await scrubber.getAttribute('aria-valuenow'));
      const t = await video.evaluate((v: HTMLVideoElement) => v.currentTime);
      return { expected: (firstTs + now - rec.startedAt) / 1000, actual: t };
    };
    await waitFor('the recording seeked with the replay', async () => {
      const s = await sync();
      return Math.abs(s.expected - s.actual) < 0.5 && s.actual > 0.5;
    }, 10_000).catch(async (err) => { throw new Error(`${(err as Error).message}: ${JSON.stringify(await sync())}`); });
    await page.getByTestId('player-play').click();
    await page.waitForTimeout(1_500);
    await page.getByTestId('player-play').click();
    const after = await sync();
    expect(after.actual).toBeGreaterThan(1);
    expect(Math.abs(after.expected - after.actual)).toBeLessThan(0.6);
    await page.screenshot({ path: path.join(ARTIFACTS, 'assist-recording-session-page.png') });
    await context.close();
    await user.close();
  });
});
