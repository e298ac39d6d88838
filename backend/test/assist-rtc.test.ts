import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startTab, startTestServer, type TestServer } from './helpers.js';
import { call, sleep, waitFor } from './live-helpers.js';
import { AssistWorld, ask, emit, join, stateWhere } from './assist-helpers.js';

// R5 over real sockets: the server names the sender of every signal and only relays within a session
// (agent↔agent only inside the call); canvas streams and wants.
let server: TestServer;
let w: AssistWorld;

beforeAll(async () => {
  server = await startTestServer({ startRateLimit: { perSecond: 1000, burst: 1000 }, loginRateLimit: { perSecond: 100, burst: 100 } });
  w = await new AssistWorld(server).init();
}, 60_000); // a loaded machine (2 cores, several suites) can take long to start chDB
afterAll(async () => server?.dispose());
afterEach(() => w.closeAll());

const OFFER = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n' };
const CANDIDATE = { type: 'candidate', candidate: { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMLineIndex: 0, sdpMid: '0' } };

async function watched() {
  const t = await w.tab();
  const a = await w.agent();
  expect((await join(a.sock, t.tab.sessionId)).ok).toBe(true);
  await waitFor(() => t.rec.of('live:start').length > 0);
  return { t, a };
}

describe('rtc:signal relay', () => {
  it('tab ↔ agent: `from` is set by the server whatever the client claims', async () => {
    const { t, a } = await watched();
    const sid = t.tab.sessionId;
    emit(t.sock, 'rtc:signal', { to: a.peerId(), signal: OFFER, from: 'agent:spoofed' });
    await waitFor(() => a.rec.of('rtc:signal').length === 1, 2_000, 'signal at agent');
    expect(a.rec.of('rtc:signal')[0]).toEqual({ sessionId: sid, from: `tab:${t.tab.tabId}`, signal: OFFER });
    emit(a.sock, 'rtc:signal', { sessionId: sid, to: `tab:${t.tab.tabId}`, signal: CANDIDATE, from: `tab:${t.tab.tabId}` });
    emit(a.sock, 'rtc:signal', { sessionId: sid, to: `tab:${t.tab.tabId}`, signal: { type: 'renegotiate', renegotiate: true } });
    await waitFor(() => t.rec.of('rtc:signal').length === 2, 2_000, 'signals at tab');
    expect(t.rec.of('rtc:signal')).toEqual([
      { sessionId: sid, from: a.peerId(), signal: CANDIDATE },
      { sessionId: sid, from: a.peerId(), signal: { type: 'renegotiate', renegotiate: true } },
    ]);
  });

  it('the canvas channel rides along tab ↔ agent; anything else as channel is refused', async () => {
    const { t, a } = await watched();
    const sid = t.tab.sessionId;
    emit(t.sock, 'rtc:signal', { to: a.peerId(), signal: OFFER, channel: 'canvas' });
    await waitFor(() => a.rec.of('rtc:signal').length === 1, 2_000, 'signal at agent');
    expect(a.rec.of('rtc:signal')[0]).toEqual({ sessionId: sid, from: `tab:${t.tab.tabId}`, signal: OFFER, channel: 'canvas' });
    emit(a.sock, 'rtc:signal', { sessionId: sid, to: `tab:${t.tab.tabId}`, signal: CANDIDATE, channel: 'canvas' });
    await waitFor(() => t.rec.of('rtc:signal').length === 1, 2_000, 'signal at tab');
    expect(t.rec.of('rtc:signal')[0]).toEqual({ sessionId: sid, from: a.peerId(), signal: CANDIDATE, channel: 'canvas' });
    emit(a.sock, 'rtc:signal', { sessionId: sid, to: `tab:${t.tab.tabId}`, signal: CANDIDATE, channel: 'call' });
    await waitFor(() => a.rec.of('assist:refused').length === 1, 2_000, 'refusal');
    expect(a.rec.of('assist:refused')[0]).toMatchObject({ event: 'rtc:signal', code: 'bad_request' });
    await sleep(50);
    expect(t.rec.of('rtc:signal')).toHaveLength(1);
  });

  it('malformed signals are refused with a reason and not relayed', async () => {
    const { t, a } = await watched();
    const sid = t.tab.sessionId;
    const to = `tab:${t.tab.tabId}`;
    for (const signal of [
      { type: 'offer', sdp: 'x'.repeat(64 * 1024 + 1) },
      { type: 'offer' },
      { type: 'candidate', candidate: { candidate: 1 } },
      { type: 'offer', sdp: 'v=0', extra: 1 },
      { type: 'bogus' },
    ]) emit(a.sock, 'rtc:signal', { sessionId: sid, to, signal });
    emit(a.sock, 'rtc:signal', { sessionId: sid, to: 'nobody', signal: OFFER });
    await waitFor(() => a.rec.of('assist:refused').length === 6, 2_000, 'refusals');
    expect(a.rec.of('assist:refused').map((r: { code: string }) => r.code)).toEqual(Array(6).fill('bad_request'));
    await sleep(50);
    expect(t.rec.of('rtc:signal')).toEqual([]);
  });

  it("a `to` outside the session is refused: another session's tab, another project's tab", async () => {
    const { t, a } = await watched();
    const other = await w.tab();
    emit(a.sock, 'rtc:signal', { sessionId: t.tab.sessionId, to: `tab:${other.tab.tabId}`, signal: OFFER });
    // Naming the other session (not joined) is refused too.
    emit(a.sock, 'rtc:signal', { sessionId: other.tab.sessionId, to: `tab:${other.tab.tabId}`, signal: OFFER });
    // A tab cannot reach an agent of another session.
    const b = await w.agent();
    expect((await join(b.sock, other.tab.sessionId)).ok).toBe(true);
    emit(t.sock, 'rtc:signal', { to: b.peerId(), signal: OFFER });
    await waitFor(() => a.rec.of('assist:refused').length === 2 && t.rec.of('assist:refused').length === 1, 2_000, 'refusals');
    expect(a.rec.of('assist:refused').map((r: { code: string }) => r.code)).toEqual(['not_found', 'not_found']);

    // Project isolation: an agent signed in to project B never reaches project A's tab.
    const pid = `proj_${randomUUID().slice(0, 8)}`;
    await server.store.createProject({ id: pid, name: 'B', key: `pk_${randomUUID().replaceAll('-', '')}`, allowedOrigins: [], createdAt: Date.now() });
    const cookieB = await w.secondLogin('Bea', pid);
    const bea = await w.agent({ cookie: cookieB });
    expect(await join(bea.sock, t.tab.sessionId)).toMatchObject({ ok: false, error: { code: 'not_found' } });
    emit(bea.sock, 'rtc:signal', { sessionId: t.tab.sessionId, to: `tab:${t.tab.tabId}`, signal: OFFER });
    emit(bea.sock, 'control:input', { sessionId: t.tab.sessionId, input: { type: 'click', x: 1, y: 1 } });
    expect(await ask(bea.sock, t.tab.sessionId, 'control')).toMatchObject({ ok: false, error: { code: 'not_found' } });
    await waitFor(() => bea.rec.of('assist:refused').length === 2, 2_000, 'refusals of B');
    await sleep(50);
    expect(t.rec.of('rtc:signal')).toEqual([]);
    expect(other.rec.of('rtc:signal')).toEqual([]);
    expect(t.rec.of('control:input')).toEqual([]);
    expect(t.rec.of('assist:request')).toEqual([]);
  });

  it('agent ↔ agent only while both are in the call', async () => {
    const { t, a } = await watched();
    const sid = t.tab.sessionId;
    const cookieB = await w.secondLogin('Bob');
    const b = await w.agent({ cookie: cookieB });
    expect((await join(b.sock, sid)).ok).toBe(true);
    emit(a.sock, 'rtc:signal', { sessionId: sid, to: b.peerId(), signal: OFFER });
    await waitFor(() => a.rec.of('assist:refused').length === 1);
    expect(a.rec.of('assist:refused')[0]).toMatchObject({ code: 'forbidden' });
    // Both join the call (the second request asks the user too).
    for (const ag of [a, b]) {
      const r = await ask(ag.sock, sid, 'call');
      if (!r.ok) throw new Error(r.error.message);
      await waitFor(() => t.rec.of('assist:request').some((p: { requestId: string }) => p.requestId === r.requestId));
      emit(t.sock, 'assist:answer', { requestId: r.requestId, accepted: true });
    }
    const s = await stateWhere(t.rec, (x) => x.call?.agents.length === 2);
    expect(s.call!.agents.map((x) => x.name).sort()).toEqual(['Admin', 'Bob']);
    emit(a.sock, 'rtc:signal', { sessionId: sid, to: b.peerId(), signal: OFFER });
    await waitFor(() => b.rec.of('rtc:signal').length === 1);
    expect(b.rec.of('rtc:signal')[0]).toEqual({ sessionId: sid, from: a.peerId(), signal: OFFER });
    // Bob hangs up: the call goes on with Admin; signalling between them is refused again.
    emit(b.sock, 'assist:end', { sessionId: sid, feature: 'call' });
    await stateWhere(t.rec, (x) => x.call?.agents.length === 1);
    emit(a.sock, 'rtc:signal', { sessionId: sid, to: b.peerId(), signal: OFFER });
    await waitFor(() => a.rec.of('assist:refused').length === 2);
    // The user hangs up for everyone: Admin is told.
    emit(t.sock, 'assist:end', { feature: 'call' });
    await waitFor(() => a.rec.of('assist:ended').length === 1);
    expect(a.rec.of('assist:ended')[0]).toEqual({ sessionId: sid, feature: 'call', reason: 'user_ended' });
  });
});

describe('canvas streams', () => {
  it('an agent starting to watch makes the tab get canvas:want; canvas:streams go to its watchers', async () => {
    const { t, a } = await watched();
    await waitFor(() => t.rec.of('canvas:want').length === 1, 2_000, 'canvas:want');
    expect(t.rec.of('canvas:want')[0]).toEqual({ agentPeerId: a.peerId() });
    emit(t.sock, 'canvas:streams', { streams: [{ nodeId: 12, streamId: 'stream-abc' }] });
    await waitFor(() => a.rec.of('canvas:streams').length === 1);
    expect(a.rec.of('canvas:streams')[0]).toEqual({ sessionId: t.tab.sessionId, tabId: t.tab.tabId, streams: [{ nodeId: 12, streamId: 'stream-abc' }] });
    // On request (the agent lost its peer) the tab is asked again.
    emit(a.sock, 'canvas:want', { sessionId: t.tab.sessionId });
    await waitFor(() => t.rec.of('canvas:want').length === 2);
    // A second agent joining gets the current list and the tab a want for it.
    const b = await w.agent();
    expect((await join(b.sock, t.tab.sessionId)).ok).toBe(true);
    await waitFor(() => t.rec.of('canvas:want').some((x: { agentPeerId: string }) => x.agentPeerId === b.peerId()));
    await waitFor(() => b.rec.of('canvas:streams').length === 1);
    emit(t.sock, 'canvas:streams', { streams: [{ nodeId: 'x', streamId: 1 }] });
    await waitFor(() => t.rec.of('assist:refused').length === 1);
    expect(t.rec.of('assist:refused')[0]).toMatchObject({ event: 'canvas:streams', code: 'bad_request' });
  });

  it('an agent switching tabs: the old tab gets canvas:stop for it (not live:stop while another agent watches), the new one canvas:want', async () => {
    const one = await w.tab();
    const two = await w.tab({ start: await startTab(server, { sessionId: one.tab.sessionId, visitorId: one.tab.visitorId }) });
    const sid = one.tab.sessionId;
    const a = await w.agent();
    const b = await w.agent();
    expect((await join(a.sock, sid, one.tab.tabId)).ok).toBe(true);
    expect((await join(b.sock, sid, one.tab.tabId)).ok).toBe(true);
    const wants = (rec: typeof one.rec, peer: string) => rec.of('canvas:want').filter((x: { agentPeerId: string }) => x.agentPeerId === peer).length;
    await waitFor(() => wants(one.rec, a.peerId()) === 1 && wants(one.rec, b.peerId()) === 1, 2_000, 'wants on tab one');
    expect(await call(a.sock, 'live:watch-tab', { sessionId: sid, tabId: two.tab.tabId })).toMatchObject({ ok: true });
    await waitFor(() => one.rec.of('canvas:stop').length === 1 && wants(two.rec, a.peerId()) === 1, 2_000, 'stop on one, want on two');
    expect(one.rec.of('canvas:stop')[0]).toEqual({ agentPeerId: a.peerId() });
    expect(one.rec.of('live:stop')).toEqual([]);
    // Back again: tab one is asked afresh (a watcher it was once asked for is not skipped), tab two stops.
    expect(await call(a.sock, 'live:watch-tab', { sessionId: sid, tabId: one.tab.tabId })).toMatchObject({ ok: true });
    await waitFor(() => wants(one.rec, a.peerId()) === 2, 2_000, 'want again on one');
    // Tab two has no watcher left: live:stop stops everything there.
    await waitFor(() => two.rec.of('live:stop').length === 1, 2_000, 'live:stop on two');
    // b leaves: tab one stops streaming to it.
    b.sock.emit('live:leave', { sessionId: sid });
    await waitFor(() => one.rec.of('canvas:stop').some((x: { agentPeerId: string }) => x.agentPeerId === b.peerId()), 2_000, 'stop for b');
  });
});
