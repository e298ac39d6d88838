/**
 * failover (DESIGN.md §10, issue 9): 2 backend nodes behind haproxy sharing Redis and one store (the
 * chDB HTTP stand-in), N live tabs through haproxy of which W are watched by an agent socket on node A;
 * node B is killed with SIGKILL. Measured: time until every tab B held is connected again (through
 * haproxy, to A), time until each watched session B served draws again (the agent gets a new snapshot),
 * events lost or out of order within each agent's stream, and new connections refused meanwhile (a flood
 * of brand-new sockets from one address while the orphans resume, some from that same address).
 * Baseline in the same run: one tab whose connection is cut (no failover) reconnecting through haproxy.
 *
 * Tabs are simulated socket.io clients (lib/failover-tabs.ts; the unwatched ones in a child process, so
 * their storm does not stall the clock of the process measuring the watched ones) behaving like the assist plugin:
 * socket.io's reconnection with the plugin's pace (assist-plugin/src/handshake.ts: 1 s ± 50 %, a watched
 * tab 0–200 ms), `resume: true` after the first connect,
 * a Meta + FullSnapshot on `live:start`, then 5 incremental events/s while forwarding.
 *
 *   node --import tsx bench/src/failover.ts     (FAILOVER_TABS=2000 FAILOVER_WATCHED=50 FAILOVER_FLOOD=300)
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { io, type Socket } from 'socket.io-client';
import { ASSIST_NAMESPACE, PROTOCOL_VERSION } from '@tandem/protocol';
import { TokenSigner } from '../../backend/src/auth/tokens.js';
import { redisCli, startCluster, type Cluster } from '../../e2e/tests/support/cluster.js';
import { ADMIN } from '../../e2e/tests/support/backend-process.js';
import { percentileSorted } from './lib/live-events.js';
import { openTabs, type SimTab, type TabTimes } from './lib/failover-tabs.js';
import { forkChild, type IpcChild } from './lib/live-common.js';
import { atMost, recordResults, type ResultRow } from './lib/report.js';
import { isMain } from './lib/main.js';
import { rng } from './ingest-load.js';

const BENCH = 'failover';
const TARGET_BACK = '100% of its tabs back within 10 s';
const TARGET_DRAW = 'watched sessions drawn again p95 ≤ 3 s';
const TARGET_ORDER = 'nothing lost or out of order; new connections still rate limited';
/** Brand-new tab sockets per address before the connect limit (config.liveConnectRateLimit burst 50). */
const TABS_FILE = fileURLToPath(new URL('./lib/failover-tabs.ts', import.meta.url));
const newId = () => randomBytes(12).toString('base64url');

export async function runFailover(): Promise<ResultRow[]> {
  const tabsN = Number(process.env.FAILOVER_TABS ?? 2000);
  const watchedN = Math.min(tabsN, Number(process.env.FAILOVER_WATCHED ?? 50));
  const floodN = Number(process.env.FAILOVER_FLOOD ?? 300);
  const cluster = await startCluster({ nodes: 2, maxconn: Math.max(5_000, tabsN * 2 + 500), log: (l) => console.log(`[${BENCH}] ${l}`) });
  const sockets: Socket[] = [];
  // The watched tabs live in this process: their sockets must be closed too, or after the cluster
  // stops they try to reconnect forever and `npm run bench` never exits.
  const tabs: SimTab[] = [];
  const children: IpcChild[] = [];
  let killedAt = 0;
  try {
    const [A, B] = cluster.nodes;
    const cookie = await login(A.url);
    const project = (await (await fetch(`${A.url}/api/v1/project`, { headers: { cookie } })).json()) as { id: string };
    const signer = new TokenSigner(cluster.secret);
    const r = rng(7);

    // ---- tabs through haproxy, TABS_PER_ADDRESS per client address (the real connect limit applies):
    // the W watched ones here, the others in a child process (see lib/failover-tabs.ts for why).
    const refusals: Record<string, number> = {};
    const connectStart = Date.now();
    await openTabs({ url: cluster.url, signer, projectId: project.id, r, refusals }, 0, watchedN, tabs);
    const others = forkChild(TABS_FILE, { TANDEM_FAILOVER_TABS_CHILD: '1' }, `${BENCH}-tabs`);
    children.push(others);
    const { tabs: otherTabs } = await others.request<{ tabs: TabTimes[] }>(
      { type: 'open', url: cluster.url, secret: cluster.secret, projectId: project.id, from: watchedN, to: tabsN, seed: 8 }, 'opened', 600_000);
    console.log(`[${BENCH}] ${tabs.length + otherTabs.length} tabs connected through haproxy in ${((Date.now() - connectStart) / 1000).toFixed(1)} s (${otherTabs.length} in a child process)`);

    // ---- baseline: one tab's connection cut (the node stays up), time to be back through haproxy
    const probe = tabs[tabs.length - 1]; // not watched yet: the normal reconnection pace
    const cutAt = Date.now();
    probe.reconnectedAt = 0;
    (probe.socket.io as unknown as { engine: { close(): void } }).engine.close();
    while (!probe.reconnectedAt && Date.now() - cutAt < 20_000) await sleep(20);
    const baselineMs = probe.reconnectedAt - cutAt;
    console.log(`[${BENCH}] baseline: a cut connection (no failover) is back in ${baselineMs} ms`);

    // ---- watchers: agents on node A, one per watched session (the first W tabs)
    const watched = tabs;
    // Five at a time: each agent handshake reads the agent from the store (one query queue in the stand-in).
    const agents = await pool(watched, 5, async (t) => {
      const s = io(A.url + ASSIST_NAMESPACE, {
        transports: ['websocket'], forceNew: true, reconnection: false, extraHeaders: { cookie }, auth: { role: 'agent', v: PROTOCOL_VERSION },
      });
      sockets.push(s);
      await once(s, 'connect', 60_000);
      const stream = { lastSeq: -1, metas: 0, lost: 0, outOfOrder: 0, firstMetaAfterKill: 0, events: 0 };
      s.on('live:events', (m: { events: { seq: number; type: number }[] }) => {
        for (const e of m.events) {
          stream.events++;
          if (e.type === 4) {
            stream.metas++;
            if (killedAt && !stream.firstMetaAfterKill) stream.firstMetaAfterKill = Date.now();
          } else if (stream.lastSeq >= 0) {
            if (e.seq <= stream.lastSeq) stream.outOfOrder++;
            else if (e.seq !== stream.lastSeq + 1) stream.lost += e.seq - stream.lastSeq - 1;
          }
          stream.lastSeq = e.seq;
        }
      });
      const joined = await new Promise<{ ok: boolean }>((res) => s.emit('live:join', { sessionId: t.sessionId }, res));
      if (!joined.ok) throw new Error(`agent could not join ${t.sessionId}: ${JSON.stringify(joined)}`);
      return { tab: t, socket: s, stream };
    });
    await waitUntil('every watched session streaming', () => agents.every((a) => a.stream.metas > 0), 60_000).catch((err) => {
      const idle = agents.filter((a) => !a.stream.metas).map((a) => `tab ${a.tab.index} (connected ${a.tab.socket.connected}, forwarding ${a.tab.forwarding}, events ${a.stream.events})`);
      throw new Error(`${(err as Error).message}: ${idle.join('; ')}`);
    });

    // Which tabs does B serve? (The node each tab is on, from its home in Redis.)
    const onB = new Set<number>();
    const redisPort = Number(new URL(cluster.redisUrl).port);
    const keys = (await redisCli(redisPort, ['KEYS', 'tandem:live:home:*'])).split('\n').filter(Boolean);
    const nodesOf = (await redisCli(redisPort, ['MGET', ...keys])).split('\n');
    const homeOf = new Map(keys.map((k, i) => [k.split(':').pop()!, nodesOf[i]]));
    for (const t of [...tabs, ...otherTabs]) if (homeOf.get(t.sessionId) === 'node-b') onB.add(t.index);
    const orphans = tabs.filter((t) => onB.has(t.index));
    const otherOrphans = otherTabs.filter((t) => onB.has(t.index)).length;
    const watchedOrphans = agents.filter((a) => onB.has(a.tab.index));
    console.log(`[${BENCH}] node B serves ${orphans.length + otherOrphans} tabs (${watchedOrphans.length} watched); killing it`);
    await others.request({ type: 'reset' }, 'reset', 10_000);
    await sleep(1000);

    // ---- the kill, the reconnect storm and a flood of brand-new sockets from one address
    for (const t of orphans) Object.assign(t, { reconnectedAt: 0, closedAt: 0, startedAt: 0 });
    killedAt = Date.now();
    await B.backend.stop('SIGKILL');
    const flooderToken = (await signer.signSession({ pid: project.id, sid: newId(), tid: newId(), vid: newId() })).token;
    const flood = { admitted: 0, refused: 0, other: 0 };
    const floodDone = (async () => {
      // Spread over the first 5 s of the storm, all from one address (10.200.0.1).
      for (let i = 0; i < floodN; i++) {
        void tryNew(cluster.url, flooderToken, '10.200.0.1').then((res) => {
          if (res === 'ok') flood.admitted++;
          else if (res === 'rate_limited') flood.refused++;
          else flood.other++;
        });
        await sleep(5_000 / floodN);
      }
      await sleep(3_000);
    })();
    // The child's tabs are asked for their times every half second (a light IPC message).
    let otherTimes: TabTimes[] = [];
    const othersBack = async () => {
      otherTimes = (await others.request<{ times: TabTimes[] }>({ type: 'report' }, 'report', 10_000)).times.filter((t) => onB.has(t.index));
      return otherTimes.every((t) => t.reconnectedAt > 0);
    };
    for (const until = Date.now() + 30_000; Date.now() < until && !(orphans.every((t) => t.reconnectedAt > 0) && (await othersBack()));) await sleep(500);
    await waitUntil('every watched orphan drawn again', () => watchedOrphans.every((a) => a.stream.firstMetaAfterKill > 0), 15_000).catch(() => {});
    await floodDone;
    await sleep(2_000); // a little more streaming after the storm, to count holes
    await othersBack();

    const back = [...orphans, ...otherTimes].map((t) => (t.reconnectedAt ? t.reconnectedAt - killedAt : Infinity)).sort((x, y) => x - y);
    const within10 = back.filter((ms) => ms <= 10_000).length;
    const draw = watchedOrphans.map((a) => (a.stream.firstMetaAfterKill ? a.stream.firstMetaAfterKill - killedAt : Infinity)).sort((x, y) => x - y);
    const lost = agents.reduce((n, a) => n + a.stream.lost, 0);
    const outOfOrder = agents.reduce((n, a) => n + a.stream.outOfOrder, 0);
    const events = agents.reduce((n, a) => n + a.stream.events, 0);
    const pct = (s: number[], p: number) => percentileSorted(Float64Array.from(s.filter(Number.isFinite)), p);
    const load = (await import('node:os')).loadavg()[0].toFixed(1);
    const backNote = `${within10}/${back.length} orphaned tabs (of ${tabs.length + otherTabs.length}) back within 10 s; p50 ${pct(back, 50).toFixed(0)} ms, p95 ${pct(back, 95).toFixed(0)} ms, max ${back.length ? back[back.length - 1] : NaN} ms; baseline (one cut connection, no failover) ${baselineMs} ms → p95 ratio ${(pct(back, 95) / baselineMs).toFixed(2)}×; machine load average ${load}`;
    console.log(`[${BENCH}] ${backNote}`);
    const stepsNote = steps(watchedOrphans.map((a) => ({ ...a.tab, drawnAt: a.stream.firstMetaAfterKill })), killedAt);
    const drawNote = `${draw.filter(Number.isFinite).length}/${watchedOrphans.length} watched sessions of the killed node drawn again (a new snapshot at their agent on node A): p50 ${pct(draw, 50).toFixed(0)} ms, p95 ${pct(draw, 95).toFixed(0)} ms after the kill (steps p50/p95: ${stepsNote})`;
    console.log(`[${BENCH}] ${drawNote}`);
    const orderNote = `${events} events at ${agents.length} agents: ${lost} lost and ${outOfOrder} out of order inside their streams (each restart from a snapshot is a resync, not a loss); flood of ${floodN} brand-new sockets from one address during the storm: ${flood.admitted} admitted, ${flood.refused} refused rate_limited, ${flood.other} other`;
    console.log(`[${BENCH}] ${orderNote}`);
    return [
      { ...atMost(BENCH, backNote, back.length - within10, 0, TARGET_BACK, ' tabs late'), figure: backNote },
      atMost(BENCH, drawNote, pct(draw, 95), 3_000, TARGET_DRAW, ' ms'),
      {
        bench: BENCH, figure: orderNote, target: TARGET_ORDER,
        met: lost === 0 && outOfOrder === 0 && flood.refused > 0,
        gap: lost || outOfOrder ? `${lost} lost, ${outOfOrder} out of order` : flood.refused ? undefined : 'no new connection was refused',
      },
    ];
  } finally {
    for (const s of sockets) s.disconnect();
    for (const t of tabs) t.socket.disconnect();
    for (const c of children) await c.stop().catch(() => {});
    await cluster.close();
  }
}

/**
 * Where a watched session's time goes, p50/p95 of each step: kill → the tab's socket closes →
 * the tab is connected again (reconnection delay + handshake through haproxy) → the new home asks it
 * for a snapshot (claim, `live:home`, the agent re-joined) → the snapshot reaches the agent.
 */
function steps(tabs: (SimTab & { drawnAt: number })[], killedAt: number): string {
  const span = (from: (t: SimTab & { drawnAt: number }) => number, to: (t: SimTab & { drawnAt: number }) => number) => {
    const d = tabs.filter((t) => from(t) > 0 && to(t) > 0).map((t) => to(t) - from(t)).sort((x, y) => x - y);
    return d.length ? `${percentileSorted(Float64Array.from(d), 50).toFixed(0)}/${percentileSorted(Float64Array.from(d), 95).toFixed(0)} ms` : 'n/a';
  };
  return [
    `kill → socket closed ${span(() => killedAt, (t) => t.closedAt)}`,
    `closed → reconnected ${span((t) => t.closedAt, (t) => t.reconnectedAt)}`,
    `reconnected → snapshot asked ${span((t) => t.reconnectedAt, (t) => t.startedAt)}`,
    `asked → drawn at the agent ${span((t) => t.startedAt, (t) => t.drawnAt)}`,
  ].join(', ');
}

async function pool<T, R>(items: T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  }));
  return out;
}

async function tryNew(url: string, token: string, ip: string): Promise<string> {
  const s = io(url + ASSIST_NAMESPACE, {
    transports: ['websocket'], forceNew: true, reconnection: false, timeout: 10_000, extraHeaders: { 'x-forwarded-for': ip },
    auth: { role: 'tab', v: PROTOCOL_VERSION, token, resume: false, page: { url: 'https://shop.example.com/', title: 'New', visible: true, focused: true } },
  });
  try {
    await once(s, 'connect', 10_000);
    return 'ok';
  } catch (err) {
    return (err as { data?: { code?: string } }).data?.code ?? 'network';
  } finally {
    s.disconnect();
  }
}

function once(s: Socket, event: 'connect', timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${event} in ${timeoutMs} ms`)), timeoutMs);
    s.once(event, () => (clearTimeout(t), resolve()));
    s.once('connect_error', (err) => {
      if (s.io.opts.reconnection) return; // reconnecting sockets retry by themselves
      clearTimeout(t);
      reject(err);
    });
  });
}

async function waitUntil(what: string, fn: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function login(url: string): Promise<string> {
  const res = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  const c = res.headers.get('set-cookie')?.split(';')[0];
  if (!c) throw new Error(`login failed: ${res.status}`);
  return c;
}

if (isMain(import.meta.url)) {
  try {
    recordResults(await runFailover());
  } catch (err) {
    console.error(err);
    recordResults([{ bench: BENCH, figure: 'not run', target: `${TARGET_BACK}; ${TARGET_DRAW}; ${TARGET_ORDER}`, met: null, gap: (err as Error).message.split('\n')[0] }]);
    process.exitCode = 1;
  }
}
