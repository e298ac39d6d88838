/**
 * control-latency: an agent's click on its live view → the click handler runs on the user's page, through
 * the real backend (which forwards control input only from the holder) and the assist plugin's control
 * module. Both pages in one Chromium (one clock), the backend in a child process.
 *
 * The agent (dashboard `#/live/<id>`, signed in) asks for control, the user accepts the prompt, then the
 * agent clicks the user's button in its view CONTROL_INPUTS times (after 5 warm-up clicks), one at a time
 * (the next once the previous fired, plus a pause spread over one frame).
 *
 * Baseline in the same run: both pages' WebSockets are tapped, so each input splits into the agent side
 * (dashboard overlay → socket frame), the **raw socket relay** (agent's frame → user's frame through the
 * backend) and the user side (frame → handler ran). The ratio input→fired / relay shows what the
 * dashboard and the plugin add to the transport.
 *
 *   node --import tsx bench/src/control-latency.ts   (CONTROL_INPUTS=200)
 */
import type { Browser } from 'playwright-core';
import { BENCH_PROJECT_KEY } from './lib/backend-child.js';
import { agentContext, liveViewState, LIVE_SELECTOR, openUser, startLiveEnv, waitFor } from './lib/live-browser.js';
import { acceptPrompt, CONTROL_TAP_INIT, controlUserPage, pointInView, splitControl, waitRtc, WEBRTC_ARGS } from './lib/assist-bench.js';
import { isMain } from './lib/main.js';
import { recordResults, type ResultRow } from './lib/report.js';
import { fmtMs, fmtRatio, percentile } from './lib/stats.js';

const BENCH = 'control-latency';
const TARGET = 'p95 ≤ 50 ms agent input → event fired on the user page';
const WARMUP = 5;

export interface ControlLatencyOptions {
  browser?: Browser;
  inputs?: number;
}

export async function runControlLatency(opts: ControlLatencyOptions = {}): Promise<ResultRow[]> {
  const inputs = opts.inputs ?? Number(process.env.CONTROL_INPUTS ?? 200);
  const env = await startLiveEnv({ browser: opts.browser, browserArgs: WEBRTC_ARGS });
  try {
    console.log(`[${BENCH}] backend child pid ${env.backend.pid} at ${env.backend.url}; Chromium ${env.browser.version()}; ${inputs} clicks`);
    const user = await openUser(env, { path: '/bench-control.html', html: controlUserPage(BENCH_PROJECT_KEY), initScripts: [CONTROL_TAP_INIT] });
    const ctx = await agentContext(env, [CONTROL_TAP_INIT]);
    try {
      const view = await ctx.newPage();
      await view.goto(`${env.backend.url}/#/live/${encodeURIComponent(user.sessionId)}`);
      await view.locator(LIVE_SELECTOR).first().waitFor({ timeout: 20_000 }).catch(async () => {
        throw new Error(`the live view never got live (${await liveViewState(view)})`);
      });
      const target = await waitFor("the user's button in the agent's view", () => pointInView(view, '#target'), 15_000);

      await view.getByTestId('assist-control').click();
      await acceptPrompt(user.page);
      await waitRtc(user.page, 'control granted on the user page', (r) => !!r.controlledBy);
      // Only the measured clicks count from here (the Control button and the prompt were clicks too).
      await view.evaluate(() => {
        const w = window as any;
        w.__clickAt.length = 0;
        w.__ctlSend.length = 0;
      });
      await user.page.evaluate(() => {
        const w = window as any;
        w.__ctlRecv.length = 0;
        w.__fired.length = 0;
      });

      const total = WARMUP + inputs;
      let lost = 0;
      for (let k = 1; k <= total; k++) {
        await view.mouse.click(target.x, target.y);
        // Wait for this click to fire before the next (bounded: a lost input is counted, not waited for).
        const fired = await user.page
          .waitForFunction((n) => (window as any).__fired.length >= n, k - lost, { timeout: 3_000, polling: 'raf' })
          .then(() => true, () => false);
        if (!fired) lost++;
        // A pause spread over one 60 Hz frame so clicks do not all land at the same phase of a frame.
        await view.waitForTimeout(40 + ((k * 0.618) % 1) * 16.7);
      }
      const [a, u] = await Promise.all([
        view.evaluate(() => ({ clickAt: (window as any).__clickAt as number[], ctlSend: (window as any).__ctlSend as number[] })),
        user.page.evaluate(() => ({ ctlRecv: (window as any).__ctlRecv as number[], fired: (window as any).__fired as number[] })),
      ]);
      if (lost) console.log(`[${BENCH}] ${lost} click(s) never fired on the user page within 3 s`);
      const s = splitControl({ ...a, ...u }, WARMUP);
      const p = (xs: number[], q: number) => percentile(xs, q);
      const p50 = p(s.total, 50);
      const p95 = p(s.total, 95);
      const relay50 = p(s.relay, 50);
      const split =
        s.relay.length > 0
          ? `split p50/p95: agent side ${fmtMs(p(s.agentSide, 50))}/${fmtMs(p(s.agentSide, 95))}, socket relay ${fmtMs(relay50)}/${fmtMs(p(s.relay, 95))}, ` +
            `user side ${fmtMs(p(s.userSide, 50))}/${fmtMs(p(s.userSide, 95))}`
          : 'split not available (the socket taps saw no control:input click frames: is control sent over another channel?)';
      const figure =
        `agent click → handler fired on the user page: p50 ${fmtMs(p50)}, p95 ${fmtMs(p95)}, max ${fmtMs(Math.max(...s.total))} over ${s.total.length}/${s.inputs} inputs` +
        (s.missing ? ` (${s.missing} never fired)` : '') +
        `; ${split}` +
        (s.relay.length ? `; baseline in the same run: raw socket relay p50 ${fmtMs(relay50)} → input→fired / relay at p50 ${fmtRatio(p50 / relay50)}` : '');
      console.log(`[${BENCH}] ${figure}`);
      const complete = s.total.length > 0 && s.missing === 0;
      const met = complete && p95 <= 50;
      return [{
        bench: BENCH,
        figure,
        target: TARGET,
        met: s.total.length ? met : null,
        gap: met ? undefined : !complete ? `${s.missing} of ${s.inputs} inputs never fired` + (p95 > 50 ? `; p95 ${(p95 - 50).toFixed(1)} ms over` : '') : `p95 ${(p95 - 50).toFixed(1)} ms over`,
      }];
    } finally {
      await ctx.close().catch(() => {});
      await user.close().catch(() => {});
    }
  } finally {
    await env.close();
  }
}

if (isMain(import.meta.url)) {
  try {
    recordResults(await runControlLatency());
  } catch (err) {
    console.error(err);
    recordResults([{ bench: BENCH, figure: 'not run', target: TARGET, met: null, gap: (err as Error).message.split('\n')[0] }]);
    process.exitCode = 1;
  }
}
