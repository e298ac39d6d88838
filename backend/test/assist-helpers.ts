import { randomUUID } from 'node:crypto';
import type { AssistState, Capability, JoinResult, StartResponse } from '@tandem/protocol';
import { TokenSigner } from '../src/auth/tokens.js';
import { hashPassword } from '../src/auth/password.js';
import { SECRET, login, postJson, startBody, startTab, type TestServer } from './helpers.js';
import { agentSocket, call, connected, record, tabSocket, waitFor, type Client } from './live-helpers.js';

/** Everything a tab or an agent may receive in the assist tests. */
export const TAB_EVENTS = [
  'live:start', 'live:stop', 'agents', 'assist:request', 'assist:state', 'rtc:config', 'rtc:signal', 'control:input',
  'annotate:stroke', 'canvas:want', 'canvas:stop', 'assist:refused',
];
export const AGENT_EVENTS = [
  'live:session', 'live:ended', 'assist:state', 'assist:result', 'assist:ended', 'rtc:config', 'rtc:signal', 'canvas:streams', 'assist:refused',
];

export type Rec = ReturnType<typeof record>;
export type Ack<T = object> = ({ ok: true } & T) | { ok: false; error: { code: string; message: string } };

/** Tabs and agents of one test file's server; `closeAll` after each test. */
export class AssistWorld {
  private readonly open: Client[] = [];
  readonly signer = new TokenSigner(SECRET);
  cookie = '';

  constructor(readonly server: TestServer) {}

  async init(): Promise<this> {
    this.cookie = await login(this.server);
    return this;
  }

  closeAll(): void {
    for (const s of this.open.splice(0)) s.close();
  }

  track(s: Client): Client {
    this.open.push(s);
    return s;
  }

  async tab(opts: { start?: StartResponse; projectKey?: string; resume?: boolean } = {}) {
    const srv = this.server;
    const tab = opts.start ?? (opts.projectKey
      ? ((await postJson(`${srv.url}/ingest/v1/start`, startBody(opts.projectKey))).json as StartResponse)
      : await startTab(srv));
    const sock = this.track(tabSocket(srv, tab, { resume: opts.resume }));
    const rec = record(sock, TAB_EVENTS);
    await connected(sock);
    return { tab, sock, rec };
  }

  async agent(auth: { cookie?: string; watchToken?: string } = { cookie: this.cookie }) {
    const sock = this.track(agentSocket(this.server, auth));
    const rec = record(sock, AGENT_EVENTS);
    await connected(sock);
    return { sock, rec, peerId: () => `agent:${sock.id}` };
  }

  /** An agent through a watch link for `tab`'s session, named `name`, with these capabilities. */
  async linkAgent(tab: StartResponse, name: string, caps: Capability[]) {
    const { token } = await this.signer.signWatch(
      { pid: this.server.projectId, sid: tab.sessionId, vid: tab.visitorId, agent: { id: `ext-${name.toLowerCase()}`, name }, caps }, 600);
    return this.agent({ watchToken: token });
  }

  /** A second signed-in agent of the default project (another person than Admin). */
  async secondLogin(name: string, projectId = this.server.projectId): Promise<string> {
    const email = `${name.toLowerCase()}-${randomUUID().slice(0, 6)}@example.com`;
    await this.server.store.createAgent({
      id: randomUUID().replaceAll('-', ''), projectId, email, name, role: 'agent',
      passwordHash: await hashPassword('password-123456'), createdAt: Date.now(), disabled: false,
    });
    return login(this.server, email, 'password-123456');
  }
}

export const join = (sock: Client, sessionId: string, tabId?: string) =>
  call<Ack<JoinResult>>(sock, 'live:join', { sessionId, ...(tabId ? { tabId } : {}) });

export const ask = (sock: Client, sessionId: string, feature: string) =>
  call<Ack<{ requestId: string }>>(sock, 'assist:request', { sessionId, feature });

export const emit = (sock: Client, event: string, payload: unknown) =>
  (sock as unknown as { emit(e: string, p: unknown): void }).emit(event, payload);

export const lastState = (rec: Rec): AssistState | undefined => rec.of('assist:state').at(-1);

/** Waits for a state matching `check` (the newest one). */
export const stateWhere = (rec: Rec, check: (s: AssistState) => boolean, what = 'assist:state') =>
  waitFor(() => {
    const s = lastState(rec);
    return s && check(s) ? s : undefined;
  }, 3_000, what);
