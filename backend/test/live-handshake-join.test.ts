import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { io } from 'socket.io-client';
import { ASSIST_NAMESPACE, ASSIST_SOCKET_PATH, PROTOCOL_VERSION, type TandemEvent } from '@tandem/protocol';
import { login, startTab, startTestServer, type TestServer } from './helpers.js';
import { CHROME_UA, PAGE, connected, freshIp, record, tabSocket, waitFor, type Client } from './live-helpers.js';

// An agent socket whose handshake carries `join` (AgentHandshake.join: a live view opened in a new tab).
let server: TestServer;
let cookie: string;

beforeAll(async () => {
  server = await startTestServer({ startRateLimit: { perSecond: 1000, burst: 1000 } });
  cookie = await login(server);
}, 60_000); // a chDB server's start, on a loaded machine
afterAll(async () => server?.dispose());

const open: Client[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

/** The first `name` message recorded, once there is one. */
const first = (rec: ReturnType<typeof record>, name: string): Promise<any> => waitFor(() => rec.of(name)[0], 3_000, name);

function agentJoining(join: unknown): Client {
  const sock = io(server.url + ASSIST_NAMESPACE, {
    path: ASSIST_SOCKET_PATH,
    transports: ['websocket'],
    auth: { role: 'agent', v: PROTOCOL_VERSION, join },
    extraHeaders: { 'x-forwarded-for': freshIp(), 'user-agent': CHROME_UA, cookie },
    reconnection: false,
    forceNew: true,
  }) as Client;
  open.push(sock);
  return sock;
}

const snapshot = (): TandemEvent[] => [
  { seq: 0, type: 4, timestamp: Date.now(), data: { href: PAGE.url, width: 1280, height: 720 } },
  { seq: 1, type: 2, timestamp: Date.now(), data: { node: { type: 0, childNodes: [], id: 1 }, initialOffset: { top: 0, left: 0 } } },
] as unknown as TandemEvent[];

describe('join in the agent handshake', () => {
  it('joins as the socket is accepted: live:joined has the session, the tab is started and its snapshot flows', async () => {
    const tab = await startTab(server);
    const tabSock = tabSocket(server, tab);
    open.push(tabSock);
    const tabRec = record(tabSock, ['live:start']);
    await connected(tabSock);
    const agent = agentJoining({ sessionId: tab.sessionId });
    const rec = record(agent, ['live:joined', 'live:events']);
    await connected(agent);
    const joined = await first(rec, 'live:joined');
    expect(joined).toMatchObject({ sessionId: tab.sessionId, result: { ok: true, tabId: tab.tabId } });
    expect(joined.result.session.agents).toEqual([{ id: expect.any(String), name: 'Admin', via: 'login' }]);
    await waitFor(() => tabRec.of('live:start').length === 1, 3_000, 'live:start');
    expect(tabRec.of('live:start')).toEqual([{ reason: 'join' }]);
    tabSock.emit('live:events', { events: snapshot() });
    const batch = await first(rec, 'live:events');
    expect(batch.events.map((e: TandemEvent) => e.seq)).toEqual([0, 1]);
  });

  it('answers a join it cannot make with the same errors as live:join', async () => {
    const notLive = agentJoining({ sessionId: 'no-such-session-1234' });
    const a = record(notLive, ['live:joined']);
    await connected(notLive);
    const r1 = await first(a, 'live:joined');
    expect(r1).toEqual({ sessionId: 'no-such-session-1234', result: { ok: false, error: { code: 'not_found', message: expect.any(String) } } });

    const malformed = agentJoining({ sessionId: 42 });
    const b = record(malformed, ['live:joined']);
    await connected(malformed);
    const r2 = await first(b, 'live:joined');
    expect(r2.result).toEqual({ ok: false, error: { code: 'bad_request', message: expect.any(String) } });
  });
});
