/**
 * The server side of a share link's open (a tool, not a bench): times each storage query behind
 * `GET /api/v1/sessions/:id/open` on a generated session, in-process, wall and process CPU time
 * (chDB's threads included; load stretches wall time far more than CPU time), and the route itself
 * over HTTP (head's first byte, end).
 *
 *   PROFILE_MINUTES=360 OPEN_SERVER_ROUNDS=10 OPEN_SERVER_DATA=/tmp/x node --import tsx bench/src/seek-open-server.ts
 * (OPEN_SERVER_DATA keeps the data directory, so a second run skips writing the session.)
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { openTarget, type SessionDetail } from '@tandem/protocol';
import { startBenchBackend } from './lib/backend.js';
import { writeGeneratedSession, seededRandom } from './lib/seek-session.js';
import { percentile } from './lib/stats.js';

const minutes = Number(process.env.PROFILE_MINUTES ?? 360);
const rounds = Number(process.env.OPEN_SERVER_ROUNDS ?? 10);
const keep = process.env.OPEN_SERVER_DATA;
const fresh = !keep || !existsSync(keep);
const be = await startBenchBackend(keep ? { dataDir: keep } : {}, !!keep);
const walls = new Map<string, number[]>();
const cpus = new Map<string, number[]>();
async function timed<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const out = await fn();
  const cpu = process.cpuUsage(c0);
  walls.set(name, [...(walls.get(name) ?? []), performance.now() - t0]);
  cpus.set(name, [...(cpus.get(name) ?? []), (cpu.user + cpu.system) / 1000]);
  return out;
}
try {
  const ids = { projectId: be.projectId!, sessionId: `openserver${minutes}m`, tabId: `openservertab${minutes}m` };
  if (fresh) {
    const w = await writeGeneratedSession(be.store, ids, { durationMs: minutes * 60_000, startedAt: Date.now() - minutes * 60_000 - 3_600_000, seed: minutes });
    console.log(`wrote ${w.events} events`);
  }
  const login = await fetch(`${be.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'bench@example.com', password: 'bench-password-123' }) });
  const cookie = login.headers.get('set-cookie')!.split(';')[0];
  const store = be.store;
  const { projectId: p, sessionId: s } = ids;
  const random = seededRandom(99);
  for (let i = 0; i < rounds; i++) {
    const t = Math.floor(random() * (minutes * 60_000 - 2000)) + 1000;
    const session = (await timed('getSession (all)', () => store.getSession(p, s))) as SessionDetail;
    await timed('getKeyframes', () => store.getKeyframes(p, s));
    const target = openTarget(session, t, null)!;
    await timed('window events', async () => {
      let n = 0;
      for await (const _ of store.streamEvents(p, s, { tabId: target.tab.tabId, fromSeq: target.window.fromSeq, ...(target.window.toSeq === null ? {} : { toSeq: target.window.toSeq }) })) n++;
      return n;
    });
    await timed('HTTP /open whole', async () => {
      const t0 = performance.now();
      const res = await fetch(`${be.url}/api/v1/sessions/${s}/open?t=${t}`, { headers: { cookie } });
      const reader = res.body!.getReader();
      let first = true;
      for (;;) {
        const { done } = await reader.read();
        if (first) (walls.set('HTTP /open first chunk', [...(walls.get('HTTP /open first chunk') ?? []), performance.now() - t0]), (first = false));
        if (done) break;
      }
    });
  }
  console.log(`${minutes}-minute session, ${rounds} rounds, load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  for (const [k, v] of walls) console.log(`  ${k.padEnd(26)} wall p50 ${percentile(v, 50).toFixed(1).padStart(7)} p95 ${percentile(v, 95).toFixed(1).padStart(7)}   cpu p50 ${cpus.has(k) ? percentile(cpus.get(k)!, 50).toFixed(1) : '-'}`);
} finally {
  await be.close();
}
