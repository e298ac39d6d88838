import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AssistState, PendingRequest } from '@tandem/protocol';
import { startTab, startTestServer, type TestServer } from './helpers.js';
import { sleep, waitFor } from './live-helpers.js';
import { AssistWorld, ask, emit, join, lastState, stateWhere } from './assist-helpers.js';

// signal.ts R1-R4 over real sockets: requests, prompts, answers, timeouts, capabilities, control
// ownership. A short request timeout and grace period so both paths run in real time.
const TIMEOUT_MS = 400;
const GRACE_MS = 800;
let server: TestServer;
let w: AssistWorld;

beforeAll(async () => {
  server = await startTestServer({
    assistRequestTimeoutMs: TIMEOUT_MS,
    liveGraceMs: GRACE_MS,
    startRateLimit: { perSecond: 1000, burst: 1000 },
    loginRateLimit: { perSecond: 100, burst: 100 },
  });
  w = await new AssistWorld(server).init();
}, 60_000); // a loaded machine (2 cores, several suites) can take long to start chDB
afterAll(async () => server?.dispose());
afterEach(() => w.closeAll());

/** A live tab with a signed-in agent (Admin) joined to it. */
async function watched() {
  const t = await w.tab();
  const a = await w.agent();
  const j = await join(a.sock, t.tab.sessionId);
  expect(j.ok).toBe(true);
  await waitFor(() => t.rec.of('live:start').length > 0, 3_000, 'live:start');
  return { t, a };
}

describe('R1: nothing starts before the user accepts', () => {
  it('call: request → prompt naming the agent on the tab → accept → result and state on both sides', async () => {
    const { t, a } = await watched();
    // ICE config came before the first live:start, and to the agent after its join.
    const first = t.rec.log.findIndex(([e]) => e === 'rtc:config');
    expect(first).toBeGreaterThanOrEqual(0);
    expect(first).toBeLessThan(t.rec.log.findIndex(([e]) => e === 'live:start'));
    expect(t.rec.of('rtc:config')[0]).toEqual({ iceServers: [] });
    await waitFor(() => a.rec.of('rtc:config').length === 1);
    expect(a.rec.of('rtc:config')[0]).toEqual({ sessionId: t.tab.sessionId, iceServers: [] });

    const r = await ask(a.sock, t.tab.sessionId, 'call');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const prompt: PendingRequest = await waitFor(() => t.rec.of('assist:request')[0], 2_000, 'prompt');
    expect(prompt).toMatchObject({ requestId: r.requestId, feature: 'call', agent: { name: 'Admin', via: 'login', peerId: a.peerId() } });
    expect(prompt.expiresAt).toBeGreaterThan(Date.now());
    await stateWhere(t.rec, (s) => s.pending.length === 1);
    await stateWhere(a.rec, (s) => s.pending[0]?.requestId === r.requestId);
    expect(lastState(t.rec)!.call).toBeNull();

    emit(t.sock, 'assist:answer', { requestId: r.requestId, accepted: true });
    await waitFor(() => a.rec.of('assist:result').length === 1, 2_000, 'result');
    expect(a.rec.of('assist:result')[0]).toEqual({ sessionId: t.tab.sessionId, requestId: r.requestId, feature: 'call', outcome: 'accepted' });
    const expected = (s: AssistState) => s.call?.tabId === t.tab.tabId && s.call.agents.length === 1 && s.pending.length === 0;
    const onTab = await stateWhere(t.rec, expected);
    await stateWhere(a.rec, expected);
    expect(onTab.call!.agents[0]).toMatchObject({ name: 'Admin', peerId: a.peerId() });

    // Hang up from the agent side: the call ends (no agents left).
    emit(a.sock, 'assist:end', { sessionId: t.tab.sessionId, feature: 'call' });
    await stateWhere(t.rec, (s) => s.call === null);
  });

  it('decline tells the agent; nothing is granted', async () => {
    const { t, a } = await watched();
    const r = await ask(a.sock, t.tab.sessionId, 'control');
    if (!r.ok) throw new Error(r.error.message);
    await waitFor(() => t.rec.of('assist:request').length === 1);
    emit(t.sock, 'assist:answer', { requestId: r.requestId, accepted: false });
    await waitFor(() => a.rec.of('assist:result').length === 1);
    expect(a.rec.of('assist:result')[0]).toMatchObject({ requestId: r.requestId, outcome: 'declined' });
    const s = await stateWhere(t.rec, (x) => x.pending.length === 0);
    expect(s.control).toBeNull();
    // Answering again (or a made-up id) is refused with a code.
    emit(t.sock, 'assist:answer', { requestId: r.requestId, accepted: true });
    await waitFor(() => t.rec.of('assist:refused').length === 1);
    expect(t.rec.of('assist:refused')[0]).toMatchObject({ event: 'assist:answer', code: 'not_found' });
  });

  it('no answer within the timeout is a timeout (server timer); a late accept grants nothing', async () => {
    const { t, a } = await watched();
    const started = Date.now();
    const r = await ask(a.sock, t.tab.sessionId, 'call');
    if (!r.ok) throw new Error(r.error.message);
    await waitFor(() => a.rec.of('assist:result').length === 1, 3_000, 'timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
    expect(a.rec.of('assist:result')[0]).toMatchObject({ requestId: r.requestId, feature: 'call', outcome: 'timeout' });
    await stateWhere(t.rec, (s) => s.pending.length === 0);
    emit(t.sock, 'assist:answer', { requestId: r.requestId, accepted: true });
    await waitFor(() => t.rec.of('assist:refused').length === 1);
    expect(lastState(a.rec)!.call).toBeNull();
  });

  it('an agent withdraws its request: cancelled, and the prompt leaves the state', async () => {
    const { t, a } = await watched();
    const r = await ask(a.sock, t.tab.sessionId, 'annotate');
    if (!r.ok) throw new Error(r.error.message);
    await stateWhere(t.rec, (s) => s.pending.length === 1);
    emit(a.sock, 'assist:end', { sessionId: t.tab.sessionId, feature: 'annotate' });
    await waitFor(() => a.rec.of('assist:result').length === 1);
    expect(a.rec.of('assist:result')[0]).toMatchObject({ outcome: 'cancelled' });
    await stateWhere(t.rec, (s) => s.pending.length === 0);
  });
});

describe('R2: capabilities and membership are checked on the server', () => {
  it('a watch link without call/control/annotate/record gets forbidden for each, and the tab sees no prompt', async () => {
    const t = await w.tab();
    const viewOnly = await w.linkAgent(t.tab, 'Viewer', ['view']);
    expect((await join(viewOnly.sock, t.tab.sessionId)).ok).toBe(true);
    for (const feature of ['call', 'control', 'annotate', 'record']) {
      const r = await ask(viewOnly.sock, t.tab.sessionId, feature);
      expect(r).toMatchObject({ ok: false, error: { code: 'forbidden' } });
      if (!r.ok) expect(r.error.message).toContain(`"${feature}"`);
    }
    // A link with some capabilities may ask for those only.
    const some = await w.linkAgent(t.tab, 'Partial', ['view', 'annotate']);
    expect((await join(some.sock, t.tab.sessionId)).ok).toBe(true);
    expect(await ask(some.sock, t.tab.sessionId, 'control')).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect((await ask(some.sock, t.tab.sessionId, 'annotate')).ok).toBe(true);
    await waitFor(() => t.rec.of('assist:request').length === 1);
    expect(t.rec.of('assist:request').map((p: PendingRequest) => p.feature)).toEqual(['annotate']);
  });

  it('an agent that has not joined the session, or sends nonsense, is refused', async () => {
    const t = await w.tab();
    const a = await w.agent();
    expect(await ask(a.sock, t.tab.sessionId, 'call')).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect((await join(a.sock, t.tab.sessionId)).ok).toBe(true);
    expect(await ask(a.sock, t.tab.sessionId, 'teleport')).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(await ask(a.sock, 'short', 'call')).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    await sleep(50);
    expect(t.rec.of('assist:request')).toEqual([]);
  });

  it('recording needs a call that includes the agent', async () => {
    const { t, a } = await watched();
    const r = await ask(a.sock, t.tab.sessionId, 'record');
    expect(r).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });
});

describe('R2/R4: one controller', () => {
  /** Admin (login) holds control of a watched tab; Dana (watch link with control) is in the session too. */
  async function controlled() {
    const { t, a } = await watched();
    const dana = await w.linkAgent(t.tab, 'Dana', ['view', 'control', 'annotate']);
    expect((await join(dana.sock, t.tab.sessionId)).ok).toBe(true);
    const r = await ask(a.sock, t.tab.sessionId, 'control');
    if (!r.ok) throw new Error(r.error.message);
    await waitFor(() => t.rec.of('assist:request').length === 1);
    emit(t.sock, 'assist:answer', { requestId: r.requestId, accepted: true });
    await stateWhere(t.rec, (s) => s.control?.agent.peerId === a.peerId());
    return { t, a, dana };
  }

  it('a second agent asking gets busy naming the holder; the holder may also draw without a prompt', async () => {
    const { t, a, dana } = await controlled();
    const s = lastState(t.rec)!;
    expect(s.control).toMatchObject({ tabId: t.tab.tabId, agent: { name: 'Admin' } });
    expect(s.annotate.map((x) => x.peerId)).toEqual([a.peerId()]);
    const r = await ask(dana.sock, t.tab.sessionId, 'control');
    expect(r).toMatchObject({ ok: false, error: { code: 'busy' } });
    if (!r.ok) expect(r.error.message).toContain('Admin');
    const draw = await ask(a.sock, t.tab.sessionId, 'annotate');
    expect(draw.ok).toBe(true);
    await waitFor(() => a.rec.of('assist:result').some((x: { feature: string; outcome: string }) => x.feature === 'annotate' && x.outcome === 'accepted'));
    expect(t.rec.of('assist:request')).toHaveLength(1); // only the control prompt
  });

  it('control:input reaches the tab only from the holder; others are refused and the tab gets nothing', async () => {
    const { t, a, dana } = await controlled();
    const sid = t.tab.sessionId;
    emit(dana.sock, 'control:input', { sessionId: sid, input: { type: 'click', x: 10, y: 20 } });
    await waitFor(() => dana.rec.of('assist:refused').length === 1);
    expect(dana.rec.of('assist:refused')[0]).toMatchObject({ sessionId: sid, event: 'control:input', code: 'forbidden' });
    expect(dana.rec.of('assist:refused')[0].message).toContain('Admin');
    // Malformed input from the holder: refused with the reason, nothing forwarded.
    for (const input of [
      { type: 'navigate', url: 'javascript:alert(1)' },
      { type: 'click', x: 'a', y: 1 },
      { type: 'text', text: 'x'.repeat(10_001) },
      { type: 'click', x: 1, y: 2, extra: true },
      { type: 'format-disk' },
    ]) emit(a.sock, 'control:input', { sessionId: sid, input });
    await waitFor(() => a.rec.of('assist:refused').length === 5, 2_000, 'five refusals');
    expect(a.rec.of('assist:refused').every((x: { code: string }) => x.code === 'bad_request')).toBe(true);
    emit(a.sock, 'control:input', { sessionId: sid, input: { type: 'click', x: 10, y: 20, nodeId: 7, button: 0 } });
    emit(a.sock, 'control:input', { sessionId: sid, input: { type: 'navigate', url: 'http://shop.test/cart' } });
    await waitFor(() => t.rec.of('control:input').length === 2, 2_000, 'forwarded input');
    expect(t.rec.of('control:input')).toEqual([
      { agentPeerId: a.peerId(), input: { type: 'click', x: 10, y: 20, nodeId: 7, button: 0 } },
      { agentPeerId: a.peerId(), input: { type: 'navigate', url: 'http://shop.test/cart' } },
    ]);
  });

  it('control survives the tab reconnecting with the same tabId, and ends when the holder disconnects', async () => {
    const { t, a } = await controlled();
    t.sock.close();
    await sleep(100);
    const back = await w.tab({ start: t.tab, resume: true });
    // The new socket learns the grant at once (no new prompt) and input reaches it.
    const s = await stateWhere(back.rec, (x) => x.control?.agent.peerId === a.peerId());
    expect(s.control!.tabId).toBe(t.tab.tabId);
    expect(back.rec.of('assist:request')).toEqual([]);
    expect(back.rec.of('rtc:config')).toHaveLength(1);
    emit(a.sock, 'control:input', { sessionId: t.tab.sessionId, input: { type: 'key', key: 'Enter' } });
    await waitFor(() => back.rec.of('control:input').length === 1, 2_000, 'input after reconnect');
    a.sock.close();
    await stateWhere(back.rec, (x) => x.control === null && x.annotate.length === 0, 'control gone');
  });

  it('a flood of input is cut at the rate limit, with one refusal per second, and counted in /metrics', async () => {
    const { t, a } = await controlled();
    const sid = t.tab.sessionId;
    for (let i = 0; i < 600; i++) emit(a.sock, 'control:input', { sessionId: sid, input: { type: 'pointer', x: i, y: i } });
    await waitFor(() => a.rec.of('assist:refused').length >= 1, 3_000, 'rate refusal');
    await sleep(300);
    const got = t.rec.of('control:input').length;
    // The burst (240) and what refilled meanwhile (120/s) passed, the rest did not.
    expect(got).toBeGreaterThanOrEqual(240);
    expect(got).toBeLessThan(600);
    // One refusal per second at most, not one per message (the flood takes a moment to arrive).
    const refusals = a.rec.of('assist:refused');
    expect(refusals.length).toBeLessThanOrEqual(5);
    for (const r of refusals) expect(r).toEqual({ event: 'control:input', code: 'rate_limited', message: expect.any(String) });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/tandem_assist_refused_total\{event="control:input",code="rate_limited"\} [1-9]/);
    expect(metrics).toMatch(/tandem_control_inputs_total\{type="pointer"\} [1-9]/);
    expect(metrics).toMatch(/tandem_assist_requests_total\{feature="control",outcome="accepted"\} [1-9]/);
  });

  it('the user takes control back: the holder is told and its input is refused from then on', async () => {
    const { t, a } = await controlled();
    emit(t.sock, 'assist:end', { feature: 'control' });
    await waitFor(() => a.rec.of('assist:ended').length === 1);
    expect(a.rec.of('assist:ended')[0]).toEqual({ sessionId: t.tab.sessionId, feature: 'control', reason: 'user_ended' });
    await stateWhere(a.rec, (s) => s.control === null);
    emit(a.sock, 'control:input', { sessionId: t.tab.sessionId, input: { type: 'click', x: 1, y: 1 } });
    await waitFor(() => a.rec.of('assist:refused').length === 1);
    expect(t.rec.of('control:input')).toEqual([]);
  });

  it('control ends when the tab does not come back within the grace period', async () => {
    const { t, a } = await controlled();
    t.sock.close();
    await waitFor(() => a.rec.of('live:ended').length === 1, GRACE_MS + 3_000, 'session end');
    expect(a.rec.of('assist:ended')).toEqual([{ sessionId: t.tab.sessionId, feature: 'control', reason: 'session_gone' }]);
  });
});

describe('annotations', () => {
  it('strokes are refused until the user lets the agent draw, then forwarded as parsed', async () => {
    const { t, a } = await watched();
    const sid = t.tab.sessionId;
    const stroke = { id: `${a.peerId().slice('agent:'.length)}-lz3k9-1`, points: [1, 2, 3, 4], color: '#ff0066', width: 3, done: false };
    emit(a.sock, 'annotate:stroke', { sessionId: sid, stroke });
    await waitFor(() => a.rec.of('assist:refused').length === 1);
    expect(a.rec.of('assist:refused')[0]).toMatchObject({ event: 'annotate:stroke', code: 'forbidden' });
    const r = await ask(a.sock, sid, 'annotate');
    if (!r.ok) throw new Error(r.error.message);
    await waitFor(() => t.rec.of('assist:request').length === 1);
    emit(t.sock, 'assist:answer', { requestId: r.requestId, accepted: true });
    await stateWhere(a.rec, (s) => s.annotate.length === 1);
    emit(a.sock, 'annotate:stroke', { sessionId: sid, stroke: { ...stroke, points: [1, 2, 3] } }); // odd: refused
    emit(a.sock, 'annotate:stroke', { sessionId: sid, stroke: { ...stroke, color: 'red;background:url(x)' } });
    emit(a.sock, 'annotate:stroke', { sessionId: sid, stroke: { ...stroke, done: true } });
    await waitFor(() => t.rec.of('annotate:stroke').length === 1);
    expect(t.rec.of('annotate:stroke')[0]).toEqual({ agentPeerId: a.peerId(), stroke: { ...stroke, done: true } });
    await waitFor(() => a.rec.of('assist:refused').length === 3);
    // The user stops the drawing: refused again.
    emit(t.sock, 'assist:end', { feature: 'annotate' });
    await stateWhere(a.rec, (s) => s.annotate.length === 0);
    emit(a.sock, 'annotate:stroke', { sessionId: sid, stroke });
    await waitFor(() => a.rec.of('assist:refused').length === 4);
    expect(t.rec.of('annotate:stroke')).toHaveLength(1);
  });
});

describe('leaving and going away', () => {
  it('an agent that leaves loses its place in the call, its drawing grant and its open requests', async () => {
    const { t, a } = await watched();
    const sid = t.tab.sessionId;
    const bob = await w.agent({ cookie: await w.secondLogin('Bob') });
    expect((await join(bob.sock, sid)).ok).toBe(true);
    for (const [ag, feature] of [[a, 'call'], [bob, 'call'], [bob, 'annotate']] as const) {
      const r = await ask(ag.sock, sid, feature);
      if (!r.ok) throw new Error(r.error.message);
      await waitFor(() => t.rec.of('assist:request').some((p: PendingRequest) => p.requestId === r.requestId));
      emit(t.sock, 'assist:answer', { requestId: r.requestId, accepted: true });
    }
    await stateWhere(t.rec, (s) => s.call?.agents.length === 2 && s.annotate.length === 1);
    expect((await ask(bob.sock, sid, 'control')).ok).toBe(true);
    await stateWhere(t.rec, (s) => s.pending.length === 1);
    emit(bob.sock, 'live:leave', { sessionId: sid });
    const s = await stateWhere(t.rec, (x) => x.call?.agents.length === 1 && x.annotate.length === 0 && x.pending.length === 0);
    expect(s.call!.agents[0].peerId).toBe(a.peerId());
    await stateWhere(a.rec, (x) => x.call?.agents.length === 1);
    // The last agent disconnecting ends the call.
    a.sock.close();
    await stateWhere(t.rec, (x) => x.call === null);
  });

  it("a prompt on a tab that goes away is cancelled; the session's other tab lives on", async () => {
    const t1 = await w.tab();
    const t2start = await startTab(server, { sessionId: t1.tab.sessionId, visitorId: t1.tab.visitorId });
    expect(t2start.sessionId).toBe(t1.tab.sessionId);
    const t2 = await w.tab({ start: t2start });
    const a = await w.agent();
    expect((await join(a.sock, t1.tab.sessionId, t1.tab.tabId)).ok).toBe(true);
    await waitFor(() => t1.rec.of('live:start').length > 0);
    const r = await ask(a.sock, t1.tab.sessionId, 'control');
    if (!r.ok) throw new Error(r.error.message);
    await waitFor(() => t1.rec.of('assist:request').length === 1);
    expect(t2.rec.of('assist:request')).toEqual([]);
    // The tracker stopped on that tab (tab:leave): gone at once, before the request could time out.
    emit(t1.sock, 'tab:leave', undefined);
    await waitFor(() => a.rec.of('assist:result').length === 1, 2_000, 'cancelled');
    expect(a.rec.of('assist:result')[0]).toMatchObject({ requestId: r.requestId, outcome: 'cancelled' });
    expect(a.rec.of('live:ended')).toEqual([]);
    await stateWhere(t2.rec, (x) => x.pending.length === 0);
  });
});
