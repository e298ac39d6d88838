/**
 * seek-open-pairs (a tool): share links opened back to back, as the seek bench's ABBA order does half the
 * time (a player page closed at its drawn frame, the next page's open right after, while the server still
 * reads the closed page's panels and timeline). Each round opens the player twice; only the second open is
 * counted. With OPEN_AB_ENV=<name>, rounds alternate (ABBA) between that variable '1' (A) and '0' (B) in
 * this process (a server change behind a temporary toggle while it is measured).
 *
 *   OPEN_PAIRS_ROUNDS=16 OPEN_AB_ENV=X [OPEN_PAIRS_DATA=/tmp/dir] node --import tsx bench/src/seek-open-pairs.ts
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { startBenchBackend } from './lib/backend.js';
import { launchChromium } from './lib/browser.js';
import { signedInDashboard } from './lib/dashboard.js';
import { seededRandom, generatedOpenSession } from './lib/seek-session.js';
import { median, percentile } from './lib/stats.js';
import { DRAWN_INIT, openSteps, waitDrawn } from './seek.js';

const minutes = Number(process.env.PROFILE_MINUTES ?? 360);
const rounds = Number(process.env.OPEN_PAIRS_ROUNDS ?? 16);
const keep = process.env.OPEN_PAIRS_DATA;
const toggle = process.env.OPEN_AB_ENV;
const fresh = !keep || !existsSync(keep);
const be = await startBenchBackend(keep ? { dataDir: keep } : {}, !!keep);
const browser = await launchChromium();
const drawn: Record<'A' | 'B', number[]> = { A: [], B: [] };
const openByte: Record<'A' | 'B', number[]> = { A: [], B: [] };
const loads: number[] = [];
try {
  const ids = await generatedOpenSession(be.store, be.projectId!, 'openpairs', minutes, fresh);
  const ctx = await signedInDashboard(browser, be, [DRAWN_INIT]);
  const random = seededRandom(99);
  const open = async (t: number) => {
    const page = await ctx.newPage();
    try {
      await page.goto(`${be.url}/#/sessions/${ids.sessionId}?t=${t}`);
      const ms = await waitDrawn(page, `open at ${t}`);
      return { ms, steps: await openSteps(page) };
    } finally {
      await page.close();
    }
  };
  await open(60_000);
  for (let i = 0; i < rounds; i++) {
    const side = [0, 3].includes(i % 4) ? 'A' : 'B';
    if (toggle) process.env[toggle] = side === 'A' ? '1' : '0';
    const t = () => Math.floor(random() * (minutes * 60_000 - 2000)) + 1000;
    await open(t());
    const second = await open(t());
    drawn[side].push(second.ms);
    openByte[side].push(second.steps['open first byte']);
    loads.push(loadavg()[0]);
    console.log(`round ${i + 1}/${rounds} ${side} (load ${loads.at(-1)!.toFixed(1)}): drawn ${second.ms.toFixed(0)} ms, /open first byte ${second.steps['open first byte']?.toFixed(0)}`);
  }
  await ctx.close();
} finally {
  await browser.close();
  await be.close();
}
const fmt = (xs: number[]) => `n ${xs.length} p50 ${median(xs).toFixed(0)} p90 ${percentile(xs, 90).toFixed(0)} max ${Math.max(...xs).toFixed(0)}`;
console.log(`\nload ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`);
for (const side of ['A', 'B'] as const) console.log(`${side} drawn ${fmt(drawn[side])}; /open first byte ${fmt(openByte[side])}`);
