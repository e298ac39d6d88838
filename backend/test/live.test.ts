import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { CAPABILITIES, type JoinResult, type LiveSession, type StartResponse, type TandemEvent } from '@tandem/protocol';
import { TokenSigner } from '../src/auth/tokens.js';
import { hashPassword } from '../src/auth/password.js';
import { SECRET, getJson, login, postJson, startBody, startTab, startTestServer, type TestServer } from './helpers.js';
import {
  PAGE, agentSocket, call, connected, freshIp, record, refusal, sleep, tabSocket, waitFor, type Client,
} from './live-helpers.js';

// One server for the file (chDB: one data directory per process). A short grace period so the
// "session gone" path is tested in real time; a tiny per-IP connect limit (tests use a fresh
// X-Forwarded-For address per socket unless they test the limit).
const GRACE_MS = 700;
let server: TestServer;
let cookie: string;
const signer = new TokenSigner(SECRET);

beforeAll(async () => {
  server = await startTestServer({
    liveGraceMs: GRACE_MS,
    liveConnectRateLimit: { perSecond: 0.01, burst: 5 },
    startRateLimit: { perSecond: 1000, burst: 1000 },
    loginRateLimit: { perSecond: 100, burst: 100 },
    liveAgentRecheckMs: 200,
  });
  cookie = await login(server);
});
afterAll(async () => server?.dispose());

const open: Client[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});
const track = (s: Client) => (open.push(s), s);

const TAB_EVENTS = ['live:start', 'live:stop', 'agents', 'consent:request'];
const AGENT_EVENTS = ['live:events', 'live:session', 'live:ended', 'live:list'];

/** Events of a forwarding run: a Meta and a FullSnapshot at `from`, then incremental ones. */
function run(from: number, count: number, withMeta = true): TandemEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const seq = from + i;
    const timestamp = Date.now();
    if (withMeta && i === 0) return { seq, type: 4, timestamp, data: { href: PAGE.url, width: 1280, height: 720 } };
    if (withMeta && i === 1) return { seq, type: 2, timestamp, data: { node: { type: 0, childNodes: [], id: 1 }, initialOffset: { top: 0, left: 0 } } };
    return { seq, type: 3, timestamp, data: { source: 0, texts: [], attributes: [{ id: 1, attributes: { 'data-i': String(seq) } }], removes: [], adds: [] } };
  }) as unknown as TandemEvent[];
}

async function liveTab(opts: Parameters<typeof tabSocket>[2] & { start?: StartResponse; server?: TestServer; projectKey?: string } = {}) {
  const srv = opts.server ?? server;
  const tab = opts.start ?? (opts.projectKey
    ? ((await postJson(`${srv.url}/ingest/v1/start`, startBody(opts.projectKey))).json as StartResponse)
    : await startTab(srv));
  const sock = track(tabSocket(srv, tab, opts));
  const rec = record(sock, TAB_EVENTS);
  await connected(sock);
  return { tab, sock, rec };
}

async function agent(auth: { cookie?: string; watchToken?: string } = { cookie }) {
  const sock = track(agentSocket(server, auth));
  const rec = record(sock, AGENT_EVENTS);
  await connected(sock);
  return { sock, rec };
}

const join = (sock: Client, sessionId: string, tabId?: string) =>
  call<{ ok: true } & JoinResult | { ok: false; error: { code: string; message: string } }>(sock, 'live:join', { sessionId, ...(tabId ? { tabId } : {}) });

function seqsOf(batches: { events: TandemEvent[] }[]): number[] {
  return batches.flatMap((b) => b.events.map((e) => e.seq));
}

describe('tabs and agents in a room', () => {
  it('a tab connects and nothing flows to or from it until an agent joins', async () => {
    const { tab, sock, rec } = await liveTab();
    const a = await agent();
    await sleep(150);
    expect(rec.of('live:start')).toEqual([]);
    sock.emit('live:events', { events: run(0, 3) });
    await sleep(100);
    expect(a.rec.of('live:events')).toEqual([]);
    // It is listed, with its page, browser and OS from the User-Agent header.
    const list = await getJson(`${server.url}/api/v1/live`, cookie);
    const s: LiveSession = list.json.sessions.find((x: LiveSession) => x.sessionId === tab.sessionId);
    expect(s).toMatchObject({ visitorId: tab.visitorId, activeTabId: tab.tabId, agents: [], browser: 'Chrome', os: 'Linux', awaitingConsent: false });
    expect(s.tabs).toEqual([expect.objectContaining({ tabId: tab.tabId, url: PAGE.url, title: 'Shop', focused: true, watchers: [], clockOffsetMs: 0 })]);
  });

  it('an agent joins: the tab gets live:start {join} and the banner list; the ack has the session', async () => {
    const { tab, rec } = await liveTab();
    const a = await agent();
    const r = await join(a.sock, tab.sessionId);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.tabId).toBe(tab.tabId);
    expect(r.capabilities).toEqual([...CAPABILITIES]);
    expect(Math.abs(r.serverTime - Date.now())).toBeLessThan(5_000);
    expect(r.session.agents).toEqual([{ id: expect.any(String), name: 'Admin', via: 'login' }]);
    expect(r.session.tabs[0].watchers).toEqual([r.session.agents[0].id]);
    await waitFor(() => rec.of('live:start').length === 1, 2_000, 'live:start');
    expect(rec.of('live:start')).toEqual([{ reason: 'join' }]);
    expect(rec.of('agents').at(-1)).toEqual(r.session.agents);
    // The session started when its stored row says (looked up in the background after the first
    // connect): the ack has it if the lookup landed first, else a live:session brings it.
    const stored = await server.store.getSession(server.projectId, tab.sessionId);
    expect(stored).not.toBeNull();
    await waitFor(() => r.session.startedAt === stored!.startedAt ||
      a.rec.of('live:session').some((x: LiveSession) => x.startedAt === stored!.startedAt), 3_000, 'stored startedAt');
  });

  it('relays in order to two agents; a late joiner gets the stream from the next Meta on', async () => {
    const { tab, sock, rec } = await liveTab();
    const a = await agent();
    const b = await agent();
    expect((await join(a.sock, tab.sessionId)).ok).toBe(true);
    await waitFor(() => rec.of('live:start').length === 1);
    sock.emit('live:events', { events: run(0, 10) });
    sock.emit('live:events', { events: run(10, 10, false) });
    await waitFor(() => a.rec.of('live:events').length === 2, 2_000, 'A gets 2 batches');
    expect((await join(b.sock, tab.sessionId)).ok).toBe(true);
    await waitFor(() => rec.of('live:start').length === 2, 2_000, 'second live:start');
    expect(rec.of('live:start')[1]).toEqual({ reason: 'join' });
    sock.emit('live:events', { events: run(20, 5, false) }); // before the new snapshot: not for B
    sock.emit('live:events', { events: [...run(25, 1, false), ...run(26, 4)] }); // the snapshot, mid-batch
    await waitFor(() => a.rec.of('live:events').length === 4, 2_000, 'A gets 4 batches');
    await waitFor(() => b.rec.of('live:events').length === 1, 2_000, 'B gets 1 batch');
    expect(seqsOf(a.rec.of('live:events'))).toEqual([...Array(30).keys()]);
    const bBatch = b.rec.of('live:events')[0];
    expect(bBatch).toMatchObject({ sessionId: tab.sessionId, tabId: tab.tabId });
    expect(bBatch.events.map((e: TandemEvent) => e.seq)).toEqual([26, 27, 28, 29]);
    expect(bBatch.events[0].type).toBe(4);
  });

  it('the last agent to leave stops the tab; an unwatched tab is not relayed', async () => {
    const { tab, sock, rec } = await liveTab();
    const a = await agent();
    const b = await agent();
    await join(a.sock, tab.sessionId);
    await join(b.sock, tab.sessionId);
    a.sock.emit('live:leave', { sessionId: tab.sessionId });
    await sleep(100);
    expect(rec.of('live:stop')).toEqual([]);
    expect(rec.of('agents').at(-1)).toHaveLength(1);
    b.sock.close(); // a disconnect counts as leaving
    await waitFor(() => rec.of('live:stop').length === 1, 2_000, 'live:stop');
    expect(rec.of('agents').at(-1)).toEqual([]);
    sock.emit('live:events', { events: run(0, 3) });
    await sleep(150);
    expect(a.rec.of('live:events')).toEqual([]);
  });

  it('user:stop: every agent leaves with user_stopped; the tab stops and drops the banner', async () => {
    const { tab, sock, rec } = await liveTab();
    const a = await agent();
    await join(a.sock, tab.sessionId);
    await waitFor(() => rec.of('live:start').length === 1);
    sock.emit('user:stop');
    await waitFor(() => a.rec.of('live:ended').length === 1, 2_000, 'live:ended');
    expect(a.rec.of('live:ended')[0]).toEqual({ sessionId: tab.sessionId, reason: 'user_stopped' });
    await waitFor(() => rec.of('live:stop').length >= 1);
    expect(rec.of('agents').at(-1)).toEqual([]);
    // The agent is out: its events stop, and a resync from it is ignored.
    sock.emit('live:events', { events: run(0, 3) });
    await sleep(100);
    expect(a.rec.of('live:events')).toEqual([]);
    const list = await getJson(`${server.url}/api/v1/live`, cookie);
    expect(list.json.sessions.find((s: LiveSession) => s.sessionId === tab.sessionId).agents).toEqual([]);
  });

  it('a tab that reconnects within the grace period keeps its agents and is asked for a new snapshot', async () => {
    const first = await liveTab();
    const a = await agent();
    await join(a.sock, first.tab.sessionId);
    await waitFor(() => first.rec.of('live:start').length === 1);
    first.sock.emit('live:events', { events: run(0, 4) });
    await waitFor(() => a.rec.of('live:events').length === 1);
    first.sock.close(); // page reload
    await sleep(200);
    const again = await liveTab({ start: first.tab, resume: true });
    await waitFor(() => again.rec.of('live:start').length === 1, 2_000, 'live:start on the new socket');
    expect(again.rec.of('live:start')[0]).toEqual({ reason: 'join' });
    expect(again.rec.of('agents').at(-1)).toHaveLength(1);
    // The tracker's seq continues after a reload; the agent restarts from the new Meta.
    again.sock.emit('live:events', { events: run(50, 3) });
    await waitFor(() => a.rec.of('live:events').length === 2);
    expect(a.rec.of('live:events')[1].events.map((e: TandemEvent) => e.seq)).toEqual([50, 51, 52]);
    await sleep(GRACE_MS + 200);
    expect(a.rec.of('live:ended')).toEqual([]);
  });

  it('a tab that leaves on purpose (tab:leave) is gone at once, without the grace period', async () => {
    const { tab, sock } = await liveTab();
    const a = await agent();
    await join(a.sock, tab.sessionId);
    const leftAt = Date.now();
    sock.emit('tab:leave');
    sock.close();
    await waitFor(() => a.rec.of('live:ended').length === 1, GRACE_MS + 3_000, 'live:ended');
    expect(Date.now() - leftAt).toBeLessThan(GRACE_MS - 100);
    expect(a.rec.of('live:ended')[0]).toEqual({ sessionId: tab.sessionId, reason: 'session_gone' });
  });

  it('a session whose tabs are all gone after the grace period ends with session_gone', async () => {
    const { tab, sock } = await liveTab();
    const a = await agent();
    await join(a.sock, tab.sessionId);
    const closedAt = Date.now();
    sock.close();
    await waitFor(() => a.rec.of('live:ended').length === 1, GRACE_MS + 3_000, 'live:ended');
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(GRACE_MS - 50);
    expect(a.rec.of('live:ended')[0]).toEqual({ sessionId: tab.sessionId, reason: 'session_gone' });
    const list = await getJson(`${server.url}/api/v1/live`, cookie);
    expect(list.json.sessions.map((s: LiveSession) => s.sessionId)).not.toContain(tab.sessionId);
    expect((await join(a.sock, tab.sessionId)).ok).toBe(false);
  });

  it('one socket per tab: a newer socket for the same tab replaces the older one', async () => {
    const first = await liveTab();
    const disconnected = new Promise<string>((r) => first.sock.once('disconnect', r));
    const second = await liveTab({ start: first.tab, resume: true });
    expect(await disconnected).toBe('io server disconnect');
    const a = await agent();
    await join(a.sock, first.tab.sessionId);
    await waitFor(() => second.rec.of('live:start').length === 1);
    expect(first.rec.of('live:start')).toEqual([]);
    const list = await getJson(`${server.url}/api/v1/live`, cookie);
    expect(list.json.sessions.find((s: LiveSession) => s.sessionId === first.tab.sessionId).tabs).toHaveLength(1);
  });

  it('a malformed batch is dropped and the tab is asked for a fresh snapshot', async () => {
    const { tab, sock, rec } = await liveTab();
    const a = await agent();
    await join(a.sock, tab.sessionId);
    await waitFor(() => rec.of('live:start').length === 1);
    sock.emit('live:events', { events: run(0, 3) });
    await waitFor(() => a.rec.of('live:events').length === 1);
    const bad = run(3, 3, false);
    bad[1].seq = 9; // not consecutive
    sock.emit('live:events', { events: bad });
    sock.emit('live:events', { events: 'nope' } as never);
    await waitFor(() => rec.of('live:start').length === 2, 2_000, 'resync');
    expect(rec.of('live:start')[1]).toEqual({ reason: 'gap' });
    sock.emit('live:events', { events: run(6, 2, false) }); // still no snapshot: the agent waits
    sock.emit('live:events', { events: run(8, 3) });
    await waitFor(() => a.rec.of('live:events').length === 2);
    expect(seqsOf(a.rec.of('live:events'))).toEqual([0, 1, 2, 8, 9, 10]);
  });

  it('live:watch-tab moves the agent to another tab of the session', async () => {
    const one = await liveTab();
    const startTwo = await startTab(server, { sessionId: one.tab.sessionId, visitorId: one.tab.visitorId });
    const two = await liveTab({ start: startTwo, page: { ...PAGE, url: 'http://shop.test/cart', focused: false } });
    const a = await agent();
    const r = await join(a.sock, one.tab.sessionId);
    expect(r.ok && r.tabId).toBe(one.tab.tabId); // the focused one
    expect(r.ok && r.session.tabs).toHaveLength(2);
    await waitFor(() => one.rec.of('live:start').length === 1);
    const w = await call<{ ok: boolean; tabId: string }>(a.sock, 'live:watch-tab', { sessionId: one.tab.sessionId, tabId: two.tab.tabId });
    expect(w).toEqual({ ok: true, tabId: two.tab.tabId });
    await waitFor(() => one.rec.of('live:stop').length === 1, 2_000, 'old tab stops');
    await waitFor(() => two.rec.of('live:start').length === 1, 2_000, 'new tab starts');
    expect(two.rec.of('live:start')[0]).toEqual({ reason: 'tab_switch' });
    const bad = await call<{ ok: boolean; error: { code: string } }>(a.sock, 'live:watch-tab', { sessionId: one.tab.sessionId, tabId: 'nonexistent-tab' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'not_found' } });
    // The user switches tabs: the agents hear at once.
    two.sock.emit('tab:page', { ...PAGE, url: 'http://shop.test/cart', focused: true });
    one.sock.emit('tab:page', { ...PAGE, focused: false, visible: false });
    const s = await waitFor(() => a.rec.of('live:session').find((x: LiveSession) => x.activeTabId === two.tab.tabId), 1_000, 'active tab');
    expect(s.tabs.find((t: { tabId: string }) => t.tabId === two.tab.tabId)!.watchers).toHaveLength(1);
  });

  it('an agent joins several sessions at once (grid)', async () => {
    const tabs = await Promise.all([liveTab(), liveTab(), liveTab(), liveTab()]);
    const a = await agent();
    for (const t of tabs) expect((await join(a.sock, t.tab.sessionId)).ok).toBe(true);
    for (const [i, t] of tabs.entries()) {
      await waitFor(() => t.rec.of('live:start').length === 1);
      t.sock.emit('live:events', { events: run(i * 100, 3) });
    }
    await waitFor(() => a.rec.of('live:events').length === 4, 2_000, '4 streams');
    expect(new Set(a.rec.of('live:events').map((m: { sessionId: string }) => m.sessionId))).toEqual(new Set(tabs.map((t) => t.tab.sessionId)));
  });

  it('clock:ping answers the server time; clock:offset reaches the agents', async () => {
    const { tab, sock } = await liveTab();
    const before = Date.now();
    const serverTime = await call<number>(sock, 'clock:ping', before);
    expect(serverTime).toBeGreaterThanOrEqual(before - 5);
    expect(serverTime).toBeLessThanOrEqual(Date.now() + 5);
    const a = await agent();
    await join(a.sock, tab.sessionId);
    sock.emit('clock:offset', { offsetMs: -1234.4, rttMs: 3 });
    const s = await waitFor(() => a.rec.of('live:session').find((x: LiveSession) => x.tabs[0]?.clockOffsetMs === -1234), 2_000, 'offset');
    expect(s.sessionId).toBe(tab.sessionId);
    expect(typeof (await call<number>(a.sock, 'clock:ping', Date.now()))).toBe('number');
  });

  it('works over HTTP long-polling too (default transports)', async () => {
    const { tab, sock, rec } = await liveTab({ transports: ['polling'] });
    const a = track(agentSocket(server, { cookie }, { transports: ['polling'] }));
    const got = record(a, AGENT_EVENTS);
    await connected(a);
    expect((await join(a, tab.sessionId)).ok).toBe(true);
    await waitFor(() => rec.of('live:start').length === 1);
    sock.emit('live:events', { events: run(0, 5) });
    sock.emit('live:events', { events: run(5, 5, false) });
    await waitFor(() => got.of('live:events').length === 2, 3_000, 'polling relay');
    expect(seqsOf(got.of('live:events'))).toEqual([...Array(10).keys()]);
  });
});

describe('the live list', () => {
  it('subscribers get the list in the ack, then throttled live:list with the last state', async () => {
    const a = await agent();
    const r = await call<{ ok: boolean; sessions: LiveSession[] }>(a.sock, 'live:list:subscribe');
    expect(r.ok).toBe(true);
    const { tab, sock } = await liveTab();
    await waitFor(() => a.rec.of('live:list').some((l: LiveSession[]) => l.some((s) => s.sessionId === tab.sessionId)), 2_000, 'listed');
    const before = a.rec.of('live:list').length;
    const t0 = Date.now();
    for (let i = 0; i < 40; i++) sock.emit('tab:page', { ...PAGE, title: `step ${i}` });
    await waitFor(() => a.rec.of('live:list').at(-1).find((s: LiveSession) => s.sessionId === tab.sessionId)?.tabs[0].title === 'step 39', 3_000, 'last state');
    await sleep(300);
    const lists = a.rec.of('live:list').length - before;
    // 40 changes in a few ms: at most one message per 250 ms window (plus the trailing one).
    expect(lists).toBeLessThanOrEqual(Math.ceil((Date.now() - t0) / 250) + 1);
    expect(lists).toBeGreaterThanOrEqual(1);
    a.sock.emit('live:list:unsubscribe');
    await sleep(50);
    const n = a.rec.of('live:list').length;
    sock.emit('tab:page', { ...PAGE, title: 'after' });
    await sleep(400);
    expect(a.rec.of('live:list').length).toBe(n);
  });

  it('GET /api/v1/live needs the login cookie', async () => {
    const res = await fetch(`${server.url}/api/v1/live`);
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe('unauthorized');
  });
});

describe('handshake', () => {
  it('refuses another protocol version with unsupported_version, for tabs and agents', async () => {
    const tab = await startTab(server);
    const t = await refusal(track(tabSocket(server, tab, { v: 999 })));
    expect(t.errMessage).toBe('unsupported_version');
    expect(t.data).toEqual({ code: 'unsupported_version', message: expect.stringContaining('999') });
    expect((await refusal(track(agentSocket(server, { cookie, v: 0 })))).data?.code).toBe('unsupported_version');
  });

  it('refuses a forged session token, a missing cookie and a tab without role', async () => {
    const tab = await startTab(server);
    const forged = { ...tab, token: tab.token.slice(0, -3) + (tab.token.endsWith('AAA') ? 'BBB' : 'AAA') };
    const r = await refusal(track(tabSocket(server, forged)));
    expect(r).toEqual({ errMessage: 'unauthorized', data: { code: 'unauthorized', message: expect.any(String) } });
    expect((await refusal(track(agentSocket(server, {})))).data?.code).toBe('unauthorized');
    expect((await refusal(track(agentSocket(server, { cookie: 'tandem_agent=nope' })))).data?.code).toBe('unauthorized');
  });

  it('refuses the login cookie from another origin (cross-site WebSocket hijacking)', async () => {
    const r = await refusal(track(agentSocket(server, { cookie }, { headers: { origin: 'https://evil.example' } })));
    expect(r.data?.code).toBe('origin_not_allowed');
    const host = new URL(server.url).host;
    const ok = track(agentSocket(server, { cookie }, { headers: { origin: `http://${host}` } }));
    await connected(ok);
  });
});

describe('watch links', () => {
  const watchToken = async (sid: string, vid: string, ttl = 3600, pid = server.projectId) =>
    (await signer.signWatch({ pid, sid, vid, agent: { id: 'ext-42', name: 'Helpdesk Bob' }, caps: ['view', 'annotate'] }, ttl)).token;

  it('a watch-link socket joins its session with its capabilities, and nothing else', async () => {
    const { tab, rec } = await liveTab();
    const other = await liveTab();
    const w = await agent({ watchToken: await watchToken(tab.sessionId, tab.visitorId) });
    const r = await join(w.sock, tab.sessionId);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.capabilities).toEqual(['view', 'annotate']);
    expect(r.session.agents).toEqual([{ id: 'ext-42', name: 'Helpdesk Bob', via: 'watch-link' }]);
    await waitFor(() => rec.of('live:start').length === 1);
    expect(rec.of('agents').at(-1)).toEqual([{ id: 'ext-42', name: 'Helpdesk Bob', via: 'watch-link' }]);
    const list = await call<{ ok: boolean; error: { code: string } }>(w.sock, 'live:list:subscribe');
    expect(list).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    const elsewhere = await join(w.sock, other.tab.sessionId);
    expect(elsewhere).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(other.rec.of('live:start')).toEqual([]);
  });

  it('refuses a tampered or expired watch token with unauthorized', async () => {
    const { tab } = await liveTab();
    const good = await watchToken(tab.sessionId, tab.visitorId);
    const [h, p, s] = good.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const tampered = [h, Buffer.from(JSON.stringify({ ...claims, sid: 'someone-elses-session' })).toString('base64url'), s].join('.');
    const t = await refusal(track(agentSocket(server, { watchToken: tampered })));
    expect(t.data?.code).toBe('unauthorized');
    const expired = await watchToken(tab.sessionId, tab.visitorId, -10);
    const e = await refusal(track(agentSocket(server, { watchToken: expired })));
    expect(e.data).toEqual({ code: 'unauthorized', message: 'Token expired' });
  });

  it('ends the watch with link_expired when the link expires while connected', async () => {
    const { tab } = await liveTab();
    const w = await agent({ watchToken: await watchToken(tab.sessionId, tab.visitorId, 2) });
    expect((await join(w.sock, tab.sessionId)).ok).toBe(true);
    const gone = new Promise<string>((r) => w.sock.once('disconnect', r));
    await waitFor(() => w.rec.of('live:ended').length === 1, 4_000, 'link_expired');
    expect(w.rec.of('live:ended')[0]).toEqual({ sessionId: tab.sessionId, reason: 'link_expired' });
    expect(await gone).toMatch(/disconnect/);
  });
});

describe('projects never cross', () => {
  it("an agent of project B cannot list, join or GET project A's sessions (and the other way round)", async () => {
    const pid = `proj_${randomUUID().slice(0, 8)}`;
    await server.store.createProject({ id: pid, name: 'B', key: `pk_${randomUUID().replaceAll('-', '')}`, allowedOrigins: [], createdAt: Date.now() });
    const email = `b-${randomUUID().slice(0, 6)}@example.com`;
    await server.store.createAgent({
      id: randomUUID().replaceAll('-', ''), projectId: pid, email, name: 'Bea', role: 'admin',
      passwordHash: await hashPassword('password-b-123'), createdAt: Date.now(), disabled: false,
    });
    const cookieB = await login(server, email, 'password-b-123');
    const projectB = (await server.store.getProject(pid))!;
    const inA = await liveTab();
    const inB = await liveTab({ projectKey: projectB.key });

    const b = await agent({ cookie: cookieB });
    const listB = await call<{ ok: true; sessions: LiveSession[] }>(b.sock, 'live:list:subscribe');
    expect(listB.sessions.map((s) => s.sessionId)).toEqual([inB.tab.sessionId]);
    expect(await join(b.sock, inA.tab.sessionId)).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect((await getJson(`${server.url}/api/v1/live`, cookieB)).json.sessions.map((s: LiveSession) => s.sessionId)).toEqual([inB.tab.sessionId]);

    const a = await agent();
    expect(await join(a.sock, inB.tab.sessionId)).toMatchObject({ ok: false, error: { code: 'not_found' } });
    const listA = await call<{ ok: true; sessions: LiveSession[] }>(a.sock, 'live:list:subscribe');
    expect(listA.sessions.map((s) => s.sessionId)).not.toContain(inB.tab.sessionId);
    // A watch link signed for project A naming B's session id finds nothing either.
    const wt = (await signer.signWatch({ pid: server.projectId, sid: inB.tab.sessionId, vid: inB.tab.visitorId, agent: { id: 'x', name: 'X' }, caps: ['view'] }, 60)).token;
    const w = await agent({ watchToken: wt });
    expect(await join(w.sock, inB.tab.sessionId)).toMatchObject({ ok: false, error: { code: 'not_found' } });
    await sleep(100);
    expect(inA.rec.of('live:start')).toEqual([]);
    expect(inB.rec.of('live:start')).toEqual([]);
  });
});

describe('agents removed while connected', () => {
  it('a disabled agent loses its live socket; the tab stops and drops it from the banner', async () => {
    const id = randomUUID().replaceAll('-', '');
    const email = `gone-${id.slice(0, 6)}@example.com`;
    await server.store.createAgent({
      id, projectId: server.projectId, email, name: 'Gone Soon', role: 'agent',
      passwordHash: await hashPassword('password-gone-1'), createdAt: Date.now(), disabled: false,
    });
    const cookieC = await login(server, email, 'password-gone-1');
    const c = await agent({ cookie: cookieC });
    const { tab, rec } = await liveTab();
    expect((await join(c.sock, tab.sessionId)).ok).toBe(true);
    await waitFor(() => rec.of('live:start').length === 1);
    const gone = new Promise<string>((r) => c.sock.once('disconnect', r));
    await server.store.setAgentDisabled(server.projectId, id, true);
    expect(await gone).toBe('io server disconnect');
    await waitFor(() => rec.of('live:stop').length === 1, 2_000, 'live:stop');
    expect(rec.of('agents').at(-1)).toEqual([]);
    // Nor can it come back with the cookie it still has.
    expect((await refusal(track(agentSocket(server, { cookie: cookieC })))).data?.code).toBe('unauthorized');
  });
});

describe('rate limits', () => {
  it('refuses a flood of new tab sockets from one address; a resuming tab with a valid token gets in', async () => {
    const ip = freshIp();
    const starts = await Promise.all(Array.from({ length: 8 }, () => startTab(server)));
    const results = await Promise.all(starts.map(async (t) => {
      const s = track(tabSocket(server, t, { ip }));
      try {
        await connected(s);
        return 'ok';
      } catch (err) {
        return (err as { data?: { code: string } }).data?.code;
      }
    }));
    expect(results.filter((r) => r === 'ok')).toHaveLength(5); // the burst
    expect(results.filter((r) => r === 'rate_limited')).toHaveLength(3);
    // Same address, limit exhausted: a tab presenting resume + its valid token is let in ...
    const resumed = track(tabSocket(server, starts[7], { ip, resume: true }));
    await connected(resumed);
    // ... a "resume" with a forged token is not, and agents never skip the limit.
    const forged = { ...starts[6], token: starts[6].token.slice(0, -2) + 'xx' };
    expect((await refusal(track(tabSocket(server, forged, { ip, resume: true })))).data?.code).toBe('rate_limited');
    expect((await refusal(track(agentSocket(server, { cookie }, { ip })))).data?.code).toBe('rate_limited');
  });
});

describe('consent', () => {
  async function requireConsent(on: boolean) {
    const r = await fetch(`${server.url}/api/v1/project`, {
      method: 'PATCH', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ requireConsent: on }),
    });
    expect(r.status).toBe(200);
  }
  afterAll(async () => requireConsent(false));

  it('asks the user first; nothing is forwarded until a tab accepts; decline ends the watch', async () => {
    await requireConsent(true);
    const { tab, sock, rec } = await liveTab();
    const a = await agent();
    const r = await join(a.sock, tab.sessionId);
    expect(r.ok && r.session.awaitingConsent).toBe(true);
    await waitFor(() => rec.of('consent:request').length === 1, 2_000, 'consent:request');
    expect(rec.of('consent:request')[0]).toEqual({ agents: [{ id: expect.any(String), name: 'Admin', via: 'login' }] });
    await sleep(100);
    expect(rec.of('live:start')).toEqual([]);
    sock.emit('live:events', { events: run(0, 3) });
    await sleep(100);
    expect(a.rec.of('live:events')).toEqual([]);

    sock.emit('consent:answer', { accepted: true });
    await waitFor(() => rec.of('live:start').length === 1, 2_000, 'live:start after consent');
    await waitFor(() => a.rec.of('live:session').some((s: LiveSession) => s.sessionId === tab.sessionId && !s.awaitingConsent));
    sock.emit('live:events', { events: run(3, 3) });
    await waitFor(() => a.rec.of('live:events').length === 1);
    // Remembered for the session: a second agent is not asked about again.
    const b = await agent();
    const r2 = await join(b.sock, tab.sessionId);
    expect(r2.ok && r2.session.awaitingConsent).toBe(false);
    await sleep(100);
    expect(rec.of('consent:request')).toHaveLength(1);

    const other = await liveTab();
    const c = await agent();
    await join(c.sock, other.tab.sessionId);
    await waitFor(() => other.rec.of('consent:request').length === 1);
    other.sock.emit('consent:answer', { accepted: false });
    await waitFor(() => c.rec.of('live:ended').length === 1, 2_000, 'declined');
    expect(c.rec.of('live:ended')[0]).toEqual({ sessionId: other.tab.sessionId, reason: 'consent_declined' });
    expect(other.rec.of('live:start')).toEqual([]);
    await waitFor(() => other.rec.of('agents').at(-1)?.length === 0);
  });

  it('turning consent off in the settings releases sessions that were waiting for an answer', async () => {
    await requireConsent(true);
    const { tab, rec } = await liveTab();
    const a = await agent();
    await join(a.sock, tab.sessionId);
    await waitFor(() => rec.of('consent:request').length === 1);
    await requireConsent(false);
    await waitFor(() => rec.of('live:start').length === 1, 2_000, 'released');
    await waitFor(() => a.rec.of('live:session').some((s: LiveSession) => s.sessionId === tab.sessionId && !s.awaitingConsent));
  });
});

describe('metrics', () => {
  it('exports live gauges and counters', async () => {
    await liveTab();
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/^tandem_live_tabs [1-9]/m);
    expect(text).toMatch(/^tandem_live_relayed_messages_total [1-9]/m);
    expect(text).toMatch(/^tandem_live_resyncs_total\{reason="join"\} [1-9]/m);
    expect(text).toMatch(/^tandem_live_refused_total\{code="unsupported_version"\} [1-9]/m);
    expect(text).toMatch(/^tandem_live_dropped_batches_total\{reason="unwatched"\} [1-9]/m);
  });
});
