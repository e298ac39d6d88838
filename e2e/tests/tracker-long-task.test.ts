/**
 * Issue 8 / DESIGN §10: no tracker task > 50 ms after the first snapshot, on a big page too. The first full
 * snapshot of a 60,000-node page is serialised in idle slices (tracker/src/sliced-json.ts); before, its
 * JSON.stringify was one 128 ms task after the snapshot's own. Measured in real Chromium with a trace (each
 * task's main-thread CPU time, so other jobs on a shared machine do not lengthen it), and the snapshot
 * must still arrive at the real backend, whole.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROJECT_KEY } from './support/backend-process.js';
import { fetchEvents, useBackendAndBrowser } from './support/fixture.js';
import { waitFor } from './support/browser.js';

const e2e = useBackendAndBrowser();

/** About 60,000 nodes: sections of table rows and list items, with text that JSON must escape. */
function bigPage(targetNodes: number): string {
  const parts: string[] = [];
  let nodes = 0;
  for (let i = 0; nodes < targetNodes; i++) {
    parts.push(`<section id="s${i}"><h2>Section ${i} — “quoted” \\ back\\slash</h2><table><tbody>`);
    nodes += 5;
    for (let r = 0; r < 40; r++) {
      parts.push(`<tr><td>${i}.${r}</td><td>item ${r} é 中文 😀</td><td>${(r * 37) % 1000}</td><td>ok "q"</td></tr>`);
      nodes += 9;
    }
    parts.push('</tbody></table><ul>');
    nodes += 1;
    for (let r = 0; r < 40; r++) {
      parts.push(`<li><a href="#s${i}-${r}">entry ${r}</a><span> note\t</span></li>`);
      nodes += 5;
    }
    parts.push('</ul></section>');
  }
  return `<!doctype html><html><head><meta charset="utf-8"><title>Big page</title></head><body><h1>Big page</h1>${parts.join('')}</body></html>`;
}

interface TraceEvent { name: string; ph: string; ts: number; dur?: number; tdur?: number; pid: number; tid: number; args?: { name?: string; data?: { message?: string } } }

describe('tracker on a 60,000-node page', () => {
  it('has no task over 50 ms of main-thread CPU after the first snapshot, and the snapshot arrives whole', async () => {
    const page = await e2e.browser.newPage();
    const bundle = process.env.TRACKER_LONG_TASK_BUNDLE; // measuring an older build by hand (not set in the suite)
    if (bundle) await page.route(`${e2e.backend.url}/tracker.js`, (r) => r.fulfill({ contentType: 'text/javascript', body: readFileSync(bundle, 'utf8') }));
    await page.route(`${e2e.backend.url}/big.html`, (route) =>
      route.fulfill({
        contentType: 'text/html',
        body: bigPage(60_000).replace('</body>', `<script src="/tracker.js" data-project-key="${PROJECT_KEY}" data-autostart="false" data-assist="false"></script></body>`),
      }),
    );
    await page.goto(`${e2e.backend.url}/big.html`, { waitUntil: 'load' });
    await page.waitForFunction(() => !!(window as any).Tandem?.tracker);
    const nodes = await page.evaluate(() => document.getElementsByTagName('*').length);
    expect(nodes).toBeGreaterThan(30_000); // elements only; with text nodes about 60,000

    await e2e.browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', ...(process.env.TRACKER_LONG_TASK_TRACE ? ['disabled-by-default-v8.cpu_profiler'] : [])] });
    const sid: string = await page.evaluate(async () => {
      const w = window as any;
      // Kept, not stringified here: the test's own JSON.stringify would be a long task in the window.
      w.Tandem.tracker.bus.subscribe((e: { type: number }) => {
        if (e.type === 2) w.__snapshot ??= e;
      });
      void w.Tandem.tracker.start();
      // The first snapshot is taken inside start(): every task after this one is "after the first snapshot".
      console.timeStamp('tandem-first-snapshot-done');
      const sid: string = await new Promise((r) => w.Tandem('getSessionId', r));
      // flush() waits for the snapshot's idle slices, then sends it.
      await w.Tandem.tracker.flush();
      await new Promise((r) => setTimeout(r, 1_000));
      console.timeStamp('tandem-window-end');
      return sid;
    });
    const traceText = (await e2e.browser.stopTracing()).toString('utf8');
    if (process.env.TRACKER_LONG_TASK_TRACE) writeFileSync(process.env.TRACKER_LONG_TASK_TRACE, traceText);
    const trace = JSON.parse(traceText) as { traceEvents: TraceEvent[] };
    const json: string = await page.evaluate(() => JSON.stringify((window as any).__snapshot));
    expect(json.length).toBeGreaterThan(1_000_000);

    const events = trace.traceEvents;
    const stamp = events.find((e) => e.name === 'TimeStamp' && e.args?.data?.message === 'tandem-first-snapshot-done');
    expect(stamp, 'the timeStamp marking the end of start()').toBeDefined();
    const main = events.find((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain' && e.pid === stamp!.pid);
    const tasks = events.filter((e) => e.name === 'RunTask' && e.ph === 'X' && e.pid === stamp!.pid && e.tid === main!.tid);
    // The task that ran start() (rrweb's snapshot) holds the stamp; the ones after it are the tracker's and the page's.
    // Up to the end of the page's script: stopping the trace makes a long task of its own.
    const end = events.find((e) => e.name === 'TimeStamp' && e.args?.data?.message === 'tandem-window-end');
    expect(end).toBeDefined();
    const after = tasks.filter((t) => t.ts > stamp!.ts && t.ts < end!.ts);
    const cpuMs = (t: TraceEvent) => (t.tdur ?? t.dur ?? 0) / 1000;
    // A task that is mostly V8's garbage collection (finalising a major GC of the page's 60,000-node heap) is
    // the page's memory, which plain rrweb has too: listed apart, not counted as the tracker's.
    const gcMs = (t: TraceEvent) =>
      events
        .filter((e) => (e.name === 'MajorGC' || e.name === 'MinorGC') && e.ph === 'X' && e.pid === t.pid && e.tid === t.tid && e.ts >= t.ts && e.ts < t.ts + (t.dur ?? 0))
        .reduce((n, e) => n + (e.dur ?? 0) / 1000, 0);
    const isGc = (t: TraceEvent) => gcMs(t) > ((t.dur ?? 0) / 1000) / 2;
    const longest = after.filter((t) => !isGc(t)).map(cpuMs).sort((a, b) => b - a);
    const gcTasks = after.filter(isGc).map(cpuMs).sort((a, b) => b - a);
    const snapshotTask = tasks.find((t) => t.ts <= stamp!.ts && t.ts + (t.dur ?? 0) >= stamp!.ts);
    console.log(
      `[long-task] start() task ${snapshotTask ? cpuMs(snapshotTask).toFixed(0) : '?'} ms CPU; ${after.length} tasks after it, longest ${longest.slice(0, 5).map((x) => x.toFixed(1)).join(', ')} ms CPU` +
        `; garbage-collection tasks ${gcTasks.slice(0, 3).map((x) => x.toFixed(1)).join(', ') || 'none'} ms CPU`,
    );
    expect(after.length).toBeGreaterThan(10);
    expect(longest[0]).toBeLessThan(50);

    // The snapshot as the page's JSON.stringify wrote it is what the backend stored.
    const stored = await waitFor('snapshot stored', async () => {
      const text = await fetchEvents(e2e.backend.url, await e2e.agentCookie(), sid);
      return text.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((e: { type: number }) => e.type === 2);
    }, 60_000);
    expect(stored).toEqual(JSON.parse(json));
    await page.close();
  }, 180_000);
});
