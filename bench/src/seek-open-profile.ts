/**
 * Where an open of a share link spends its time (a tool, not a bench): writes one generated session,
 * opens it OPEN_PROFILE_OPENS times at random moments in new tabs (dashboard assets cached, as in
 * bench/src/seek.ts), and prints the median of each step: the page's `tandem:*` performance marks and
 * the resource timings of its requests (start, first byte, end), up to the drawn frame.
 *
 *   PROFILE_MINUTES=60 OPEN_PROFILE_OPENS=8 node --import tsx bench/src/seek-open-profile.ts
 */
import { loadavg } from 'node:os';
import { startBenchBackend } from './lib/backend.js';
import { launchChromium } from './lib/browser.js';
import { signedInDashboard } from './lib/dashboard.js';
import { writeGeneratedSession, seededRandom } from './lib/seek-session.js';
import { percentile } from './lib/stats.js';
import { DRAWN_INIT } from './seek.js';

const minutes = Number(process.env.PROFILE_MINUTES ?? 60);
const opens = Number(process.env.OPEN_PROFILE_OPENS ?? 8);

interface Step { name: string; at: number; end?: number; first?: number }

const be = await startBenchBackend();
const browser = await launchChromium();
try {
  const ids = { projectId: be.projectId!, sessionId: `openprof${minutes}m`, tabId: `openproftab${minutes}m` };
  const written = await writeGeneratedSession(be.store, ids, { durationMs: minutes * 60_000, startedAt: Date.now() - minutes * 60_000 - 3_600_000, seed: minutes });
  console.log(`wrote ${written.events} events, ${written.bytes} B`);
  const ctx = await signedInDashboard(browser, be, [DRAWN_INIT]);
  const byStep = new Map<string, number[]>();
  const add = (k: string, v: number) => byStep.set(k, [...(byStep.get(k) ?? []), v]);
  const random = seededRandom(777);
  for (let i = 0; i < opens; i++) {
    const t = Math.floor(random() * (minutes * 60_000 - 2000)) + 1000;
    const page = await ctx.newPage();
    await page.goto(`${be.url}/#/sessions/${ids.sessionId}?t=${t}`);
    await page.waitForFunction(() => (window as any).__drawnAt !== null, null, { timeout: 60_000, polling: 20 });
    await page.waitForTimeout(300);
    const steps: Step[] = await page.evaluate(() => {
      const out: { name: string; at: number; end?: number; first?: number }[] = [];
      for (const m of performance.getEntriesByType('mark')) if (m.name.startsWith('tandem:')) out.push({ name: m.name.slice(7), at: m.startTime });
      for (const r of performance.getEntriesByType('resource') as PerformanceResourceTiming[]) {
        const u = new URL(r.name);
        if (!u.pathname.startsWith('/api/') && !u.pathname.startsWith('/assets/')) continue;
        out.push({ name: `${u.pathname.replace(/\/sessions\/[^/]+/, '/sessions/:id')}`, at: r.startTime, first: r.responseStart, end: r.responseEnd });
      }
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      out.push({ name: 'document', at: nav.startTime, first: nav.responseStart, end: nav.responseEnd });
      out.push({ name: 'DOMContentLoaded', at: nav.domContentLoadedEventStart });
      out.push({ name: 'DRAWN', at: (window as any).__drawnAt });
      return out.sort((a, b) => a.at - b.at);
    });
    const longest = await page.evaluate(() => ((window as any).__longtasks as { start: number; dur: number }[]).map((x) => `${x.start.toFixed(0)}+${x.dur.toFixed(0)}`).join(' '));
    console.log(`open ${i + 1} at ${t} (load ${loadavg()[0].toFixed(1)}): drawn ${steps.find((s) => s.name === 'DRAWN')!.at.toFixed(0)} ms; long tasks ${longest}`);
    const seen = new Set<string>();
    for (const s of steps) {
      let key = s.name;
      for (let n = 2; seen.has(key); n++) key = `${s.name} #${n}`;
      seen.add(key);
      add(`${key} start`, s.at);
      if (s.first !== undefined) add(`${key} first byte`, s.first);
      if (s.end !== undefined) add(`${key} end`, s.end);
      console.log(`   ${s.at.toFixed(0).padStart(6)}${s.first !== undefined ? ` ${s.first.toFixed(0).padStart(6)} ${s.end!.toFixed(0).padStart(6)}` : ''.padStart(14)}  ${s.name}`);
    }
    await page.close();
  }
  console.log(`\nmedian over ${opens} opens (ms since navigation start), ${minutes}-minute session:`);
  for (const [k, v] of [...byStep].sort((a, b) => percentile(a[1], 50) - percentile(b[1], 50))) {
    if (v.length >= opens / 2) console.log(`  ${percentile(v, 50).toFixed(0).padStart(6)}  ${k} (${v.length})`);
  }
  await ctx.close();
} finally {
  await browser.close();
  await be.close();
}
