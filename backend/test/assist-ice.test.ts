import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import type { RtcConfig } from '@tandem/protocol';
import { configFromEnv } from '../src/config.js';
import { rtcRefreshMs, turnCredential } from '../src/live/ice.js';
import { startTestServer, type TestServer } from './helpers.js';
import { waitFor } from './live-helpers.js';
import { AssistWorld, join } from './assist-helpers.js';

// ICE configuration: TANDEM_ICE_SERVERS and coturn REST-style TURN credentials, per session.
const TURN_SECRET = 'turn-shared-secret-for-tests';
/** Short, so that refreshes (at half the TTL) show within a test; the env's minimum is 60 s. */
const TTL = 2;
let server: TestServer;
let w: AssistWorld;

beforeAll(async () => {
  const env = {
    TANDEM_ICE_SERVERS: '[{"urls":"stun:stun.example.test:3478"},{"urls":["turn:a.test:3478"],"username":"u","credential":"c"}]',
    TANDEM_TURN_SECRET: TURN_SECRET,
    TANDEM_TURN_URLS: 'turn:turn.example.test:3478?transport=udp, turns:turn.example.test:5349',
    TANDEM_TURN_TTL_SECONDS: '3600',
  };
  const fromEnv = configFromEnv(env);
  server = await startTestServer({ iceServers: fromEnv.iceServers, turn: { ...fromEnv.turn!, ttlSeconds: TTL }, startRateLimit: { perSecond: 1000, burst: 1000 } });
  w = await new AssistWorld(server).init();
}, 60_000); // a loaded machine (2 cores, several suites) can take long to start chDB
afterAll(async () => server?.dispose());
afterEach(() => w.closeAll());

/** What coturn does with `use-auth-secret`: the password is base64(HMAC-SHA1(secret, username)). */
const coturnPassword = (username: string) => createHmac('sha1', TURN_SECRET).update(username).digest('base64');

function checkConfig(config: RtcConfig, sessionId: string, before: number) {
  expect(config.iceServers.slice(0, 2)).toEqual([
    { urls: 'stun:stun.example.test:3478' },
    { urls: ['turn:a.test:3478'], username: 'u', credential: 'c' },
  ]);
  const turn = config.iceServers[2];
  expect(turn.urls).toEqual(['turn:turn.example.test:3478?transport=udp', 'turns:turn.example.test:5349']);
  const [expiry, sid] = turn.username!.split(':');
  expect(sid).toBe(sessionId);
  // Valid for the TTL from now (a TURN server refuses it after the expiry).
  expect(Number(expiry)).toBeGreaterThanOrEqual(Math.floor(before / 1000) + TTL);
  expect(Number(expiry)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + TTL);
  expect(turn.credential).toBe(coturnPassword(turn.username!));
}

describe('rtc:config', () => {
  it('the tab (before live:start) and the agent (on join) get the ICE servers and TURN credentials for their session', async () => {
    const before = Date.now();
    const t = await w.tab();
    const a = await w.agent();
    expect((await join(a.sock, t.tab.sessionId)).ok).toBe(true);
    await waitFor(() => t.rec.of('live:start').length === 1 && a.rec.of('rtc:config').length >= 1);
    checkConfig(t.rec.of('rtc:config')[0], t.tab.sessionId, before);
    const agentConfig = a.rec.of('rtc:config')[0];
    expect(agentConfig.sessionId).toBe(t.tab.sessionId);
    checkConfig(agentConfig, t.tab.sessionId, before);
    // A tab nobody watches gets nothing: ICE config goes out only when a peer may be needed.
    const idle = await w.tab();
    await new Promise((r) => setTimeout(r, 100));
    expect(idle.rec.of('rtc:config')).toEqual([]);
  });

  it('fresh credentials go out at half their life to the tab and the agent, until they leave', async () => {
    const t = await w.tab();
    const a = await w.agent();
    expect((await join(a.sock, t.tab.sessionId)).ok).toBe(true);
    await waitFor(() => t.rec.of('rtc:config').length >= 3 && a.rec.of('rtc:config').length >= 3, 6_000, 'two refreshes');
    for (const rec of [t.rec, a.rec]) {
      const [first, , third] = rec.of('rtc:config') as RtcConfig[];
      const expiry = (c: RtcConfig) => Number(c.iceServers[2].username!.split(':')[0]);
      // Each refresh is later than the last and still a valid coturn credential for the session.
      expect(expiry(third)).toBeGreaterThan(expiry(first));
      checkConfig(third, t.tab.sessionId, Date.now() - 3_000);
    }
    // An agent that left the session (its socket still open) gets no more: its timer stopped.
    a.sock.emit('live:leave', { sessionId: t.tab.sessionId });
    await new Promise((r) => setTimeout(r, 200));
    const an = a.rec.of('rtc:config').length;
    const tn = t.rec.of('rtc:config').length;
    await new Promise((r) => setTimeout(r, TTL * 1000));
    expect(a.rec.of('rtc:config').length).toBe(an);
    // The tab's socket is still there: its credentials keep being refreshed.
    expect(t.rec.of('rtc:config').length).toBeGreaterThan(tn);
  });

  it('without TURN nothing is refreshed', () => {
    expect(rtcRefreshMs({ turn: undefined })).toBeNull();
    expect(rtcRefreshMs({ turn: { secret: 's', urls: ['turn:x'], ttlSeconds: 86_400 } })).toBe(43_200_000);
  });

  it('credentials are time-limited and bound to the session', () => {
    const a = turnCredential('s3cret', 'session-aaaa', 60, 1_700_000_000_000);
    expect(a.username).toBe('1700000060:session-aaaa');
    expect(a.credential).toBe(createHmac('sha1', 's3cret').update('1700000060:session-aaaa').digest('base64'));
    expect(turnCredential('s3cret', 'session-bbbb', 60, 1_700_000_000_000).credential).not.toBe(a.credential);
    expect(turnCredential('other', 'session-aaaa', 60, 1_700_000_000_000).credential).not.toBe(a.credential);
  });
});

describe('configuration errors stop the start with a clear message', () => {
  it.each([
    [{ TANDEM_ICE_SERVERS: '[{urls:1}]' }, /TANDEM_ICE_SERVERS is not JSON/],
    [{ TANDEM_ICE_SERVERS: '{"urls":"stun:x"}' }, /TANDEM_ICE_SERVERS is malformed/],
    [{ TANDEM_ICE_SERVERS: '[{"url":"stun:x"}]' }, /TANDEM_ICE_SERVERS is malformed at \[0/],
    [{ TANDEM_ICE_SERVERS: '[{"urls":"http://x"}]' }, /stun:, stuns:, turn: or turns:/],
    [{ TANDEM_TURN_SECRET: 'x' }, /TANDEM_TURN_URLS is empty/],
    [{ TANDEM_TURN_URLS: 'turn:x' }, /TANDEM_TURN_SECRET is not/],
    [{ TANDEM_TURN_SECRET: 'x', TANDEM_TURN_URLS: 'stun:x' }, /not a turn: or turns: URL/],
    [{ TANDEM_TURN_SECRET: 'x', TANDEM_TURN_URLS: 'turn:x', TANDEM_TURN_TTL_SECONDS: '5' }, /TANDEM_TURN_TTL_SECONDS must be/],
  ])('%j', (env, message) => {
    expect(() => configFromEnv(env)).toThrow(message);
  });

  it('unset means no ICE servers and no TURN; the TTL defaults to a day', () => {
    expect(configFromEnv({})).toMatchObject({ iceServers: [], turn: undefined });
    expect(configFromEnv({ TANDEM_TURN_SECRET: 's', TANDEM_TURN_URLS: 'turn:x:3478' }).turn).toEqual({ secret: 's', urls: ['turn:x:3478'], ttlSeconds: 86_400 });
  });
});
