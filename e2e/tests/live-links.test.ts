import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import type { Page } from 'playwright-core';
import {
  ASSIST_NAMESPACE,
  PROTOCOL_VERSION,
  type AckResult,
  type AgentToServerEvents,
  type JoinResult,
  type ServerToAgentEvents,
  type ServerToTabEvents,
  type StartResponse,
  type TabToServerEvents,
  type TandemEvent,
  type WatchUrlResponse,
} from '@tandem/protocol';
import { TokenSigner } from '../../backend/src/auth/tokens.js';
import { hashPassword } from '../../backend/src/auth/password.js';
import { PROJECT_KEY } from './support/backend-process.js';
import { useBackendAndBrowser, withStorage } from './support/fixture.js';
import { waitFor } from './support/browser.js';
import { agentContext, openUserPage, sessionIdOf, stageFrame, waitForAssist, waitForLiveState, waitForStageText } from './support/live.js';

const e2e = useBackendAndBrowser();

const USER_PAGE = `<h1>Order 1234 help</h1><p id="status">waiting</p>
  <button id="bump" onclick="document.getElementById('status').textContent = 'bumped ' + Date.now()">Bump</button>`;

async function newUser(): Promise<{ page: Page; sessionId: string; visitorId: string; close(): Promise<void> }> {
  const context = await e2e.browser.newContext();
  const page = await context.newPage();
  await openUserPage(page, e2e.backend.url, USER_PAGE);
  const sessionId = await sessionIdOf(page);
  const visitorId = await page.evaluate(() => new Promise<string>((r) => (window as any).Tandem('onSession', (s: { visitorId: string }) => r(s.visitorId))));
  await waitForAssist(page, 'assist socket connected', (s) => s.connected);
  return { page, sessionId, visitorId, close: () => context.close() };
}

function getWatchLink(page: Page): Promise<string> {
  return page.evaluate(() => new Promise<string>((resolve, reject) =>
    (window as any).Tandem('getWatchLink', (url: string | null, err: Error | null) => (url ? resolve(url) : reject(err)))));
}

/** A browser with no cookie at all: what someone who was only given the link has. */
async function strangerPage(): Promise<Page> {
  const context = await e2e.browser.newContext();
  return context.newPage();
}

function agentSocket(extra: { cookie?: string; watchToken?: string }): Socket<ServerToAgentEvents, AgentToServerEvents> {
  return io(`${e2e.backend.url}${ASSIST_NAMESPACE}`, {
    transports: ['websocket'],
    reconnection: false,
    auth: { role: 'agent', v: PROTOCOL_VERSION, ...(extra.watchToken ? { watchToken: extra.watchToken } : {}) },
    extraHeaders: extra.cookie ? { cookie: extra.cookie } : {},
  });
}

function connected(socket: Socket<any, any>): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err) => reject(err));
  });
}

function join(socket: Socket<ServerToAgentEvents, AgentToServerEvents>, sessionId: string): Promise<AckResult<JoinResult>> {
  return new Promise((resolve) => socket.emit('live:join', { sessionId }, resolve));
}

const tokenOf = (watchUrl: string) => new URL(watchUrl).pathname.split('/').pop()!;

describe('watch links', () => {
  it("opens the user's live session from the tracker's getWatchLink without a login, and the embed view without chrome", async () => {
    const user = await newUser();
    const url = await getWatchLink(user.page);
    expect(url).toMatch(new RegExp(`^${e2e.backend.url}/watch/[A-Za-z0-9._-]+$`));

    const stranger = await strangerPage();
    await stranger.goto(url);
    await waitForLiveState(stranger, 'live');
    await waitForStageText(stranger, 'Order 1234 help');
    await user.page.click('#bump');
    await waitForStageText(stranger, 'bumped');
    await stranger.getByTestId('watch-header').waitFor();
    // Nothing of the dashboard: no sessions list, no navigation, no login form.
    expect(await stranger.getByTestId('session-row').count()).toBe(0);
    expect(await stranger.locator('nav a[href="#/sessions"]').count()).toBe(0);

    const embed = await strangerPage();
    await embed.goto(url.replace('/watch/', '/embed/'));
    await waitForLiveState(embed, 'live');
    await waitForStageText(embed, 'Order 1234 help');
    expect(await embed.getByTestId('watch-header').count()).toBe(0);

    await stranger.context().close();
    await embed.context().close();
    await user.close();
  });

  it('mints links through the REST API with an API key, with the agent name and branding, and refuses bad requests', async () => {
    const cookie = await e2e.agentCookie();
    const created = await fetch(`${e2e.backend.url}/api/v1/api-keys`, {
      method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'helpdesk' }),
    });
    expect(created.status).toBeLessThan(300);
    const { secret } = (await created.json()) as { secret: string };
    const user = await newUser();

    const mint = (visitorId: string, body: unknown, key = secret) =>
      fetch(`${e2e.backend.url}/api/v1/visitors/${visitorId}/watch_url`, {
        method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
      });
    const ok = await mint(user.visitorId, { agent: { id: 'zd-42', name: 'Dana from Support' }, capabilities: ['view'], ttlSeconds: 600, branding: { name: 'Acme Help' } });
    expect(ok.status).toBe(200);
    const link = (await ok.json()) as WatchUrlResponse;
    expect(link.sessionId).toBe(user.sessionId);
    expect(link.expiresAt).toBeGreaterThan(Date.now() + 500_000);

    const page = await strangerPage();
    await page.goto(link.watch_url);
    await waitForLiveState(page, 'live');
    await waitForStageText(page, 'Order 1234 help');
    expect(await page.getByTestId('watch-header').textContent()).toContain('Acme Help');
    // The user's banner names the link's agent.
    await waitFor('banner names the link agent', async () => ((await user.page.locator('[data-tandem-banner]').textContent()) ?? '').includes('Dana from Support'));

    expect((await mint(user.visitorId, { agent: { id: 'x' } })).status).toBe(400);
    expect((await mint(user.visitorId, { agent: { id: 'x', name: 'y' }, capabilities: ['teleport'] })).status).toBe(400);
    expect((await mint('no-such-visitor-000', { agent: { id: 'x', name: 'y' } })).status).toBe(404);
    expect((await mint(user.visitorId, { agent: { id: 'x', name: 'y' } }, 'tk_not_a_real_key')).status).toBe(401);
    await page.context().close();
    await user.close();
  });

  it('is limited to its own session: another session is refused on the socket and over HTTP', async () => {
    const a = await newUser();
    const b = await newUser();
    const token = tokenOf(await getWatchLink(a.page));
    const socket = agentSocket({ watchToken: token });
    await connected(socket);
    const own = await join(socket, a.sessionId);
    expect(own.ok).toBe(true);
    const other = await join(socket, b.sessionId);
    expect(other.ok).toBe(false);
    if (!other.ok) expect(other.error.code).toBe('forbidden');
    const list = await new Promise<AckResult<unknown>>((r) => socket.emit('live:list:subscribe', r));
    expect(list.ok).toBe(false);
    socket.close();

    const auth = { authorization: `Bearer ${token}` };
    expect((await fetch(`${e2e.backend.url}/api/v1/sessions/${a.sessionId}/events`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${e2e.backend.url}/api/v1/sessions/${b.sessionId}/events`, { headers: auth })).status).toBe(403);
    expect((await fetch(`${e2e.backend.url}/api/v1/sessions`, { headers: auth })).status).toBe(401);
    await a.close();
    await b.close();
  });

  it('refuses a tampered or expired link with a clear message instead of the login page', async () => {
    const user = await newUser();
    const token = tokenOf(await getWatchLink(user.page));
    const parts = token.split('.');
    // Flip the payload to another session: the signature no longer matches.
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
    const tampered = [parts[0], Buffer.from(JSON.stringify({ ...payload, sid: 'someone-elses-session' })).toString('base64url'), parts[2]].join('.');

    const secret = (await readFile(path.join(e2e.dataDir, 'secret.key'), 'utf8')).trim();
    const { token: expired } = await new TokenSigner(secret).signWatch(
      { pid: payload.pid, sid: user.sessionId, vid: user.visitorId, agent: { id: 'a', name: 'Old link' }, caps: ['view'] }, -60);

    for (const [what, bad] of [['tampered', tampered], ['expired', expired]] as const) {
      const page = await strangerPage();
      await page.goto(`${e2e.backend.url}/watch/${bad}`);
      const err = page.getByTestId('watch-error');
      await err.waitFor({ timeout: 10_000 });
      expect({ what, code: await err.getAttribute('data-code') }).toEqual({ what, code: 'unauthorized' });
      expect(await page.locator('input[type=password]').count()).toBe(0);
      await page.context().close();
      const s = agentSocket({ watchToken: bad });
      await expect(connected(s)).rejects.toThrow(/unauthorized/);
      s.close();
    }
    await user.close();
  });
});

describe('projects never cross', () => {
  it("an agent of project B neither lists nor joins project A's live sessions", async () => {
    // Project B and its agent, written straight into storage while the backend is down.
    const emailB = `agent-b-${randomUUID().slice(0, 8)}@example.com`;
    await withStorage(e2e, async (store) => {
      const pid = `projb${randomUUID().replaceAll('-', '')}`;
      await store.createProject({ id: pid, name: 'Project B', key: `pk_b_${randomUUID().slice(0, 8)}`, allowedOrigins: [], createdAt: Date.now(), requireConsent: false } as never);
      await store.createAgent({
        id: randomUUID().replaceAll('-', ''), projectId: pid, email: emailB, name: 'Agent B', role: 'admin',
        passwordHash: await hashPassword('password-of-b'), createdAt: Date.now(), disabled: false,
      });
    });

    const userA = await newUser();
    const login = await fetch(`${e2e.backend.url}/api/v1/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: emailB, password: 'password-of-b' }),
    });
    expect(login.status).toBe(200);
    const cookieB = login.headers.get('set-cookie')!.split(';')[0];

    const live = (await (await fetch(`${e2e.backend.url}/api/v1/live`, { headers: { cookie: cookieB } })).json()) as { sessions: { sessionId: string }[] };
    expect(live.sessions.map((s) => s.sessionId)).not.toContain(userA.sessionId);
    // Project A's own agent does see it (the check above is not vacuous).
    const liveA = (await (await fetch(`${e2e.backend.url}/api/v1/live`, { headers: { cookie: await e2e.agentCookie() } })).json()) as { sessions: { sessionId: string }[] };
    expect(liveA.sessions.map((s) => s.sessionId)).toContain(userA.sessionId);

    const socket = agentSocket({ cookie: cookieB });
    await connected(socket);
    const joined = await join(socket, userA.sessionId);
    expect(joined.ok).toBe(false);
    if (!joined.ok) expect(joined.error.code).toBe('not_found');
    socket.close();

    // In the dashboard: not in B's live list, and the live view of A's session refuses.
    const ctxB = await agentContext(e2e.browser, e2e.backend.url, cookieB);
    const page = await ctxB.newPage();
    await page.goto(`${e2e.backend.url}/#/live`);
    await page.getByTestId('live-empty').waitFor({ timeout: 10_000 });
    expect(await page.locator(`[data-testid="live-row"][data-session-id="${userA.sessionId}"]`).count()).toBe(0);
    await page.goto(`${e2e.backend.url}/#/live/${userA.sessionId}`);
    await waitForLiveState(page, 'error');
    await waitForAssist(userA.page, 'still not forwarding', (s) => !s.forwarding && s.agents.length === 0);
    await ctxB.close();
    await userA.close();
  });
});

/** A tab driven from Node: lets the test send exactly the seqs it wants (a gap) to a real agent view. */
async function scriptedTab(): Promise<{ socket: Socket<ServerToTabEvents, TabToServerEvents>; sessionId: string; close(): void }> {
  const res = await fetch(`${e2e.backend.url}/ingest/v1/start`, {
    method: 'POST', headers: { 'content-type': 'text/plain' },
    body: JSON.stringify({ v: PROTOCOL_VERSION, projectKey: PROJECT_KEY, url: `${e2e.backend.url}/scripted`, clientTime: Date.now() }),
  });
  const start = (await res.json()) as StartResponse;
  const socket: Socket<ServerToTabEvents, TabToServerEvents> = io(`${e2e.backend.url}${ASSIST_NAMESPACE}`, {
    transports: ['websocket'],
    auth: { role: 'tab', v: PROTOCOL_VERSION, token: start.token, resume: false, page: { url: `${e2e.backend.url}/scripted`, title: 'Scripted', visible: true, focused: true } },
  });
  await connected(socket);
  return { socket, sessionId: start.sessionId, close: () => socket.close() };
}

/** Meta + FullSnapshot of a tiny page with one paragraph (id 10, text node id 11). */
function snapshot(seq: number, text: string): TandemEvent[] {
  const ts = Date.now();
  return [
    { type: 4, data: { href: `${e2e.backend.url}/scripted`, width: 800, height: 600 }, timestamp: ts, seq },
    {
      type: 2, timestamp: ts, seq: seq + 1,
      data: {
        initialOffset: { left: 0, top: 0 },
        node: {
          type: 0, id: 1, childNodes: [
            { type: 1, id: 2, name: 'html', publicId: '', systemId: '' },
            { type: 2, id: 3, tagName: 'html', attributes: {}, childNodes: [
              { type: 2, id: 4, tagName: 'head', attributes: {}, childNodes: [] },
              { type: 2, id: 5, tagName: 'body', attributes: {}, childNodes: [
                { type: 2, id: 10, tagName: 'p', attributes: { id: 'p' }, childNodes: [{ type: 3, id: 11, textContent: text }] },
              ] },
            ] },
          ],
        },
      },
    },
  ] as unknown as TandemEvent[];
}

/** Text mutation of the paragraph. */
function setText(seq: number, text: string): TandemEvent {
  return { type: 3, timestamp: Date.now(), seq, data: { source: 0, texts: [{ id: 11, value: text }], attributes: [], removes: [], adds: [] } } as unknown as TandemEvent;
}

describe('order and completeness', () => {
  it('detects a gap in the live stream and asks for a fresh snapshot instead of drifting', async () => {
    const tab = await scriptedTab();
    const starts: string[] = [];
    let seq = 0;
    tab.socket.on('live:start', ({ reason }) => {
      starts.push(reason);
      const events = snapshot(seq, starts.length === 1 ? 'first snapshot' : 'after resync');
      seq += events.length;
      tab.socket.emit('live:events', { events });
    });

    const agent = await agentContext(e2e.browser, e2e.backend.url, await e2e.agentCookie());
    const view = await agent.newPage();
    await view.goto(`${e2e.backend.url}/#/live/${tab.sessionId}`);
    await waitForLiveState(view, 'live');
    await waitForStageText(view, 'first snapshot');
    tab.socket.emit('live:events', { events: [setText(seq++, 'in order 1')] });
    await waitForStageText(view, 'in order 1');

    // Skip one seq: the next event must not be applied on top of a view that missed a change.
    seq++;
    tab.socket.emit('live:events', { events: [setText(seq++, 'after the gap')] });
    await waitFor('resync requested for the gap', async () => starts.includes('gap'), 10_000, 100);
    await waitForStageText(view, 'after resync');
    expect(await stageFrame(view).getByText('after the gap').count()).toBe(0);
    // (The server caught this hole between two batches; a hole it cannot see — the agent's own socket
    // dropping — is the view's to catch, covered by frontend/test's live-stream tests.)
    // And it is live again afterwards.
    tab.socket.emit('live:events', { events: [setText(seq++, 'live again')] });
    await waitForStageText(view, 'live again');
    await agent.close();
    tab.close();
  });
});
