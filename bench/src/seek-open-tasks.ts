/**
 * One open's main-thread tasks in order (a tool): a Chromium trace per open of a share link (assets cached),
 * each top-level task on the renderer's main thread up to the drawn frame: start, wall and thread ms, the
 * `tandem:*` marks inside it and what it spent the time on (the biggest events under it), plus the gaps
 * where the thread waited. OPEN_TASKS_OPENS opens (the first, cold, is not printed).
 *
 *   OPEN_TASKS_DATA=/tmp/x OPEN_TASKS_OPENS=4 node --import tsx bench/src/seek-open-tasks.ts
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { startBenchBackend } from './lib/backend.js';
import { launchChromium } from './lib/browser.js';
import { signedInDashboard } from './lib/dashboard.js';
import { seededRandom, generatedOpenSession } from './lib/seek-session.js';
import { DRAWN_INIT } from './seek.js';

const minutes = Number(process.env.PROFILE_MINUTES ?? 360);
const opens = Number(process.env.OPEN_TASKS_OPENS ?? 4);
const minMs = Number(process.env.OPEN_TASKS_MIN_MS ?? 2);
const keep = process.env.OPEN_TASKS_DATA;
const fresh = !keep || !existsSync(keep);
const be = await startBenchBackend(keep ? { dataDir: keep } : {}, !!keep);
const browser = await launchChromium();
try {
  const ids = await generatedOpenSession(be.store, be.projectId!, 'opencpu', minutes, fresh);
  const ctx = await signedInDashboard(browser, be, [DRAWN_INIT]);
  const random = seededRandom(4242);
  for (let i = 0; i < opens; i++) {
    const t = Math.floor(random() * (minutes * 60_000 - 2000)) + 1000;
    const page = await ctx.newPage();
    const cdp = await page.context().newCDPSession(page);
    const events: any[] = [];
    cdp.on('Tracing.dataCollected', (e: any) => events.push(...e.value));
    const done = new Promise<void>((r) => cdp.once('Tracing.tracingComplete', () => r()));
    await cdp.send('Tracing.start', { categories: 'devtools.timeline,v8,disabled-by-default-devtools.timeline,blink.user_timing,loading', transferMode: 'ReportEvents' } as any);
    await page.goto(`${be.url}/#/sessions/${ids.sessionId}?t=${t}`);
    await page.waitForFunction(() => (window as any).__drawnAt !== null, null, { timeout: 60_000, polling: 20 });
    const drawn = await page.evaluate(() => (window as any).__drawnAt as number);
    await cdp.send('Tracing.end');
    await done;
    await cdp.detach();
    await page.close();
    if (i === 0) continue;
    const main = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
    const nav = events.find((e) => e.name === 'navigationStart' && main.has(`${e.pid}:${e.tid}`) && e.args?.data?.documentLoaderURL?.startsWith('http'));
    if (!nav) continue;
    const key = `${nav.pid}:${nav.tid}`;
    const end = nav.ts + drawn * 1000;
    const xs = events.filter((e) => e.ph === 'X' && `${e.pid}:${e.tid}` === key && e.ts >= nav.ts && e.ts < end && e.dur).sort((a, b) => a.ts - b.ts || b.dur - a.dur);
    const marks = events.filter((e) => e.cat?.includes('blink.user_timing') && `${e.pid}:${e.tid}` === key && String(e.name).startsWith('tandem:')).map((e) => ({ name: String(e.name).slice(7), ts: e.ts }));
    const rel = (ts: number) => ((ts - nav.ts) / 1000).toFixed(0).padStart(4);
    console.log(`open ${i} at ${t} (load ${loadavg()[0].toFixed(1)}): drawn ${drawn.toFixed(0)} ms`);
    if (process.env.OPEN_TASKS_COMPILE === '1') {
      const pid = nav.pid;
      const comp = events.filter((e) => e.pid === pid && /ompile|ache|Stream/.test(e.name) && e.ts >= nav.ts && e.ts < end);
      const by = new Map<string, { n: number; ms: number; ex: string }>();
      for (const e of comp) {
        const k = `${e.name} tid ${e.tid === nav.tid ? 'main' : e.tid}`;
        const cur = by.get(k) ?? { n: 0, ms: 0, ex: '' };
        cur.n++;
        cur.ms += (e.dur ?? 0) / 1000;
        if (!cur.ex && e.args && Object.keys(e.args).length) cur.ex = JSON.stringify(e.args).slice(0, 200);
        by.set(k, cur);
      }
      for (const [k, v] of [...by].sort((a, b) => b[1].ms - a[1].ms)) console.log(`  ${k}: n ${v.n} ${v.ms.toFixed(1)} ms ${v.ex}`);
    }
    let lastEnd = 0;
    let cpu = 0;
    const tops: any[] = [];
    for (const e of xs) if (e.ts >= lastEnd) (tops.push(e), (lastEnd = e.ts + e.dur));
    let prevEnd = nav.ts;
    for (const top of tops) {
      const td = (top.tdur ?? top.dur) / 1000;
      cpu += td;
      const kids = new Map<string, number>();
      for (const e of xs) {
        if (e === top || e.ts < top.ts || e.ts + e.dur > top.ts + top.dur) continue;
        const name = e.name === 'FunctionCall' || e.name === 'EvaluateScript' || e.name === 'v8.evaluateModule' ? `${e.name}(${String(e.args?.data?.url ?? e.args?.data?.functionName ?? '').split('/').pop()})` : e.name;
        kids.set(name, Math.max(kids.get(name) ?? 0, e.dur / 1000));
      }
      const inside = marks.filter((m) => m.ts >= top.ts && m.ts <= top.ts + top.dur).map((m) => m.name);
      if (top.dur / 1000 < minMs && !inside.length) { prevEnd = top.ts + top.dur; continue; }
      const gap = (top.ts - prevEnd) / 1000;
      const what = [...kids].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ');
      console.log(`  ${rel(top.ts)} +${(top.dur / 1000).toFixed(1).padStart(5)} (cpu ${td.toFixed(1).padStart(5)}) gap ${gap.toFixed(0).padStart(3)} ${inside.length ? `[${inside.join(' ')}] ` : ''}${what}`);
      prevEnd = top.ts + top.dur;
    }
    console.log(`  thread time ${cpu.toFixed(0)} ms`);
  }
  await ctx.close();
} finally {
  await browser.close();
  await be.close();
}
