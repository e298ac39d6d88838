/**
 * Where an open and a seek of the session page spend their time (a tool, not a bench): writes one
 * generated session, opens it at a random moment with the CDP profiler on, then seeks a few times,
 * and prints the network requests' timings, long tasks and the hottest functions (self time).
 *
 *   PROFILE_MINUTES=360 node --import tsx bench/src/seek-profile.ts
 */
import type { Page } from 'playwright-core';
import { startBenchBackend } from './lib/backend.js';
import { launchChromium } from './lib/browser.js';
import { signedInDashboard } from './lib/dashboard.js';
import { writeGeneratedSession } from './lib/seek-session.js';

const minutes = Number(process.env.PROFILE_MINUTES ?? 360);
const seeks = Number(process.env.PROFILE_SEEKS ?? 6);

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }

function hot(profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }, top = 25): string {
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byFn = new Map<string, number>();
  for (const n of profile.nodes) {
    const us = self.get(n.id) ?? 0;
    if (!us) continue;
    const f = n.callFrame;
    const key = `${f.functionName || '(anon)'} ${f.url.split('/').pop()}:${f.lineNumber}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
  }
  return [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => `  ${(us / 1000).toFixed(1).padStart(8)} ms  ${k}`).join('\n');
}

/** Top-level trace events by name (self-ish: durations of the outermost task children), from a devtools.timeline trace. */
async function withTrace<T>(page: Page, what: string, fn: () => Promise<T>): Promise<T> {
  const cdp = await page.context().newCDPSession(page);
  const events: any[] = [];
  cdp.on('Tracing.dataCollected', (e: any) => events.push(...e.value));
  const done = new Promise<void>((r) => cdp.once('Tracing.tracingComplete', () => r()));
  await cdp.send('Tracing.start', { categories: 'devtools.timeline,disabled-by-default-devtools.timeline', transferMode: 'ReportEvents' } as any);
  const out = await fn();
  await cdp.send('Tracing.end');
  await done;
  const byName = new Map<string, number>();
  for (const e of events) {
    if (e.ph !== 'X' || !e.dur) continue;
    if (!['Layout', 'UpdateLayoutTree', 'RecalculateStyles', 'ParseHTML', 'Paint', 'PrePaint', 'Layerize', 'FunctionCall', 'EvaluateScript', 'V8.Execute', 'FireAnimationFrame', 'TimerFire', 'EventDispatch', 'MajorGC', 'MinorGC', 'ParseAuthorStyleSheet', 'UpdateLayerTree', 'HitTest', 'Commit', 'v8.run', 'RunMicrotasks', 'XHRReadyStateChange', 'ResourceReceivedData'].includes(e.name)) continue;
    byName.set(e.name, (byName.get(e.name) ?? 0) + e.dur / 1000);
  }
  console.log(`--- ${what}: trace totals (nested events overlap)\n${[...byName].sort((a, b) => b[1] - a[1]).map(([k, v]) => `  ${v.toFixed(0).padStart(7)} ms  ${k}`).join('\n')}`);
  await cdp.detach();
  return out;
}

async function withProfile<T>(page: Page, what: string, fn: () => Promise<T>): Promise<T> {
  if (process.env.PROFILE_TRACE === '1') return withTrace(page, what, fn);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  const out = await fn();
  const { profile } = (await cdp.send('Profiler.stop')) as any;
  console.log(`--- ${what}: hottest (self time)\n${hot(profile)}`);
  await cdp.detach();
  return out;
}

const be = await startBenchBackend();
const browser = await launchChromium();
try {
  const ids = { projectId: be.projectId!, sessionId: `profile${minutes}min`, tabId: `profiletab${minutes}min` };
  const t0 = Date.now();
  const written = await writeGeneratedSession(be.store, ids, { durationMs: minutes * 60_000, startedAt: Date.now() - minutes * 60_000 - 3_600_000, seed: minutes });
  console.log(`wrote ${written.events} events ${written.bytes} B in ${Date.now() - t0} ms`);
  const ctx = await signedInDashboard(browser, be);

  const page = await ctx.newPage();
  page.on('console', (m) => { if (m.text().startsWith('PROF')) console.log('  ' + m.text()); });
  const started = new Map<string, number>();
  page.on('request', (r) => started.set(r.url(), Date.now()));
  page.on('requestfinished', async (r) => {
    if (!r.url().includes('/api/')) return;
    const t = r.timing();
    console.log(`  req ${r.url().replace(be.url, '')} wait ${(t.responseStart - t.requestStart).toFixed(0)} ms, body ${(t.responseEnd - t.responseStart).toFixed(0)} ms, total ${Date.now() - (started.get(r.url()) ?? 0)} ms`);
  });
  const total = minutes * 60_000;
  const t = Math.floor(total * 0.61);
  const go = Date.now();
  await withProfile(page, 'open', async () => {
    await page.goto(`${be.url}/#/sessions/${ids.sessionId}?t=${t}`);
    await page.getByTestId('player').locator('iframe').first().waitFor({ timeout: 120_000 });
    console.log(`open: iframe after ${Date.now() - go} ms`);
    await page.waitForTimeout(3000);
  });
  const tasks = async (since: number) => page.evaluate((from) => ((window as any).__longtasks as { start: number; dur: number }[]).filter((x) => x.start >= from).map((x) => `${x.start.toFixed(0)}+${x.dur.toFixed(0)}`).join(' '), since);
  console.log(`long tasks (open): ${await tasks(0)}`);
  const afterOpen = await page.evaluate(() => performance.now());
  await withProfile(page, 'scan + panels (20 s after open)', () => page.waitForTimeout(20_000));
  console.log(`long tasks (scan): ${await tasks(afterOpen)}`);
  const beforeSeeks = await page.evaluate(() => performance.now());
  await withProfile(page, `${seeks} seeks`, async () => {
    for (let i = 0; i < seeks; i++) {
      const target = Math.floor(((i * 7919) % 97) / 97 * total);
      const ms = await page.evaluate(async ({ id, target }) => {
        const start = performance.now();
        location.hash = `#/sessions/${id}?t=${target}`;
        const want = Math.max(0, Math.floor((target - 3) / 1000));
        for (;;) {
          await new Promise((r) => requestAnimationFrame(r));
          const frame = document.querySelector('[data-testid=player] iframe') as HTMLIFrameElement | null;
          const el = frame?.contentDocument?.getElementById('clock');
          const shown = Number((el?.textContent ?? '').replace(/^\D+\+/, ''));
          if (Math.abs(shown - want) <= 1) return performance.now() - start;
          if (performance.now() - start > 30_000) return -1;
        }
      }, { id: ids.sessionId, target });
      console.log(`seek to ${target}: ${ms.toFixed(0)} ms`);
    }
  });
  console.log(`long tasks (seeks): ${await tasks(beforeSeeks)}`);
  await ctx.close();
} finally {
  await browser.close();
  await be.close();
}
