/**
 * call-setup: the user presses Accept on the agent's call → audio and video flowing both ways (inbound-rtp
 * bytes growing on the user's peer and on the agent's), CALL_REPS calls in a row (the agent hangs up
 * between), real backend (child process), dashboard and assist plugin, fake media, loopback, no ICE servers.
 *
 * Stamps: `__acceptAt` by a capture listener on the user page when the Accept button is clicked; each side's
 * `__flowAt` by an in-page poller (getStats every 10 ms) the first time both audio and video grew.
 * Setup = max(user flow, agent flow) − accept.
 *
 * Baseline in the same run, one before each call: two bare RTCPeerConnections in the user's page with their
 * own getUserMedia, offer/answer handed over directly — the floor of WebRTC + ICE + DTLS + first packets on
 * this machine, without signalling through a server, simple-peer or the UI.
 *
 *   node --import tsx bench/src/call-setup.ts   (CALL_REPS=20)
 */
import type { Browser } from 'playwright-core';
import { BENCH_PROJECT_KEY } from './lib/backend-child.js';
import { agentContext, liveViewState, LIVE_SELECTOR, openUser, startLiveEnv, waitFor } from './lib/live-browser.js';
import { FLOW_WATCH_INIT, PC_TAP_INIT, controlUserPage, rawWebrtcSetup, waitRtc, WEBRTC_ARGS } from './lib/assist-bench.js';
import { isMain } from './lib/main.js';
import { atMost, recordResults, type ResultRow } from './lib/report.js';
import { fmtMs, fmtRatio, percentile } from './lib/stats.js';

const BENCH = 'call-setup';
const TARGET = 'p95 ≤ 1.5 s user accepts → media both ways';

export interface CallSetupOptions {
  browser?: Browser;
  reps?: number;
}

export async function runCallSetup(opts: CallSetupOptions = {}): Promise<ResultRow[]> {
  const reps = opts.reps ?? Number(process.env.CALL_REPS ?? 20);
  const env = await startLiveEnv({ browser: opts.browser, browserArgs: WEBRTC_ARGS });
  try {
    console.log(`[${BENCH}] backend child pid ${env.backend.pid} at ${env.backend.url}; Chromium ${env.browser.version()}; ${reps} calls`);
    const user = await openUser(env, { path: '/bench-call.html', html: controlUserPage(BENCH_PROJECT_KEY), initScripts: [PC_TAP_INIT, FLOW_WATCH_INIT] });
    const ctx = await agentContext(env, [FLOW_WATCH_INIT]);
    const setups: number[] = [];
    const split: { user: number; agent: number }[] = [];
    const base: number[] = [];
    const errors: string[] = [];
    const baseErrors: string[] = [];
    try {
      const view = await ctx.newPage();
      await view.goto(`${env.backend.url}/#/live/${encodeURIComponent(user.sessionId)}`);
      await view.locator(LIVE_SELECTOR).first().waitFor({ timeout: 20_000 }).catch(async () => {
        throw new Error(`the live view never got live (${await liveViewState(view)})`);
      });
      // One call first, not counted: the lazy WebRTC chunk loads and getUserMedia warms up on both sides.
      for (let i = 0; i <= reps; i++) {
        try {
          base.push(await rawWebrtcSetup(user.page));
        } catch (err) {
          baseErrors.push((err as Error).message.split('\n')[0]);
        }
        try {
          await Promise.all([user.page.evaluate(() => (window as any).__flowStart('pcs')), view.evaluate(() => (window as any).__flowStart('agent'))]);
          await view.getByTestId('assist-call').click();
          const accept = user.page.locator('[data-tandem-consent-accept]').last();
          await accept.waitFor({ state: 'visible', timeout: 15_000 });
          await accept.click();
          const t = await waitFor('media flowing both ways', async () => {
            const [u, a] = await Promise.all([
              user.page.evaluate(() => ({ accept: (window as any).__acceptAt as number | null, flow: (window as any).__flowAt as number | null })),
              view.evaluate(() => (window as any).__flowAt as number | null),
            ]);
            return u.accept !== null && u.flow !== null && a !== null ? { accept: u.accept, user: u.flow, agent: a } : null;
          }, 30_000, 20);
          if (i > 0) {
            setups.push(Math.max(t.user, t.agent) - t.accept);
            split.push({ user: t.user - t.accept, agent: t.agent - t.accept });
          }
          await view.getByTestId('assist-hangup').click();
          await waitRtc(user.page, 'the call ended on the user page', (r) => r.callActive === false, 10_000);
        } catch (err) {
          errors.push((err as Error).message.split('\n')[0]);
          console.log(`[${BENCH}] call ${i}: ${errors[errors.length - 1]}`);
          if (errors.length >= 3 && setups.length === 0) break;
          // Leave nothing half-open for the next call: hang up if the call (or its request) is still on.
          const hangup = view.getByTestId('assist-hangup');
          if (await hangup.isVisible().catch(() => false)) await hangup.click().catch(() => {});
          await waitRtc(user.page, 'the call ended after a failure', (r) => r.callActive === false, 15_000).catch(() => {});
        }
      }
    } finally {
      await ctx.close().catch(() => {});
      await user.close().catch(() => {});
    }
    const p = (xs: number[], q: number) => percentile(xs, q);
    const baseNote = base.length
      ? `baseline in the same run: two bare RTCPeerConnections in one page (own getUserMedia, direct offer/answer) p50 ${fmtMs(p(base, 50), 0)}, p95 ${fmtMs(p(base, 95), 0)} over ${base.length}`
      : `baseline not measured (${baseErrors[0] ?? 'no sample'})`;
    if (setups.length === 0) return [{ bench: BENCH, figure: `not run; ${baseNote}`, target: TARGET, met: null, gap: errors[0] ?? 'no call succeeded' }];
    const figure =
      `Accept → audio+video flowing both ways: p50 ${fmtMs(p(setups, 50), 0)}, p95 ${fmtMs(p(setups, 95), 0)}, max ${fmtMs(Math.max(...setups), 0)} over ${setups.length} calls` +
      (errors.length ? ` (${errors.length} failed: ${errors[0]})` : '') +
      `; medians: flowing into the user page ${fmtMs(p(split.map((s) => s.user), 50), 0)}, into the agent's ${fmtMs(p(split.map((s) => s.agent), 50), 0)}; ${baseNote}` +
      (base.length ? `; call/bare at p50 ${fmtRatio(p(setups, 50) / p(base, 50))}` : '');
    console.log(`[${BENCH}] ${figure}; all (ms): ${setups.map((x) => x.toFixed(0)).join(' ')}`);
    const row = atMost(BENCH, figure, p(setups, 95), 1500, TARGET, ' ms');
    return [errors.length && row.met ? { ...row, met: false, gap: `${errors.length} calls failed` } : row];
  } finally {
    await env.close();
  }
}

if (isMain(import.meta.url)) {
  try {
    recordResults(await runCallSetup());
  } catch (err) {
    console.error(err);
    recordResults([{ bench: BENCH, figure: 'not run', target: TARGET, met: null, gap: (err as Error).message.split('\n')[0] }]);
    process.exitCode = 1;
  }
}
