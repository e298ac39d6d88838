/**
 * seek-open-ab: the seek bench's opens (a share link at a random moment of the 6-hour session, new tab, assets
 * cached) with two dashboard builds interleaved in one run, beside the bench's baseline (plain @rrweb/replay
 * fetching the whole tab, then pause(t)), so a change to the page is judged against the build before it, and
 * against the baseline, on the same busy machine, same backend, same moments. Each round opens one moment with
 * A, B and the baseline, the order rotating through all six permutations (no side always follows another).
 *
 * The builds: `frontend/dist/index-a.html` and `index-b.html` (with .br/.gz), both referring to hashed chunks in
 * `frontend/dist/assets` (copy the other build's assets next to the new ones: same name = same bytes).
 *
 * OPEN_AB_ENV=<name>: the backend (in this process) reads that environment variable '1' while A's page opens
 * and '0' while B's does (for a server change kept behind a temporary toggle while it is measured).
 *
 * OPEN_AB_BLANK=1: also, each round, a blank page opened the same way (new tab, same context, same origin),
 * drawn at its first animation frame: the floor the browser itself takes on this machine.
 *
 *   OPEN_AB_ROUNDS=20 [OPEN_AB_DATA=/tmp/dir] [PROFILE_MINUTES=360] node --import tsx bench/src/seek-open-ab.ts
 * (OPEN_AB_DATA keeps the data directory, so the next run skips writing the session.)
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { BrowserContext } from 'playwright-core';
import { startBenchBackend } from './lib/backend.js';
import { launchChromium } from './lib/browser.js';
import { signedInDashboard } from './lib/dashboard.js';
import { seededRandom, generatedOpenSession } from './lib/seek-session.js';
import { median, percentile } from './lib/stats.js';
import { DRAWN_INIT, baselineHtml, buildReplayBundle, openSteps, waitDrawn } from './seek.js';
import { baselineRoot } from './lib/seek-baseline-root.js';

const minutes = Number(process.env.PROFILE_MINUTES ?? 360);
const rounds = Number(process.env.OPEN_AB_ROUNDS ?? 20);
const keep = process.env.OPEN_AB_DATA;
const fresh = !keep || !existsSync(keep);

type Side = 'A' | 'B' | 'base' | 'blank';
const blank = process.env.OPEN_AB_BLANK === '1';
const SIDES: Side[] = blank ? ['A', 'B', 'base', 'blank'] : ['A', 'B', 'base'];
const BLANK_HTML = `<!doctype html><html><head><meta charset="utf-8"></head><body><script>requestAnimationFrame(() => { window.__drawnAt = performance.now(); });</script></body></html>`;
const ORDERS: Side[][] = [['A', 'B', 'base'], ['B', 'base', 'A'], ['base', 'A', 'B'], ['A', 'base', 'B'], ['B', 'A', 'base'], ['base', 'B', 'A']];

// The baseline's page and bundle served by the backend like the player's files (lib/seek-baseline-root.ts).
const root = baselineRoot(baselineHtml, await buildReplayBundle());
const be = await startBenchBackend({ rootDir: root.rootDir, ...(keep ? { dataDir: keep } : {}) }, !!keep);
const browser = await launchChromium();
const drawn: Record<Side, number[]> = { A: [], B: [], base: [], blank: [] };
const steps: Record<'A' | 'B', Record<string, number>[]> = { A: [], B: [] };
/** Chrome's own page metrics at the drawn frame (CDP Performance.getMetrics; counts and CPU do not stretch with load as wall time does) */
const METRICS = ['ThreadTime', 'ProcessTime', 'LayoutCount', 'RecalcStyleCount', 'ScriptDuration', 'TaskDuration'] as const;
const metrics: Record<'A' | 'B', Record<string, number>[]> = { A: [], B: [] };
const loads: number[] = [];
try {
  const ids = await generatedOpenSession(be.store, be.projectId!, 'openab', minutes, fresh);
  const ctx: BrowserContext = await signedInDashboard(browser, be, [DRAWN_INIT]);
  const random = seededRandom(777);
  const open = async (side: Side, t: number, count: boolean) => {
    if (process.env.OPEN_AB_ENV && side !== 'base') process.env[process.env.OPEN_AB_ENV] = side === 'A' ? '1' : '0';
    const page = await ctx.newPage();
    // A route on the blank page only: a routed page has no HTTP cache (and a context-wide route would intercept every page's requests).
    if (side === 'blank') await page.route(`${be.url}/__bench/blank.html*`, (route) => route.fulfill({ contentType: 'text/html', body: BLANK_HTML }));
    const perf = side === 'base' || side === 'blank' ? null : await page.context().newCDPSession(page);
    await perf?.send('Performance.enable', { timeDomain: 'threadTicks' });
    try {
      const url = side === 'blank'
        ? `${be.url}/__bench/blank.html`
        : side === 'base'
        ? `${be.url}${root.pagePath}?id=${ids.sessionId}&tab=${ids.tabId}&t=${t}`
        : `${be.url}/index-${side.toLowerCase()}.html#/sessions/${ids.sessionId}?t=${t}`;
      await page.goto(url);
      const ms = await waitDrawn(page, `${side} at ${t}`);
      if (!count) return;
      drawn[side].push(ms);
      if (side === 'base' || side === 'blank' || !perf) return;
      steps[side].push({ ...(await openSteps(page)), DRAWN: ms });
      const got = ((await perf.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] }).metrics;
      const value = (name: string) => got.find((m) => m.name === name)?.value ?? NaN;
      metrics[side].push(Object.fromEntries(METRICS.map((k) => [k, /Count$/.test(k) ? value(k) : value(k) * 1000])));
    } finally {
      await page.close();
    }
  };
  // One warm-up round (each build's chunks into the cache), not counted.
  for (const side of SIDES) await open(side, 60_000, false);
  for (let i = 0; i < rounds; i++) {
    const t = Math.floor(random() * (minutes * 60_000 - 2000)) + 1000;
    const order: Side[] = [...ORDERS[i % ORDERS.length]];
    if (blank) order.splice(i % 4, 0, 'blank');
    for (const side of order) await open(side, t, true);
    loads.push(loadavg()[0]);
    console.log(`round ${i + 1}/${rounds} at ${t} (${order.join(' ')}; load ${loads.at(-1)!.toFixed(1)}): ${SIDES.map((k) => `${k} ${drawn[k].at(-1)?.toFixed(0)}`).join(' ')} ms`);
  }
  await ctx.close();
} finally {
  await browser.close();
  await be.close();
  root.remove();
}

const fmt = (xs: number[]) => `n ${xs.length} p50 ${median(xs).toFixed(0)} p90 ${percentile(xs, 90).toFixed(0)} p95 ${percentile(xs, 95).toFixed(0)} max ${Math.max(...xs).toFixed(0)}`;
console.log(`\nload ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} (1-min average after each round)`);
for (const side of SIDES) console.log(`${side.padEnd(5)} drawn ms: ${fmt(drawn[side])}`);
const paired = drawn.A.map((a, i) => a - drawn.B[i]);
console.log(`A faster than B in ${paired.filter((d) => d < 0).length} of ${paired.length} rounds; paired A−B median ${median(paired).toFixed(0)} ms`);
for (const side of ['A', 'B'] as const) {
  const base = drawn.base;
  console.log(`baseline/${side} at p95 ${(percentile(base, 95) / percentile(drawn[side], 95)).toFixed(2)}x, at p50 ${(median(base) / median(drawn[side])).toFixed(2)}x`);
}
console.log('page metrics at the drawn frame (since the tab opened), median A | B (ms, or a count)');
for (const k of METRICS) {
  const m = (side: 'A' | 'B') => median(metrics[side].map((x) => x[k]).filter(Number.isFinite)).toFixed(0).padStart(6);
  console.log(`    ${k.padEnd(22)} ${m('A')} | ${m('B')}`);
}
const keys = [...new Set([...steps.A, ...steps.B].flatMap((s) => Object.keys(s)))];
keys.sort((a, b) => median(steps.A.map((s) => s[a]).filter(Number.isFinite)) - median(steps.A.map((s) => s[b]).filter(Number.isFinite)));
console.log('open steps, ms since navigation start, median A | B');
for (const k of keys) {
  const m = (side: 'A' | 'B') => median(steps[side].map((s) => s[k]).filter(Number.isFinite)).toFixed(0).padStart(6);
  console.log(`    ${k.padEnd(22)} ${m('A')} | ${m('B')}`);
}
