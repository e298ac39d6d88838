/**
 * Where an open's main-thread time goes (a tool, not a bench): writes one generated session, opens a
 * share link OPEN_CPU_OPENS times in new tabs (assets cached, as in bench/src/seek.ts) with the CDP
 * sampling profiler on from before navigation to the drawn frame, and prints, summed over the opens
 * after the first (cold caches), self time by script and by function, and the page's `tandem:*` marks.
 *
 * With OPEN_AB=<flag>, an A/B instead (no profiler): opens alternate between `window.__tandemAb = {<flag>: true}`
 * (A) and none (B), and the drawn times of each are printed (the page code reads the flag while a change is
 * being measured; the flag is removed once decided).
 *
 * With OPEN_SCROLL_CHECK=1, each open also checks that the replayed page is scrolled where the recording was
 * at that moment (the last scroll since the window's keyframe, clamped to the page's height).
 *
 *   PROFILE_MINUTES=360 OPEN_CPU_OPENS=6 node --import tsx bench/src/seek-open-cpu.ts
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { startBenchBackend } from './lib/backend.js';
import { launchChromium } from './lib/browser.js';
import { signedInDashboard } from './lib/dashboard.js';
import { CHECKOUT_MS, generateSession, writeGeneratedSession, seededRandom } from './lib/seek-session.js';
import { DRAWN_INIT } from './seek.js';

const minutes = Number(process.env.PROFILE_MINUTES ?? 360);
const opens = Number(process.env.OPEN_CPU_OPENS ?? 6);
const ab = process.env.OPEN_AB ?? '';
const drawn: Record<'A' | 'B', number[]> = { A: [], B: [] };
/** ms from the Replayer built to positioned (the one task that applies the snapshot and the events up to t) */
const positioning: Record<'A' | 'B', number[]> = { A: [], B: [] };
const layouts: Record<'A' | 'B', number[]> = { A: [], B: [] };
const layoutMs: Record<'A' | 'B', number[]> = { A: [], B: [] };
const taskMs: Record<'A' | 'B', number[]> = { A: [], B: [] };
const threadMs: Record<'A' | 'B', number[]> = { A: [], B: [] };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const p = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((q / 100) * xs.length) - 1)] ?? NaN;

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number }

const byFile = new Map<string, number>();
const byFn = new Map<string, number>();
const byCaller = new Map<string, number>();
const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);

const traced = new Map<string, number>();
let tracedOpens = 0;
/**
 * A devtools timeline trace of one open: the renderer main thread's time by event name up to the drawn
 * frame, counting each event's self time (its duration minus its children's on the same thread).
 */
async function traceOpen(page: import('playwright-core').Page, url: string, count: boolean): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  const events: any[] = [];
  cdp.on('Tracing.dataCollected', (e: any) => events.push(...e.value));
  const done = new Promise<void>((r) => cdp.once('Tracing.tracingComplete', () => r()));
  await cdp.send('Tracing.start', { categories: 'devtools.timeline,v8,disabled-by-default-devtools.timeline,blink.user_timing', transferMode: 'ReportEvents' } as any);
  await page.goto(url);
  await page.waitForFunction(() => (window as any).__drawnAt !== null, null, { timeout: 60_000, polling: 20 });
  const drawn = await page.evaluate(() => (window as any).__drawnAt as number);
  await cdp.send('Tracing.end');
  await done;
  await cdp.detach();
  const main = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  const nav = events.find((e) => e.name === 'navigationStart' && main.has(`${e.pid}:${e.tid}`) && e.args?.data?.documentLoaderURL?.startsWith('http'));
  if (!nav) return (console.log('  (no navigationStart in the trace)'), NaN);
  const key = `${nav.pid}:${nav.tid}`;
  const end = nav.ts + drawn * 1000;
  const xs = events.filter((e) => e.ph === 'X' && `${e.pid}:${e.tid}` === key && e.ts >= nav.ts && e.ts < end && e.dur).sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  const self = new Map<string, number>();
  const stack: any[] = [];
  let busy = 0;
  for (const e of xs) {
    while (stack.length && stack.at(-1).ts + stack.at(-1).dur <= e.ts) stack.pop();
    const parent = stack.at(-1);
    if (parent) self.set(parent.name, (self.get(parent.name) ?? 0) - Math.min(e.dur, parent.ts + parent.dur - e.ts));
    else busy += e.dur;
    self.set(e.name, (self.get(e.name) ?? 0) + e.dur);
    stack.push(e);
  }
  // Thread time (tdur: CPU the main thread got, which load stretches far less than wall time) of the
  // top-level tasks, by the page's `tandem:*` phase each task started in.
  const marks = events.filter((e) => e.cat?.includes('blink.user_timing') && `${e.pid}:${e.tid}` === key && String(e.name).startsWith('tandem:') && e.ts >= nav.ts && e.ts < end)
    .sort((a, b) => a.ts - b.ts).map((e) => ({ name: String(e.name).slice(7), ts: e.ts as number }));
  const phases = new Map<string, number>();
  let cpu = 0;
  {
    let lastEnd = 0;
    for (const e of xs) {
      if (e.ts < lastEnd) continue;
      lastEnd = e.ts + e.dur;
      const phase = marks.filter((m) => m.ts <= e.ts).at(-1)?.name ?? 'boot';
      const td = (e.tdur ?? e.dur) as number;
      cpu += td;
      phases.set(phase, (phases.get(phase) ?? 0) + td);
    }
  }
  // OPEN_TRACE_LAYOUTS=1: each layout and style recalc up to the drawn frame, its phase, and what forced it
  // (the script frame in its stack trace; none: the browser's own frame update).
  if (process.env.OPEN_TRACE_LAYOUTS === '1') {
    for (const e of xs.filter((x) => x.name === 'Layout' || x.name === 'UpdateLayoutTree')) {
      const phase = marks.filter((m) => m.ts <= e.ts).at(-1)?.name ?? 'boot';
      const st = (e.args?.beginData?.stackTrace ?? e.args?.data?.stackTrace ?? []) as { functionName: string; url: string; lineNumber: number; columnNumber: number }[];
      const where = st.slice(0, 3).map((f) => `${f.functionName || '(anon)'}@${f.url.split('/').pop()}:${f.lineNumber}:${f.columnNumber}`).join(' < ') || '(frame)';
      const nodes = e.args?.beginData?.dirtyObjects ?? e.args?.elementCount ?? '';
      console.log(`    ${e.name.padEnd(16)} ${((e.ts - nav.ts) / 1000).toFixed(0).padStart(5)} ms +${(e.dur / 1000).toFixed(1).padStart(5)} ms [${phase}] ${nodes} ${where}`);
    }
  }
  console.log(`  thread time ${(cpu / 1000).toFixed(0)} ms by phase: ${[...phases].map(([k, v]) => `${k} ${(v / 1000).toFixed(0)}`).join(', ')}`);
  for (const [k, v] of phases) traced.set(`cpu after ${k}`, (traced.get(`cpu after ${k}`) ?? 0) + v);
  traced.set('(cpu)', (traced.get('(cpu)') ?? 0) + cpu);
  const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 14).map(([k, v]) => `${k} ${(v / 1000).toFixed(0)}`).join(', ');
  console.log(`  drawn ${drawn.toFixed(0)} ms, main thread busy ${(busy / 1000).toFixed(0)} ms: ${top}`);
  if (!count) return cpu / 1000;
  tracedOpens++;
  for (const [k, v] of self) traced.set(k, (traced.get(k) ?? 0) + v);
  traced.set('(busy)', (traced.get('(busy)') ?? 0) + busy);
  traced.set('(drawn)', (traced.get('(drawn)') ?? 0) + drawn * 1000);
  return cpu / 1000;
}

// OPEN_CPU_DATA=<dir>: keep the data directory, so the next run reuses the session instead of writing it again.
const keep = process.env.OPEN_CPU_DATA;
const fresh = !keep || !existsSync(keep);
const be = await startBenchBackend(keep ? { dataDir: keep } : {}, !!keep);
const browser = await launchChromium();
try {
  const ids = { projectId: be.projectId!, sessionId: `opencpu${minutes}m`, tabId: `opencputab${minutes}m` };
  const genOpts = { durationMs: minutes * 60_000, startedAt: fresh ? Date.now() - minutes * 60_000 - 3_600_000 : 0, seed: minutes };
  const written = fresh ? await writeGeneratedSession(be.store, ids, genOpts) : { events: NaN, bytes: NaN };
  // Every recorded scroll of the document (offset, y), to say where the page should be at a moment.
  const scrolls: { at: number; y: number }[] = [];
  if (process.env.OPEN_SCROLL_CHECK === '1') {
    for (const batch of generateSession(genOpts)) {
      for (const e of batch) if (e.type === 3 && (e.data as { source?: number }).source === 3) scrolls.push({ at: e.timestamp - genOpts.startedAt, y: (e.data as { y: number }).y });
    }
  }
  let scrollChecks = 0;
  let scrollWrong = 0;
  console.log(`wrote ${written.events} events, ${written.bytes} B`);
  const ctx = await signedInDashboard(browser, be, [DRAWN_INIT]);
  const random = seededRandom(4242);
  let t = 0;
  for (let i = 0; i < opens; i++) {
    // A/B: each moment is opened once per variant, one after the other.
    if (!ab || i % 2 === 0) t = Math.floor(random() * (minutes * 60_000 - 2000)) + 1000;
    const page = await ctx.newPage();
    const variant = i % 2 === 0 ? 'A' : 'B';
    if (ab) {
      if (variant === 'A') await page.addInitScript(`window.__tandemAb = { ${JSON.stringify(ab)}: true };`);
      const perf = await ctx.newCDPSession(page);
      await perf.send('Performance.enable');
      // With OPEN_TRACE=1 too: the main thread's thread time up to the drawn frame (load stretches it far less than wall time).
      if (process.env.OPEN_TRACE === '1') {
        const ms = await traceOpen(page, `${be.url}/#/sessions/${ids.sessionId}?t=${t}`, false);
        if (i > 0) threadMs[variant].push(ms);
      } else {
        await page.goto(`${be.url}/#/sessions/${ids.sessionId}?t=${t}`);
        await page.waitForFunction(() => (window as any).__drawnAt !== null, null, { timeout: 60_000, polling: 20 });
      }
      // Counts do not depend on the machine's load, durations do (Chrome's own metrics of the page).
      const { metrics } = (await perf.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] };
      const metric = (name: string) => metrics.find((x) => x.name === name)?.value ?? NaN;
      const counts = `layouts ${metric('LayoutCount')} (${(metric('LayoutDuration') * 1000).toFixed(0)} ms), style recalcs ${metric('RecalcStyleCount')} (${(metric('RecalcStyleDuration') * 1000).toFixed(0)} ms), script ${(metric('ScriptDuration') * 1000).toFixed(0)} ms, tasks ${(metric('TaskDuration') * 1000).toFixed(0)} ms`;
      if (i > 0) (layoutMs[variant].push(metric('LayoutDuration') * 1000), layouts[variant].push(metric('LayoutCount')), taskMs[variant].push(metric('TaskDuration') * 1000));
      await perf.detach();
      const info = await page.evaluate(() => ({
        drawn: (window as any).__drawnAt as number,
        positioning: performance.getEntriesByName('tandem:replayer-positioned')[0]!.startTime - performance.getEntriesByName('tandem:replayer-built')[0]!.startTime,
        marks: performance.getEntriesByType('mark').filter((m) => m.name.startsWith('tandem:')).map((m) => `${m.name.slice(7)} ${m.startTime.toFixed(0)}`).join(', ') }));
      if (scrolls.length) {
        // The snapshot's initialOffset is 0 in the generated session: the window's own scrolls decide.
        const keyframe = Math.floor(t / CHECKOUT_MS) * CHECKOUT_MS;
        const last = scrolls.filter((x) => x.at > keyframe && x.at <= t).at(-1);
        const got = await page.evaluate(() => {
          const win = (document.querySelector('[data-testid=player] iframe') as HTMLIFrameElement).contentWindow!;
          return { y: win.scrollY, max: win.document.documentElement.scrollHeight - win.innerHeight };
        });
        const want = Math.min(last?.y ?? 0, got.max);
        scrollChecks++;
        if (Math.abs(got.y - want) > 1) scrollWrong++;
        console.log(`  scroll: shown ${got.y}, recorded ${last?.y ?? 0} (max ${got.max}) ${Math.abs(got.y - want) > 1 ? 'WRONG' : 'ok'}`);
      }
      if (i > 0) (drawn[variant].push(info.drawn), positioning[variant].push(info.positioning));
      console.log(`${variant} open ${i + 1} at ${t} (${t % 120_000} ms past a keyframe; positioning ${info.positioning.toFixed(0)} ms; ${counts}; load ${loadavg()[0].toFixed(1)}): drawn ${info.drawn.toFixed(0)} ms; ${info.marks}`);
      await page.close();
      continue;
    }
    if (process.env.OPEN_TRACE === '1') {
      await traceOpen(page, `${be.url}/#/sessions/${ids.sessionId}?t=${t}`, i > 0);
      await page.close();
      continue;
    }
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 250 });
    await cdp.send('Profiler.start');
    await page.goto(`${be.url}/#/sessions/${ids.sessionId}?t=${t}`);
    await page.waitForFunction(() => (window as any).__drawnAt !== null, null, { timeout: 60_000, polling: 20 });
    const { profile } = (await cdp.send('Profiler.stop')) as unknown as { profile: Profile };
    const info = await page.evaluate(() => ({
      drawn: (window as any).__drawnAt as number,
      now: performance.now(),
      marks: performance.getEntriesByType('mark').filter((m) => m.name.startsWith('tandem:')).map((m) => `${m.name.slice(7)} ${m.startTime.toFixed(0)}`).join(', '),
    }));
    console.log(`open ${i + 1} at ${t} (${t % 120_000} ms past a keyframe; load ${loadavg()[0].toFixed(1)}): drawn ${info.drawn.toFixed(0)} ms; ${info.marks}`);
    if (i > 0) {
      // Samples up to the drawn frame only. Profile times are µs on a clock of their own: its endTime is the
      // stop, read just before the page's `now` here, so the drawn frame is (now - drawn) before it.
      const self = new Map<number, number>();
      let at = profile.startTime;
      const end = (profile as Profile & { endTime: number }).endTime - (info.now - info.drawn) * 1000;
      profile.samples.forEach((id, k) => {
        at += profile.timeDeltas[k] ?? 0;
        if (at <= end) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[k] ?? 0));
      });
      // OPEN_CPU_BY_CALLER=1: every sample charged to its nearest frame in a page chunk (not the shared runtime chunk).
      const parent = new Map<number, number>();
      for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
      const nodeById = new Map(profile.nodes.map((n) => [n.id, n]));
      if (process.env.OPEN_CPU_BY_CALLER === '1') {
        for (const [id, us] of self) {
          let cur: number | undefined = id;
          let label = '';
          while (cur !== undefined) {
            const f = nodeById.get(cur)!.callFrame;
            const file = f.url.split('/').pop() ?? '';
            if (file && !file.startsWith('format-')) { label = `${f.functionName || '(anon)'} ${file}:${f.lineNumber}`; break; }
            cur = parent.get(cur);
          }
          add(byCaller, label || '(runtime/native)', us);
        }
      }
      for (const n of profile.nodes) {
        const us = self.get(n.id) ?? 0;
        if (!us) continue;
        const f = n.callFrame;
        const file = f.url.split('/').pop() || f.functionName;
        add(byFile, file, us);
        add(byFn, `${f.functionName || '(anon)'} ${file}:${f.lineNumber}:${(f as { columnNumber?: number }).columnNumber ?? 0}`, us);
      }
    }
    await cdp.detach();
    await page.close();
  }
  if (tracedOpens) {
    console.log(`\nmain thread self time per open (mean over ${tracedOpens}):\n${[...traced].sort((a, b) => b[1] - a[1]).slice(0, 30).map(([k, v]) => `  ${(v / 1000 / tracedOpens).toFixed(1).padStart(8)} ms  ${k}`).join('\n')}`);
  }
  if (scrollChecks) console.log(`scroll positions: ${scrollChecks - scrollWrong} of ${scrollChecks} right`);
  if (ab) {
    for (const v of ['A', 'B'] as const) console.log(`${v}${v === 'A' ? ` (${ab})` : ''}: n ${drawn[v].length} median ${median(drawn[v]).toFixed(0)} p75 ${p(drawn[v], 75).toFixed(0)} p90 ${p(drawn[v], 90).toFixed(0)} max ${Math.max(...drawn[v]).toFixed(0)} ms; positioning median ${median(positioning[v]).toFixed(0)} p90 ${p(positioning[v], 90).toFixed(0)} ms; layouts median ${median(layouts[v])}, layout ms median ${median(layoutMs[v]).toFixed(0)}, main-thread task ms median ${median(taskMs[v]).toFixed(0)}${threadMs[v].length ? `; thread time median ${median(threadMs[v]).toFixed(0)} mean ${(threadMs[v].reduce((a, b) => a + b, 0) / threadMs[v].length).toFixed(0)} ms` : ''}`);
  }
  const n = Math.max(1, opens - 1);
  const show = (m: Map<string, number>, top: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => `  ${(us / 1000 / n).toFixed(1).padStart(8)} ms  ${k}`).join('\n');
  console.log(`\nself time per open up to the drawn frame (mean over ${n} opens), by script:\n${show(byFile, 15)}\nby function:\n${show(byFn, 40)}${byCaller.size ? `\nby caller outside the runtime chunk:\n${show(byCaller, 40)}` : ''}`);
  await ctx.close();
} finally {
  await browser.close();
  await be.close();
}
