import { expect } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import {
  ASSIST_NAMESPACE, PROTOCOL_VERSION, type AssistFeature, type JoinResult, type LiveEventsMessage, type PendingRequest, type StartResponse,
} from '@tandem/protocol';
import { PROJECT_KEY } from './backend-process.js';
import { waitFor } from './browser.js';
import { loginOn, type Cluster } from './cluster.js';
import { joinSession, rawAgent, requestFeature, type AgentSocket } from './assist.js';

/**
 * Simulated tabs and raw agents placed on chosen nodes of a test cluster (a round robin balancer may put
 * a user's two tabs on two nodes; the cluster tests force it by connecting straight to each node).
 */
export interface Tab {
  socket: Socket;
  tabId: string;
  seq: number;
  starts: { reason: string }[];
  requests: PendingRequest[];
  inputs: unknown[];
  /** Sends `count` events from the next seq; a Meta (with this tab's href) + FullSnapshot first when `meta`. */
  send(count: number, meta: boolean, padBytes?: number): void;
}

export function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.connected) return resolve();
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
}

export function collect(socket: AgentSocket): LiveEventsMessage[] {
  const got: LiveEventsMessage[] = [];
  socket.on('live:events', (m) => got.push(m));
  return got;
}

/** Checks the stream an agent received: from each Meta (type 4) on, seqs are consecutive. */
export function holes(messages: LiveEventsMessage[]): string[] {
  const problems: string[] = [];
  let last = -1;
  for (const m of messages) {
    const first = m.events[0];
    if (first.type !== 4 && last >= 0 && first.seq !== last + 1) problems.push(`${last} → ${first.seq}`);
    for (let i = 1; i < m.events.length; i++) if (m.events[i].seq !== m.events[i - 1].seq + 1) problems.push(`inside: ${m.events[i - 1].seq} → ${m.events[i].seq}`);
    last = m.events[m.events.length - 1].seq;
  }
  return problems;
}

export const hrefsOf = (got: LiveEventsMessage[], tabId: string) =>
  got.filter((m) => m.tabId === tabId).flatMap((m) => m.events).filter((e) => e.type === 4).map((e) => (e.data as { href: string }).href);

/** Joins until the session shows `tabs` tabs (a tab on another node is known there a moment later); leaves a join that saw fewer. */
export function joinSeeingTabs(agent: AgentSocket, sessionId: string, tabs: number): Promise<JoinResult> {
  return waitFor(`a join that sees ${tabs === 2 ? 'both' : tabs} tabs`, async () => {
    const r = await joinSession(agent, sessionId);
    if (r.ok && r.session.tabs.length === tabs) return r;
    if (r.ok) agent.emit('live:leave', { sessionId });
    return null;
  }, 30_000, 200) as Promise<JoinResult>;
}

/** Every socket opened through the kit is kept here, for the test file's afterAll to disconnect. */
export function clusterTabs(cluster: () => Cluster, sockets: Socket[]) {
  async function start(ip: string, path: string, session?: { sessionId: string; visitorId: string }): Promise<StartResponse> {
    const res = await fetch(`${cluster().url}/ingest/v1/start`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
      body: JSON.stringify({ v: PROTOCOL_VERSION, projectKey: PROJECT_KEY, url: `https://shop.example${path}`, title: path, clientTime: Date.now(), ...session }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as StartResponse;
  }

  /** A simulated tab on one node: on each live:start it sends a Meta naming its page and a tiny snapshot, as the plugin does. */
  function tabOn(nodeUrl: string, s: StartResponse, ip: string, path: string): Tab {
    const socket = io(`${nodeUrl}${ASSIST_NAMESPACE}`, {
      transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { 'x-forwarded-for': ip },
      auth: { role: 'tab', v: PROTOCOL_VERSION, token: s.token, page: { url: `https://shop.example${path}`, title: path, visible: true, focused: true } },
    });
    sockets.push(socket);
    const tab: Tab = {
      socket, tabId: s.tabId, seq: 0, starts: [], requests: [], inputs: [],
      send(count, meta, padBytes = 0) {
        const now = Date.now();
        const events = Array.from({ length: count }, (_, i) => {
          const seq = tab.seq++;
          if (meta && i === 0) return { seq, type: 4, timestamp: now, data: { href: `https://shop.example${path}`, width: 800, height: 600 } };
          if (meta && i === 1) return { seq, type: 2, timestamp: now, data: { node: { type: 0, id: 1, childNodes: [] }, initialOffset: { top: 0, left: 0 } } };
          return { seq, type: 5, timestamp: now, data: { tag: 'pad', payload: 'x'.repeat(padBytes) } };
        });
        socket.emit('live:events', { events });
      },
    };
    socket.on('live:start', (info: { reason: string }) => {
      tab.starts.push(info);
      tab.send(2, true);
    });
    socket.on('assist:request', (req: PendingRequest) => tab.requests.push(req));
    socket.on('control:input', (m: unknown) => tab.inputs.push(m));
    return tab;
  }

  /** A raw agent signed in on `nodeUrl` (its cookie returned for HTTP calls through the same node). */
  async function agentOn(nodeUrl: string): Promise<{ agent: AgentSocket; cookie: string }> {
    const cookie = await loginOn(nodeUrl);
    const agent = await rawAgent(nodeUrl, { cookie });
    sockets.push(agent);
    return { agent, cookie };
  }

  /** A one-tab session served by node B (the tab's socket is there), and a raw agent signed in on node A. */
  async function tabOnBAgentOnA(ip: string, path: string) {
    const [A, B] = cluster().nodes;
    const s = await start(ip, path);
    const tab = tabOn(B.url, s, ip, path);
    await connected(tab.socket);
    expect(await cluster().nodeOfSession(s.sessionId)).toBe(1);
    return { s, tab, ...(await agentOn(A.url)) };
  }

  /**
   * One session spread over the two nodes, tab 1 on A then tab 2 on B (so B serves it and hosts tab 1),
   * and an agent on A watching tab 1 from its first snapshot.
   */
  async function spreadAndWatch(ip: string, path1: string, path2: string) {
    const [A, B] = cluster().nodes;
    const first = await start(ip, path1);
    const second = await start(ip, path2, { sessionId: first.sessionId, visitorId: first.visitorId });
    const one = tabOn(A.url, first, ip, path1);
    await connected(one.socket);
    await waitFor('node A serving the session', async () => (await cluster().nodeOfSession(first.sessionId)) === 0, 30_000, 50);
    const two = tabOn(B.url, second, ip, path2);
    await connected(two.socket);
    await waitFor('node B serving the session', async () => (await cluster().nodeOfSession(first.sessionId)) === 1, 30_000, 50);
    const { agent } = await agentOn(A.url);
    const got = collect(agent);
    await joinSeeingTabs(agent, first.sessionId, 2);
    expect(await new Promise<any>((r) => agent.emit('live:watch-tab', { sessionId: first.sessionId, tabId: first.tabId }, r))).toMatchObject({ ok: true });
    await waitFor('tab 1 snapshot', async () => hrefsOf(got, first.tabId).length >= 1, 30_000);
    return { first, one, two, agent, got };
  }

  /** The agent asks for each feature in turn; the tab accepts each prompt. */
  async function grant(agent: AgentSocket, tab: Tab, sessionId: string, features: AssistFeature[]): Promise<void> {
    for (const feature of features) {
      const asked = requestFeature(agent, sessionId, feature);
      const req = await waitFor(`the ${feature} request at the tab`, async () => tab.requests.find((r) => r.feature === feature), 30_000);
      tab.socket.emit('assist:answer', { requestId: req.requestId, accepted: true });
      expect((await asked).ok).toBe(true);
    }
  }

  return { start, tabOn, agentOn, tabOnBAgentOnA, spreadAndWatch, grant };
}
