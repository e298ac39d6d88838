import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  ASSIST_NAMESPACE, PROTOCOL_VERSION, type LiveEventsMessage, type LiveSession, type StartResponse, type WatchUrlResponse,
} from '@tandem/protocol';
import { ADMIN, PROJECT_KEY } from './support/backend-process.js';
import { launchChromium, waitFor } from './support/browser.js';
import { loginOn, nodeMetric, startCluster, redisCli, type Cluster } from './support/cluster.js';
import { agentContext, openLiveView, openUserPage, sessionIdOf, waitForAssist, waitForLiveState, waitForStageText } from './support/live.js';
import { answerPrompt, joinSession, nextRefusal, rawAgent, requestFeature, rtcState } from './support/assist.js';
import { collect, connected, holes } from './support/cluster-tabs.js';
import { countResults, tabSocket, tryConnect } from './support/cluster-flood.js';

/**
 * Issue 9: two backend processes + Redis + haproxy on loopback act as one product. Tabs go through
 * haproxy (round robin), so each test first asks which node serves the session ("B") and drives the
 * agent through the other one ("A") directly. One cluster for the file; the failover and drain tests
 * come last because they take nodes down (and bring them back).
 */
let cluster: Cluster;
let browser: Browser;
const cookies = new Map<string, string>();
const sockets: Socket[] = [];

async function login(nodeUrl: string, who = ADMIN): Promise<string> {
  const key = `${nodeUrl} ${who.email}`;
  const hit = cookies.get(key);
  if (hit) return hit;
  const cookie = await loginOn(nodeUrl, who);
  cookies.set(key, cookie);
  return cookie;
}

const USER_PAGE = `<h1>Cluster help page</h1><div id="notes" contenteditable="true"></div>
  <button id="inc" onclick="this.dataset.n = (+(this.dataset.n || 0) + 1); document.getElementById('clicks').textContent = 'Clicked ' + this.dataset.n + ' times'">Add one</button>
  <p id="clicks">Clicked 0 times</p>`;

interface User { context: BrowserContext; page: Page; sessionId: string; visitorId: string }

async function newUser(): Promise<User> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await openUserPage(page, cluster.url, USER_PAGE);
  const sessionId = await sessionIdOf(page);
  const visitorId = await page.evaluate(() => new Promise<string>((r) => (window as any).Tandem('onSession', (s: { visitorId: string }) => r(s.visitorId))));
  await waitForAssist(page, 'assist socket connected', (s) => s.connected, 45_000);
  return { context, page, sessionId, visitorId };
}

/** Node indexes: B serves the session, A is the other one. */
async function sides(sessionId: string): Promise<{ a: number; b: number }> {
  const b = await cluster.nodeOfSession(sessionId);
  return { a: b === 0 ? 1 : 0, b };
}

const metric = (nodeUrl: string, name: string) => nodeMetric(nodeUrl, name);

beforeAll(async () => {
  cluster = await startCluster({ nodes: 2 });
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await browser?.close();
  await cluster?.close();
}, 60_000);

describe('two backends behind haproxy act as one', { timeout: 180_000 }, () => {
  let user: User;
  let agentView: Page;

  it('an agent on node A watches a tab on node B and sees the typing live', async () => {
    user = await newUser();
    const { a, b } = await sides(user.sessionId);
    const A = cluster.nodes[a];
    const context = await agentContext(browser, A.url, await login(A.url));
    agentView = await openLiveView(context, A.url, user.sessionId, 45_000);
    await waitForStageText(agentView, 'Cluster help page', 45_000);
    await user.page.click('#notes');
    await user.page.keyboard.type('typed on node B');
    await waitForStageText(agentView, 'typed on node B', 30_000);
    // It really crossed nodes: A watches a session served elsewhere, B serves an agent of another node.
    expect(await metric(A.url, 'tandem_live_proxied_sessions')).toBeGreaterThanOrEqual(1);
    expect(await metric(cluster.nodes[b].url, 'tandem_live_remote_agents')).toBeGreaterThanOrEqual(1);
    expect(await metric(A.url, 'tandem_live_tabs')).toBe(0);
  });

  it("the live list on node A shows node B's sessions (socket and HTTP)", async () => {
    const { a } = await sides(user.sessionId);
    const A = cluster.nodes[a];
    const cookie = await login(A.url);
    const res = await fetch(`${A.url}/api/v1/live`, { headers: { cookie } });
    const { sessions } = (await res.json()) as { sessions: LiveSession[] };
    expect(sessions.map((s) => s.sessionId)).toContain(user.sessionId);
    const listener = await rawAgent(A.url, { cookie });
    sockets.push(listener);
    const listed = await new Promise<any>((r) => listener.emit('live:list:subscribe', r));
    expect(listed.ok).toBe(true);
    const mine = (listed.sessions as LiveSession[]).find((s) => s.sessionId === user.sessionId);
    expect(mine?.agents.map((x) => x.name)).toContain('Admin');
  });

  it('a watch link minted on node B opens on node A', async () => {
    const { a, b } = await sides(user.sessionId);
    const B = cluster.nodes[b];
    const A = cluster.nodes[a];
    const cookieB = await login(B.url);
    const key = await fetch(`${B.url}/api/v1/api-keys`, {
      method: 'POST', headers: { cookie: cookieB, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'cluster-e2e' }),
    });
    const { secret } = (await key.json()) as { secret: string };
    const minted = await fetch(`${B.url}/api/v1/visitors/${user.visitorId}/watch_url`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ agent: { id: 'helper-7', name: 'Link Helper' } }),
    });
    expect(minted.status).toBe(200);
    const link = (await minted.json()) as WatchUrlResponse;
    const onA = new URL(new URL(link.watch_url).pathname, A.url).toString();
    const stranger = await (await browser.newContext()).newPage();
    await stranger.goto(onA);
    await waitForLiveState(stranger, 'live', 45_000);
    await waitForStageText(stranger, 'Cluster help page', 45_000);
    await user.page.click('#notes');
    await user.page.keyboard.type(' and the link sees it');
    await waitForStageText(stranger, 'and the link sees it', 30_000);
    await stranger.context().close();
  });

  it('an agent removed through node A can no longer open a live socket on node B, which had just let it in', async () => {
    const [A, B] = cluster.nodes;
    const admin = await login(A.url);
    const who = { email: `removed-${Date.now()}@example.com`, password: 'password-removed-1' };
    const added = await fetch(`${A.url}/api/v1/agents`, {
      method: 'POST', headers: { cookie: admin, 'content-type': 'application/json' }, body: JSON.stringify({ ...who, name: 'Removed Soon' }),
    });
    expect(added.status).toBe(200);
    const { id } = (await added.json()) as { id: string };
    const cookie = await loginOn(B.url, who);
    // Node B checks the agent's record at this handshake and keeps it for a while (agent-records.ts).
    const first = await rawAgent(B.url, { cookie });
    first.disconnect();
    expect((await fetch(`${A.url}/api/v1/agents/${id}`, { method: 'DELETE', headers: { cookie: admin } })).status).toBe(204);
    // Node B heard of the removal through the adapter: it reads storage again and refuses.
    await waitFor('node B refusing the removed agent', async () => {
      const again = await rawAgent(B.url, { cookie }).then((sock) => (sock.disconnect(), 'connected'), (err: { data?: { code?: string } }) => err.data?.code);
      return again === 'unauthorized';
    }, 10_000);
  });

  it('control granted through node A; input from a second agent on node B is refused', async () => {
    const { a, b } = await sides(user.sessionId);
    const A = cluster.nodes[a];
    const B = cluster.nodes[b];
    const holder = await rawAgent(A.url, { cookie: await login(A.url) });
    sockets.push(holder);
    expect((await joinSession(holder, user.sessionId)).ok).toBe(true);
    const asked = requestFeature(holder, user.sessionId, 'control');
    await answerPrompt(user.page, true, 'Admin', 45_000);
    expect((await asked).ok).toBe(true);
    await user.page.locator('[data-tandem-control]').waitFor({ state: 'visible', timeout: 30_000 });
    const box = (await user.page.locator('#inc').boundingBox())!;
    const point = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    holder.emit('control:input', { sessionId: user.sessionId, input: { type: 'click', ...point } });
    await waitFor('the holder\'s click', async () => (await user.page.textContent('#clicks')) === 'Clicked 1 times', 30_000);

    // A second agent, signed in on node B (where the tab is): busy, and its input refused.
    const email = `casey-${Date.now()}@example.com`;
    const added = await fetch(`${B.url}/api/v1/agents`, {
      method: 'POST', headers: { cookie: await login(B.url), 'content-type': 'application/json' },
      body: JSON.stringify({ email, name: 'Casey Other', password: 'second-agent-password', role: 'agent' }),
    });
    expect(added.status).toBe(200);
    const other = await rawAgent(B.url, { cookie: await login(B.url, { email, password: 'second-agent-password' }) });
    sockets.push(other);
    expect((await joinSession(other, user.sessionId)).ok).toBe(true);
    const busy = await requestFeature(other, user.sessionId, 'control');
    expect(busy.ok).toBe(false);
    if (!busy.ok) expect(busy.error.code).toBe('busy');
    const refused = nextRefusal(other);
    other.emit('control:input', { sessionId: user.sessionId, input: { type: 'click', ...point } });
    expect((await refused).code).toBe('forbidden');
    await user.page.waitForTimeout(500);
    expect(await user.page.textContent('#clicks')).toBe('Clicked 1 times');
    // Who holds control is the same whichever node is asked: the room record in Redis names the holder.
    const keys = (await redisCli(Number(new URL(cluster.redisUrl).port), ['KEYS', `tandem:live:room:*:${user.sessionId}`])).split('\n').filter(Boolean);
    const record = JSON.parse(await redisCli(Number(new URL(cluster.redisUrl).port), ['GET', keys[0]]));
    expect(record.control?.agentPeerId).toBe(`agent:${holder.id}`);
    holder.disconnect();
    other.disconnect();
    await user.page.locator('[data-tandem-control]').waitFor({ state: 'detached', timeout: 30_000 });
  });

  it("a call's signals and an annotation stroke cross the nodes: an agent on node A gets the user's offer from node B, and its stroke is drawn on the user's page", async () => {
    const { a } = await sides(user.sessionId);
    const agent = await rawAgent(cluster.nodes[a].url, { cookie: await login(cluster.nodes[a].url) });
    sockets.push(agent);
    expect((await joinSession(agent, user.sessionId)).ok).toBe(true);
    const signals: { from: string; signal: { type?: string; sdp?: string } }[] = [];
    agent.on('rtc:signal', (m: any) => signals.push(m));

    // The call: the user accepts on node B's page, and its plugin (the initiator) sends the offer to the agent on A.
    const call = requestFeature(agent, user.sessionId, 'call');
    await answerPrompt(user.page, true, 'Admin', 45_000);
    expect((await call).ok).toBe(true);
    await waitFor("the user's offer at the agent on node A", async () => signals.some((m) => m.signal.type === 'offer' && /^v=0/.test(m.signal.sdp ?? '')), 30_000);
    agent.emit('assist:end', { sessionId: user.sessionId, feature: 'call' });

    // Drawing: granted through node A, the stroke reaches the plugin on node B's page and is drawn.
    const drawn = async () => ((await rtcState(user.page)).rtc?.strokesDrawn ?? 0);
    const before = await drawn();
    const annotate = requestFeature(agent, user.sessionId, 'annotate');
    await answerPrompt(user.page, true, 'Admin', 45_000);
    expect((await annotate).ok).toBe(true);
    agent.emit('annotate:stroke', { sessionId: user.sessionId, stroke: { id: 'cross-node-1', points: [20, 20, 120, 80, 200, 40], color: '#e11d48', width: 4, done: true } });
    await waitFor('the stroke drawn on the user page', async () => (await drawn()) > before, 30_000);
    agent.emit('assist:end', { sessionId: user.sessionId, feature: 'annotate' });
    agent.disconnect();
  });

  it('a tab whose connection drops and comes back through the other node keeps its watcher, and new joins on the first node reach it', async () => {
    const start = (await (await fetch(`${cluster.url}/ingest/v1/start`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': '10.3.0.1' },
      body: JSON.stringify({ v: PROTOCOL_VERSION, projectKey: PROJECT_KEY, url: 'https://shop.example/moving', title: 'Moving', clientTime: Date.now() }),
    })).json()) as StartResponse;
    const [first, second] = cluster.nodes;
    // A simulated tab straight on one node, then on the other (as a round robin balancer may send it).
    let seq = 0;
    const tabOn = (nodeUrl: string, resume: boolean) => {
      const tab = io(`${nodeUrl}${ASSIST_NAMESPACE}`, {
        transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { 'x-forwarded-for': '10.3.0.1' },
        auth: { role: 'tab', v: PROTOCOL_VERSION, token: start.token, resume, page: { url: 'https://shop.example/moving', title: 'Moving', visible: true, focused: true } },
      });
      sockets.push(tab);
      // On each live:start: a Meta and a (tiny) full snapshot, as the plugin sends.
      tab.on('live:start', () => {
        const now = Date.now();
        tab.emit('live:events', { events: [
          { seq: seq++, type: 4, timestamp: now, data: { href: 'https://shop.example/moving', width: 800, height: 600 } },
          { seq: seq++, type: 2, timestamp: now, data: { node: { type: 0, id: 1, childNodes: [] }, initialOffset: { top: 0, left: 0 } } },
        ] });
      });
      return tab;
    };
    const metas = (got: LiveEventsMessage[]) => got.flatMap((m) => m.events).filter((e) => e.type === 4).length;
    let tab = tabOn(first.url, false);
    await connected(tab);
    const watcher = await rawAgent(first.url, { cookie: await login(first.url) });
    sockets.push(watcher);
    const seen = collect(watcher);
    expect(await joinSession(watcher, start.sessionId)).toMatchObject({ ok: true });
    await waitFor('the first snapshot at the agent', async () => metas(seen) === 1, 30_000);

    tab.disconnect();
    tab = tabOn(second.url, true);
    await connected(tab);
    expect(await cluster.nodeOfSession(start.sessionId)).toBe(1);
    // The watcher on the first node follows the session to the second and gets a fresh snapshot.
    await waitFor('a fresh snapshot after the move', async () => metas(seen) >= 2, 30_000);
    expect(holes(seen)).toEqual([]);
    // A new agent on the first node, within the tab's grace period there, joins it where it is now.
    const late = await rawAgent(first.url, { cookie: await login(first.url) });
    sockets.push(late);
    const lateSeen = collect(late);
    expect(await joinSession(late, start.sessionId)).toMatchObject({ ok: true });
    await waitFor('the late agent streaming', async () => metas(lateSeen) >= 1, 30_000);
    tab.disconnect();
  });

  it('kill -9 of node B: the tab is back through node A and the agent keeps seeing new changes, with no hole', async () => {
    const { a, b } = await sides(user.sessionId);
    const A = cluster.nodes[a];
    const B = cluster.nodes[b];
    const watcher = await rawAgent(A.url, { cookie: await login(A.url) });
    sockets.push(watcher);
    const got = collect(watcher);
    expect((await joinSession(watcher, user.sessionId)).ok).toBe(true);
    await waitFor('a snapshot before the kill', async () => got.some((m) => m.events.some((e) => e.type === 4)), 30_000);
    await user.page.click('#notes');
    await user.page.keyboard.type(' before the crash');
    await waitForStageText(agentView, 'before the crash', 30_000);

    const countAtKill = got.length;
    const killedAt = Date.now();
    await B.backend.stop('SIGKILL');
    try {
      // The tab reconnects through haproxy to A, which claims the session (its home in Redis).
      await waitFor('the session served by node A', async () => (await cluster.nodeOfSession(user.sessionId)) === a, 30_000, 50);
      const backAfterMs = Date.now() - killedAt;
      await waitForAssist(user.page, 'the tab reconnected', (s) => s.connected, 30_000);
      const countBefore = got.length;
      await user.page.click('#notes');
      await user.page.keyboard.type(' after the crash');
      // The dashboard on A and the raw agent on A both see the new change.
      await waitForStageText(agentView, 'after the crash', 30_000);
      await waitFor('a new snapshot and new events after the failover', async () =>
        got.length > countBefore && got.slice(countAtKill).some((m) => m.events.some((e) => e.type === 4)), 30_000);
      expect(holes(got)).toEqual([]);
      // The session is served by A alone now: A's own tab, no cross-node membership left.
      expect(await metric(A.url, 'tandem_live_tabs')).toBeGreaterThanOrEqual(1);
      expect(backAfterMs).toBeLessThan(15_000);
    } finally {
      await B.backend.start();
    }
  });

  it('the connect limit is shared by the nodes, refuses a flood of new sockets during a failover, and lets every resuming tab in', async () => {
    await waitFor('both nodes ready behind haproxy', async () => {
      const states = await Promise.all(cluster.nodes.map((n) => fetch(`${n.url}/readyz`).then((r) => r.ok, () => false)));
      return states.every(Boolean);
    }, 30_000);
    await new Promise((r) => setTimeout(r, 1_500)); // haproxy's `rise 2` at 500 ms
    // 24 simulated tabs (real tokens from /ingest/v1/start), each from its own address, through haproxy.
    const tabs: { socket: Socket; token: string; ip: string; sessionId: string }[] = [];
    for (let i = 0; i < 24; i++) {
      const ip = `10.1.${i}.1`;
      const res = await fetch(`${cluster.url}/ingest/v1/start`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
        body: JSON.stringify({ v: PROTOCOL_VERSION, projectKey: PROJECT_KEY, url: `https://shop.example/cart/${i}`, title: 'Cart', clientTime: Date.now() }),
      });
      expect(res.status).toBe(200);
      const start = (await res.json()) as StartResponse;
      const socket = tabSocket(cluster.url, start.token, ip, false);
      sockets.push(socket);
      tabs.push({ socket, token: start.token, ip, sessionId: start.sessionId });
    }
    await Promise.all(tabs.map((t) => connected(t.socket)));
    // The flood is brand-new tabs of one more session, all from one address.
    const flooder = (await (await fetch(`${cluster.url}/ingest/v1/start`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': '10.2.0.1' },
      body: JSON.stringify({ v: PROTOCOL_VERSION, projectKey: PROJECT_KEY, url: 'https://shop.example/flood', clientTime: Date.now() }),
    })).json()) as StartResponse;

    // The budget is one for the cluster: 80 new sockets from one address, round robin over both
    // nodes, get the one burst (50), not one per node.
    const burstStart = Date.now();
    const burst = await Promise.all(Array.from({ length: 80 }, () => tryConnect(cluster.url, flooder.token, '10.9.9.9', false, sockets)));
    // Burst 50, refilled at 5/s while the 80 attempts were handled (two budgets would admit all 80).
    const burstEnd = Date.now();
    const allowed = 50 + Math.ceil((5 * (burstEnd - burstStart)) / 1000) + 1;
    const admitted = burst.filter((r) => r === 'ok').length;
    expect(admitted).toBeGreaterThanOrEqual(45);
    expect(admitted).toBeLessThanOrEqual(Math.min(allowed, 70));
    expect(burst.filter((r) => r === 'rate_limited').length).toBe(80 - admitted);

    // Kill the node serving the first tab; its tabs come back with `resume` from the SAME exhausted
    // address while a flood of new sockets from there is refused.
    const victim = await cluster.nodeOfSession(tabs[0].sessionId);
    const orphans: typeof tabs = [];
    for (const t of tabs) if ((await cluster.nodeOfSession(t.sessionId)) === victim) orphans.push(t);
    expect(orphans.length).toBeGreaterThan(0);
    // Finding the victim's tabs takes seconds on a loaded machine, in which the bucket refills (5/s): empty
    // it again right before the kill, or a slow run has nothing left to refuse (at load 30 it refilled 146).
    // Emptied once a burst sees refusals (the bucket may hold up to 50, plus what refills meanwhile).
    for (let i = 0; i < 10; i++) {
      const r = await Promise.all(Array.from({ length: 40 }, () => tryConnect(cluster.url, flooder.token, '10.9.9.9', false, sockets)));
      if (r.filter((x) => x === 'rate_limited').length >= 5) break;
    }
    const emptiedAt = Date.now();
    const killedAt = Date.now();
    await cluster.nodes[victim].backend.stop('SIGKILL');
    try {
      const flood = Promise.all(Array.from({ length: 60 }, () => tryConnect(cluster.url, flooder.token, '10.9.9.9', false, sockets)));
      const back = await Promise.all(orphans.map(async (t) => {
        for (;;) {
          const r = await tryConnect(cluster.url, t.token, '10.9.9.9', true, sockets);
          if (r === 'ok') return Date.now() - killedAt;
          if (r === 'rate_limited') return -1;
          if (Date.now() - killedAt > 20_000) return -2;
          await new Promise((res) => setTimeout(res, 200));
        }
      }));
      // None refused (resuming skips the limit the flood exhausts) and none lost. How fast is the
      // failover bench's figure (target 10 s); here only a generous bound for a loaded CI machine.
      expect(back.filter((ms) => ms < 0)).toEqual([]);
      expect(Math.max(...back)).toBeLessThan(20_000);
      const flooded = await flood;
      // The address's bucket was emptied just before the kill: only what refilled since (5/s) gets in.
      const refilled = Math.ceil((5 * (Date.now() - emptiedAt)) / 1000) + 1;
      const floodAdmitted = flooded.filter((r) => r === 'ok').length;
      expect(floodAdmitted).toBeLessThanOrEqual(refilled);
      // And the rest is refused: at least 10 when the failover was quick; on a loaded machine a slow
      // failover lets the bucket refill more, so fewer are left to refuse (never none).
      const refused = flooded.filter((r) => r === 'rate_limited').length;
      expect(refused, JSON.stringify({ refilled, results: countResults(flooded) })).toBeGreaterThanOrEqual(Math.max(1, Math.min(10, 60 - refilled - 5)));
    } finally {
      await cluster.nodes[victim].backend.start();
    }
  });

  it('SIGTERM drains a node: its tab moves to the other node before the process exits', async () => {
    await waitFor('both nodes ready', async () => {
      const states = await Promise.all(cluster.nodes.map((n) => fetch(`${n.url}/readyz`).then((r) => r.ok, () => false)));
      return states.every(Boolean);
    }, 30_000);
    await new Promise((r) => setTimeout(r, 1_500));
    const home = await cluster.nodeOfSession(user.sessionId);
    const other = home === 0 ? 1 : 0;
    const watcher = await rawAgent(cluster.nodes[other].url, { cookie: await login(cluster.nodes[other].url) });
    sockets.push(watcher);
    const got = collect(watcher);
    expect((await joinSession(watcher, user.sessionId)).ok).toBe(true);
    await waitFor('a snapshot', async () => got.some((m) => m.events.some((e) => e.type === 4)), 30_000);

    let movedAt = 0;
    const redisPort = Number(new URL(cluster.redisUrl).port);
    const poll = (async () => {
      const deadline = Date.now() + 20_000;
      while (!movedAt && Date.now() < deadline) {
        const keys = (await redisCli(redisPort, ['KEYS', `tandem:live:home:*:${user.sessionId}`])).split('\n').filter(Boolean);
        const node = keys.length ? (await redisCli(redisPort, ['GET', keys[0]])).trim() : '';
        if (node === `node-${cluster.nodes[other].name}`) movedAt = Date.now();
        else await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await cluster.nodes[home].backend.stop('SIGTERM');
    const exitedAt = Date.now();
    await poll;
    expect(movedAt).toBeGreaterThan(0);
    expect(movedAt, `moved ${movedAt - exitedAt} ms after the exit; the node's log: ${cluster.nodes[home].backend.output.slice(-1500)}`).toBeLessThanOrEqual(exitedAt);
    expect(cluster.nodes[home].backend.output).not.toMatch(/Error|panic/i);
    const countBefore = got.length;
    await user.page.click('#notes');
    await user.page.keyboard.type(' after the drain');
    await waitFor('events after the drain', async () => got.length > countBefore, 30_000);
    expect(holes(got)).toEqual([]);
  });
});

