import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { ASSIST_NAMESPACE, PROTOCOL_VERSION, type LiveEventsMessage, type PendingRequest, type StartResponse } from '@tandem/protocol';
import { PROJECT_KEY } from './support/backend-process.js';
import { waitFor } from './support/browser.js';
import { loginOn, startCluster, type Cluster } from './support/cluster.js';
import { joinSession, rawAgent, requestFeature } from './support/assist.js';
import { joinSeeingTabs } from './support/cluster-tabs.js';

/**
 * Issue 9: messages between nodes go to the node that needs them (live/cluster-bus.ts,
 * cluster-relay.ts). Three nodes; a tab on C, watched by an agent on A; B has no part in the room and
 * must hear none of its traffic: not the agent's messages for the home (resync, tab switch, control),
 * not the home's answers and emits, not the live batches. Measured with each node's count of the
 * pub/sub messages its Redis subscriber hears (`tandem_cluster_messages_received_total`), by channel.
 */
let cluster: Cluster;
const sockets: Socket[] = [];

beforeAll(async () => {
  cluster = await startCluster({ nodes: 3 });
}, 240_000);

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await cluster?.close();
}, 60_000);


/** Messages from other nodes this node heard, by channel (node: addressed to it; shared: heard by every node). */
async function heard(nodeUrl: string): Promise<{ node: number; shared: number }> {
  const text = await fetch(`${nodeUrl}/metrics`).then((r) => r.text());
  const read = (channel: string) => {
    const m = new RegExp(`^tandem_cluster_messages_received_total\\{channel="${channel}"\\} (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  };
  return { node: read('node'), shared: read('shared') };
}

describe('three nodes: a room is heard only by the nodes that have a part in it', { timeout: 240_000 }, () => {
  it('a tab on node C watched from node A works, and node B hears none of the room\'s traffic', async () => {
    const [A, B, C] = cluster.nodes;
    const ip = '10.9.0.1';
    const res = await fetch(`${cluster.url}/ingest/v1/start`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
      body: JSON.stringify({ v: PROTOCOL_VERSION, projectKey: PROJECT_KEY, url: 'https://shop.example/c', title: 'c', clientTime: Date.now() }),
    });
    expect(res.status).toBe(200);
    const s = (await res.json()) as StartResponse;

    // The tab's socket straight to node C (as a balancer could have put it there).
    const tab = io(`${C.url}${ASSIST_NAMESPACE}`, {
      transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { 'x-forwarded-for': ip },
      auth: { role: 'tab', v: PROTOCOL_VERSION, token: s.token, page: { url: 'https://shop.example/c', title: 'c', visible: true, focused: true } },
    });
    sockets.push(tab);
    let seq = 0;
    const send = (count: number, snapshot: boolean) => {
      const now = Date.now();
      tab.emit('live:events', {
        events: Array.from({ length: count }, (_, i) => {
          const n = seq++;
          if (snapshot && i === 0) return { seq: n, type: 4, timestamp: now, data: { href: 'https://shop.example/c', width: 800, height: 600 } };
          if (snapshot && i === 1) return { seq: n, type: 2, timestamp: now, data: { node: { type: 0, id: 1, childNodes: [] }, initialOffset: { top: 0, left: 0 } } };
          return { seq: n, type: 5, timestamp: now, data: { tag: 'pad', payload: 'x'.repeat(200) } };
        }),
      });
    };
    let starts = 0;
    const requests: PendingRequest[] = [];
    const inputs: unknown[] = [];
    tab.on('live:start', () => {
      starts++;
      send(2, true);
    });
    tab.on('assist:request', (r: PendingRequest) => requests.push(r));
    tab.on('control:input', (m: unknown) => inputs.push(m));
    await new Promise<void>((resolve, reject) => {
      tab.once('connect', () => resolve());
      tab.once('connect_error', reject);
    });
    await waitFor('node C serving the session', async () => (await cluster.nodeOfSession(s.sessionId)) === 2, 30_000, 50);

    // An agent on node A joins and watches it.
    const agent = await rawAgent(A.url, { cookie: await loginOn(A.url) });
    sockets.push(agent);
    const got: LiveEventsMessage[] = [];
    agent.on('live:events', (m) => got.push(m));
    const joined = await waitFor('the join through node A', async () => {
      const r = await joinSession(agent, s.sessionId);
      return r.ok ? r : null;
    }, 30_000, 200);
    expect(joined.tabId).toBe(s.tabId);
    await waitFor('the first snapshot at the agent', async () => got.some((m) => m.events.some((e) => e.type === 2)), 30_000);
    // Settled: what the join itself announced to everyone (the live list) is over.
    await new Promise((r) => setTimeout(r, 1_500));
    const before = await Promise.all([A, B, C].map((n) => heard(n.url)));

    // The room's traffic: live batches, resyncs (each a new snapshot), tab switches, a control grant and clicks.
    const RESYNCS = 10;
    for (let i = 0; i < RESYNCS; i++) {
      // One at a time: a snapshot already asked for is not asked for again until it arrives.
      const startsBefore = starts;
      agent.emit('live:resync', { sessionId: s.sessionId, tabId: s.tabId, reason: 'manual' });
      await waitFor('the resync answered with a snapshot', async () => starts > startsBefore, 30_000, 20);
      const watch = await new Promise<any>((r) => agent.emit('live:watch-tab', { sessionId: s.sessionId, tabId: s.tabId }, r));
      expect(watch).toEqual({ ok: true, tabId: s.tabId });
    }
    const BATCHES = 100;
    for (let i = 0; i < BATCHES; i++) send(3, false);
    const last = seq - 1;
    await waitFor('the last batch at the agent', async () => got.some((m) => m.events.some((e) => e.seq === last)), 30_000);
    const asked = requestFeature(agent, s.sessionId, 'control');
    const req = await waitFor('the control request at the tab', async () => requests.find((r) => r.feature === 'control'), 30_000);
    tab.emit('assist:answer', { requestId: req.requestId, accepted: true });
    expect((await asked).ok).toBe(true);
    for (let i = 0; i < 5; i++) agent.emit('control:input', { sessionId: s.sessionId, input: { type: 'click', x: 10 + i, y: 20 } });
    await waitFor('the clicks at the tab', async () => inputs.length >= 5, 30_000);
    expect(inputs[4]).toMatchObject({ input: { type: 'click', x: 14, y: 20 } });
    // In order, no hole, from the last snapshot on.
    const seqs = got.flatMap((m) => m.events.map((e) => e.seq));
    const tail = seqs.slice(seqs.lastIndexOf(last - 3 * BATCHES + 1));
    expect(tail).toEqual(Array.from({ length: 3 * BATCHES }, (_, i) => last - 3 * BATCHES + 1 + i));

    const after = await Promise.all([A, B, C].map((n) => heard(n.url)));
    const [dA, dB, dC] = after.map((a, i) => ({ node: a.node - before[i].node, shared: a.shared - before[i].shared }));
    // A heard the batches (one message per batch and edge) and the home's answers, on its own channel.
    expect(dA.node).toBeGreaterThanOrEqual(BATCHES);
    // C heard the agent's messages on its own channel (10 resyncs, 10 tab switches, the request, 5 clicks).
    expect(dC.node).toBeGreaterThanOrEqual(2 * RESYNCS + 6);
    // B: nothing addressed to it, and at most a stray list announcement (heard by every node on purpose).
    // Before messages were addressed, B heard every one of the ~30 agent messages and the home's emits.
    expect(dB.node).toBe(0);
    expect(dB.shared).toBeLessThanOrEqual(2);
    console.log(`[cluster-3-nodes] heard during the room's traffic: A ${JSON.stringify(dA)}, B ${JSON.stringify(dB)}, C ${JSON.stringify(dC)}`);
  });

  it('a home left with only hosted tabs hands the session to a node that still has a tab; the agent watching keeps watching', async () => {
    const [A, B, C] = cluster.nodes;
    const ip = '10.9.0.2';
    const startTab = async (path: string, session?: { sessionId: string; visitorId: string }) => {
      const res = await fetch(`${cluster.url}/ingest/v1/start`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
        body: JSON.stringify({ v: PROTOCOL_VERSION, projectKey: PROJECT_KEY, url: `https://shop.example${path}`, title: path, clientTime: Date.now(), ...session }),
      });
      expect(res.status).toBe(200);
      return (await res.json()) as StartResponse;
    };
    const tabOn = async (nodeUrl: string, st: StartResponse, path: string) => {
      const socket = io(`${nodeUrl}${ASSIST_NAMESPACE}`, {
        transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { 'x-forwarded-for': ip },
        auth: { role: 'tab', v: PROTOCOL_VERSION, token: st.token, page: { url: `https://shop.example${path}`, title: path, visible: true, focused: true } },
      });
      sockets.push(socket);
      const tab = { socket, seq: 0, starts: 0, send(count: number) {
        const now = Date.now();
        socket.emit('live:events', { events: Array.from({ length: count }, () => ({ seq: tab.seq++, type: 5, timestamp: now, data: { tag: 'pad', payload: 'x' } })) });
      } };
      socket.on('live:start', () => {
        tab.starts++;
        const now = Date.now();
        socket.emit('live:events', { events: [
          { seq: tab.seq++, type: 4, timestamp: now, data: { href: `https://shop.example${path}`, width: 800, height: 600 } },
          { seq: tab.seq++, type: 2, timestamp: now, data: { node: { type: 0, id: 1, childNodes: [] }, initialOffset: { top: 0, left: 0 } } },
        ] });
      });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      return tab;
    };
    // Tab 1 on A, then tab 2 on B: B serves the session and hosts tab 1.
    const first = await startTab('/one');
    const second = await startTab('/two', { sessionId: first.sessionId, visitorId: first.visitorId });
    const one = await tabOn(A.url, first, '/one');
    await waitFor('node A serving the session', async () => (await cluster.nodeOfSession(first.sessionId)) === 0, 30_000, 50);
    const two = await tabOn(B.url, second, '/two');
    await waitFor('node B serving the session', async () => (await cluster.nodeOfSession(first.sessionId)) === 1, 30_000, 50);

    // An agent on C watches tab 1.
    const agent = await rawAgent(C.url, { cookie: await loginOn(C.url) });
    sockets.push(agent);
    const got: LiveEventsMessage[] = [];
    agent.on('live:events', (m) => got.push(m));
    await joinSeeingTabs(agent, first.sessionId, 2);
    expect(await new Promise<any>((r) => agent.emit('live:watch-tab', { sessionId: first.sessionId, tabId: first.tabId }, r))).toMatchObject({ ok: true });
    const snapshots = () => got.filter((m) => m.tabId === first.tabId && m.events.some((e) => e.type === 2)).length;
    await waitFor('tab 1 snapshot at the agent', async () => snapshots() >= 1, 30_000);
    const startsBefore = one.starts;
    const snapshotsBefore = snapshots();

    // Tab 2 closes: B has only tab 1, hosted for A; A serves the session now, and the agent on C
    // restarts from a fresh snapshot of tab 1 and sees its new events.
    two.socket.emit('tab:leave');
    two.socket.disconnect();
    await waitFor('node A serving the session again', async () => (await cluster.nodeOfSession(first.sessionId)) === 0, 30_000, 50);
    await waitFor('a fresh snapshot of tab 1 at the agent', async () => one.starts > startsBefore && snapshots() > snapshotsBefore, 30_000);
    const from = one.seq;
    one.send(5);
    await waitFor('tab 1 events at the agent', async () => got.some((m) => m.events.some((e) => e.seq === from + 4)), 30_000);
    const seqs = got.filter((m) => m.tabId === first.tabId).flatMap((m) => m.events.map((e) => e.seq));
    expect(seqs.slice(seqs.lastIndexOf(from))).toEqual([from, from + 1, from + 2, from + 3, from + 4]);
    // B no longer holds the room: its count of live sessions is back to none.
    const bMetrics = await fetch(`${B.url}/metrics`).then((r) => r.text());
    expect(/^tandem_live_sessions (\S+)$/m.exec(bMetrics)?.[1]).toBe('0');
  });
});
