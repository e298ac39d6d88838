import { afterEach, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import type { ProjectRecord, Store } from '@tandem/storage';
import type { TabPage, TandemEvent } from '@tandem/protocol';
import { createMetrics } from '../src/metrics.js';
import { LiveRegistry, type LiveRegistryOptions } from '../src/live/registry.js';
import { checkBatch, parsePage } from '../src/live/schemas.js';
import { Throttle } from '../src/live/throttle.js';
import { bufferedBytes, DrainWatcher } from '../src/live/backpressure.js';
import { ConsentPolicy } from '../src/live/consent.js';
import { describeUserAgent } from '../src/live/session-info.js';
import type { ProjectCache } from '../src/context.js';
import type { AgentIdentity, AssistSocket, TabIdentity } from '../src/live/types.js';

// The room logic with plain objects for sockets: the paths that are hard to drive over real sockets
// (a queue that grows on demand, consent toggled between two reads, timers).

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PAGE: TabPage = { url: 'https://a.test/', title: 'A', visible: true, focused: true };

function tabPeer(id: string) {
  const got: [string, any][] = [];
  return {
    id, got, disconnect: vi.fn(),
    emit: (event: string, ...args: unknown[]) => void got.push([event, args[0]]),
    of: (name: string) => got.filter(([e]) => e === name).map(([, p]) => p),
  };
}

function agentPeer(id: string) {
  const got: [string, any][] = [];
  const peer = {
    id, got, buffered: 0,
    emit: (event: string, ...args: unknown[]) => void got.push([event, args[0]]),
    bufferedBytes: () => peer.buffered,
    of: (name: string) => got.filter(([e]) => e === name).map(([, p]) => p),
    seqs: () => peer.of('live:events').flatMap((m: { events: TandemEvent[] }) => m.events.map((e) => e.seq)),
  };
  return peer;
}

function events(from: number, count: number, metaAt = -1): TandemEvent[] {
  return Array.from({ length: count }, (_, i) => ({ seq: from + i, type: from + i === metaAt ? 4 : 3, timestamp: 1, data: {} })) as unknown as TandemEvent[];
}

const tabId = (n: number) => `tab-${String(n).padStart(6, '0')}`;
const SID = 'session-0001';

function identity(n = 1, over: Partial<TabIdentity> = {}): TabIdentity {
  return { role: 'tab', projectId: 'p1', sessionId: SID, tabId: tabId(n), visitorId: 'visitor-1', page: PAGE, userAgent: '', ...over };
}
const LOGIN: AgentIdentity = { role: 'agent', projectId: 'p1', agentId: 'agent-1', name: 'Ann', via: 'login', capabilities: ['view'] };

let registries: LiveRegistry[] = [];
afterEach(() => {
  for (const r of registries) r.close();
  registries = [];
});

function makeRegistry(opts: Partial<LiveRegistryOptions> = {}, consent = { value: false }) {
  const metrics = createMetrics();
  const policy = { requireConsent: vi.fn(async () => consent.value), projectChanged: vi.fn() };
  const registry = new LiveRegistry(
    { graceMs: 50, backpressureBytes: 1000, maxSessionsPerAgent: 2, drainPollMs: 5, sessionIntervalMs: 20, listIntervalMs: 20, ...opts },
    { log: pino({ level: 'silent' }), metrics, consent: policy },
  );
  registries.push(registry);
  return { registry, metrics, policy };
}

describe('checkBatch', () => {
  it('accepts consecutive integer seqs and finds the first Meta', () => {
    expect(checkBatch({ events: events(5, 4, 7) })).toMatchObject({ ok: true, metaIndex: 2 });
    expect(checkBatch({ events: events(5, 2) })).toMatchObject({ ok: true, metaIndex: -1 });
  });
  it.each([
    ['not an array', { events: 'x' }],
    ['empty', { events: [] }],
    ['a hole', { events: [...events(0, 2), ...events(3, 1)] }],
    ['a repeat', { events: [...events(0, 2), ...events(1, 1)] }],
    ['a string seq', { events: [{ seq: '1', type: 3, timestamp: 1 }] }],
    ['a fractional seq', { events: [{ seq: 1.5, type: 3, timestamp: 1 }] }],
    ['no type', { events: [{ seq: 1, timestamp: 1 }] }],
    ['null event', { events: [null] }],
    ['no body', null],
  ])('refuses %s', (_why, raw) => {
    expect(checkBatch(raw).ok).toBe(false);
  });
});

describe('parsePage and describeUserAgent', () => {
  it('trims page info and refuses what is not one', () => {
    expect(parsePage({ url: 'u'.repeat(5000), title: 3, visible: false, userId: 'bob' })).toEqual({
      url: 'u'.repeat(4096), title: '', visible: false, focused: false, userId: 'bob',
    });
    expect(parsePage({ title: 'no url' })).toBeNull();
    expect(parsePage('x')).toBeNull();
  });
  it('names browser and OS like the stored sessions', () => {
    expect(describeUserAgent('Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0')).toEqual({ browser: 'Firefox', os: 'Windows 10' });
    expect(describeUserAgent('')).toEqual({ browser: '', os: '' });
  });
});

describe('Throttle', () => {
  it('coalesces a burst into at most one run per interval, the last on the trailing edge', async () => {
    let runs = 0;
    let state = 0;
    const seen: number[] = [];
    const t = new Throttle(50, () => {
      runs++;
      seen.push(state);
    });
    for (let i = 1; i <= 100; i++) {
      state = i;
      t.schedule();
      if (i % 10 === 0) await sleep(5);
    }
    await sleep(120);
    expect(runs).toBeLessThanOrEqual(3);
    expect(seen.at(-1)).toBe(100);
    t.cancel();
  });
  it('urgent runs on the next tick even inside the interval, but not more often than its own interval', async () => {
    let runs = 0;
    const t = new Throttle(10_000, () => runs++);
    t.schedule(true);
    await sleep(5);
    t.schedule(true);
    await sleep(5);
    expect(runs).toBe(2);
    t.cancel();
    let limited = 0;
    const u = new Throttle(10_000, () => limited++, 40);
    const until = Date.now() + 200;
    while (Date.now() < until) {
      u.schedule(true);
      await sleep(1);
    }
    await sleep(50);
    expect(limited).toBeGreaterThanOrEqual(3);
    expect(limited).toBeLessThanOrEqual(7);
    u.cancel();
  });
});

describe('bufferedBytes', () => {
  const sock = (conn: unknown) => ({ conn }) as unknown as AssistSocket;
  it('adds the uWS queue of a websocket to engine.io\'s write buffer', () => {
    const s = sock({ transport: { name: 'websocket', socket: { getBufferedAmount: () => 700 } }, writeBuffer: [{ data: 'abc' }, { data: Buffer.alloc(10) }] });
    expect(bufferedBytes(s)).toBe(713);
  });
  it('counts the write buffer of a polling socket and survives a closed uWS socket', () => {
    expect(bufferedBytes(sock({ transport: { name: 'polling' }, writeBuffer: [{ data: 'x'.repeat(50) }] }))).toBe(50);
    const closed = sock({ transport: { name: 'websocket', socket: { getBufferedAmount: () => { throw new Error('closed'); } } }, writeBuffer: [] });
    expect(bufferedBytes(closed)).toBe(0);
  });
});

describe('DrainWatcher', () => {
  it('hands a key back once its queue is under the low-water mark, and stops polling', async () => {
    let queued = 5000;
    const drained: string[] = [];
    const w = new DrainWatcher<string>(100, (k) => drained.push(k), 5);
    w.watch('a', () => queued);
    await sleep(30);
    expect(drained).toEqual([]);
    queued = 50;
    await sleep(30);
    expect(drained).toEqual(['a']);
    expect(w.size).toBe(0);
  });
});

describe('LiveRegistry', () => {
  function setup(opts: Partial<LiveRegistryOptions> = {}, consent = { value: false }) {
    const r = makeRegistry(opts, consent);
    const tab = tabPeer('t1');
    r.registry.tabConnected(identity(1), tab);
    const agent = agentPeer('a1');
    r.registry.agentConnected(LOGIN, agent);
    return { ...r, tab, agent };
  }

  it('one pending snapshot serves several joins; a later join asks again', async () => {
    const { registry, tab } = setup();
    const a2 = agentPeer('a2');
    registry.agentConnected({ ...LOGIN, agentId: 'agent-2' }, a2);
    await registry.join('a1', { sessionId: SID });
    await registry.join('a2', { sessionId: SID });
    expect(tab.of('live:start')).toEqual([{ reason: 'join' }]);
    registry.tabEvents('t1', { events: events(0, 3, 0) });
    expect(a2.seqs()).toEqual([0, 1, 2]);
    const a3 = agentPeer('a3');
    registry.agentConnected({ ...LOGIN, agentId: 'agent-3' }, a3);
    await registry.join('a3', { sessionId: SID });
    expect(tab.of('live:start')).toEqual([{ reason: 'join' }, { reason: 'join' }]);
  });

  it('a hole between batches: live agents wait for a snapshot, and one is asked for', async () => {
    const { registry, tab, agent } = setup();
    await registry.join('a1', { sessionId: SID });
    registry.tabEvents('t1', { events: events(0, 3, 0) });
    registry.tabEvents('t1', { events: events(5, 2) }); // 3 and 4 never came
    expect(agent.seqs()).toEqual([0, 1, 2]);
    expect(tab.of('live:start').at(-1)).toEqual({ reason: 'gap' });
    registry.tabEvents('t1', { events: events(7, 3, 8) });
    expect(agent.seqs()).toEqual([0, 1, 2, 8, 9]);
  });

  it('a hole that starts with a Meta needs no request: the agent restarts from it', async () => {
    const { registry, tab, agent } = setup();
    await registry.join('a1', { sessionId: SID });
    registry.tabEvents('t1', { events: events(0, 2, 0) });
    registry.tabEvents('t1', { events: events(10, 2, 10) });
    expect(agent.seqs()).toEqual([0, 1, 10, 11]);
    expect(tab.of('live:start')).toEqual([{ reason: 'join' }]);
  });

  it('backpressure: over the limit the agent gets nothing more, and after draining a snapshot restarts it', async () => {
    const { registry, tab, agent, metrics } = setup({ snapshotRetryMs: 0 });
    const other = agentPeer('a2');
    registry.agentConnected({ ...LOGIN, agentId: 'agent-2' }, other);
    await registry.join('a1', { sessionId: SID });
    await registry.join('a2', { sessionId: SID });
    registry.tabEvents('t1', { events: events(0, 2, 0) });
    agent.buffered = 5000;
    registry.tabEvents('t1', { events: events(2, 2) });
    registry.tabEvents('t1', { events: events(4, 2) });
    expect(agent.seqs()).toEqual([0, 1]);
    expect(other.seqs()).toEqual([0, 1, 2, 3, 4, 5]);
    expect((await metrics.liveBehind.get()).values[0].value).toBe(1);
    const startsBefore = tab.of('live:start').length;
    agent.buffered = 100; // drained: under a quarter of the limit
    await sleep(30);
    expect(tab.of('live:start').slice(startsBefore)).toEqual([{ reason: 'behind' }]);
    registry.tabEvents('t1', { events: events(6, 2) }); // not a snapshot yet
    registry.tabEvents('t1', { events: events(8, 3, 9) });
    expect(agent.seqs()).toEqual([0, 1, 9, 10]);
    expect(other.seqs()).toEqual([...Array(11).keys()]);
    const resyncs = await metrics.liveResyncs.get();
    expect(resyncs.values.find((v) => v.labels.reason === 'behind')?.value).toBe(1);
  });

  it('a newer socket replaces the tab\'s older one, which can no longer act', async () => {
    const { registry, tab, agent } = setup();
    await registry.join('a1', { sessionId: SID });
    const newer = tabPeer('t1b');
    registry.tabConnected(identity(1), newer);
    expect(tab.disconnect).toHaveBeenCalledOnce();
    expect(newer.of('live:start')).toEqual([{ reason: 'join' }]);
    registry.tabEvents('t1', { events: events(0, 2, 0) });
    registry.tabDisconnected('t1');
    registry.tabEvents('t1b', { events: events(0, 2, 0) });
    expect(agent.seqs()).toEqual([0, 1]);
    expect(registry.counts()).toMatchObject({ tabs: 1, agents: 1, forwardingTabs: 1, sessions: 1 });
  });

  it('when a watched tab is gone for good, its agents follow the user to the remaining tab', async () => {
    const { registry, agent } = setup();
    const second = tabPeer('t2');
    registry.tabConnected(identity(2, { page: { ...PAGE, focused: false } }), second);
    const r = await registry.join('a1', { sessionId: SID });
    expect(r.ok && r.tabId).toBe(tabId(1));
    registry.tabDisconnected('t1');
    await sleep(80);
    expect(second.of('live:start')).toEqual([{ reason: 'tab_switch' }]);
    const last = agent.of('live:session').at(-1);
    expect(last.tabs.map((t: { tabId: string }) => t.tabId)).toEqual([tabId(2)]);
    expect(last.tabs[0].watchers).toEqual(['agent-1']);
    expect(agent.of('live:ended')).toEqual([]);
  });

  it('turning consent off releases sessions waiting for an answer', async () => {
    const consent = { value: true };
    const { registry, tab, policy } = setup({}, consent);
    const r = await registry.join('a1', { sessionId: SID });
    expect(r.ok && r.session.awaitingConsent).toBe(true);
    expect(tab.of('consent:request')).toHaveLength(1);
    expect(tab.of('live:start')).toEqual([]);
    consent.value = false;
    registry.projectChanged('p1');
    expect(policy.projectChanged).toHaveBeenCalledWith('p1');
    await sleep(5);
    expect(tab.of('live:start')).toEqual([{ reason: 'join' }]);
  });

  it('the last agent leaving a session that waits for consent withdraws the question', async () => {
    const { registry, tab } = setup({}, { value: true });
    await registry.join('a1', { sessionId: SID });
    registry.leave('a1', SID);
    expect(tab.of('agents').at(-1)).toEqual([]);
    registry.consentAnswer('t1', true); // too late: nobody is asking
    expect(tab.of('live:start')).toEqual([]);
    expect(registry.list('p1')[0].awaitingConsent).toBe(false);
  });

  it('caps the sessions one agent socket joins at once', async () => {
    const { registry, agent } = setup();
    for (const n of [2, 3]) registry.tabConnected(identity(n, { sessionId: `session-000${n}` }), tabPeer(`t${n}`));
    expect((await registry.join('a1', { sessionId: SID })).ok).toBe(true);
    expect((await registry.join('a1', { sessionId: 'session-0002' })).ok).toBe(true);
    expect(await registry.join('a1', { sessionId: 'session-0003' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(agent.of('live:ended')).toEqual([]);
  });

  it('refuses malformed join requests and finds the visitor\'s newest live session', async () => {
    const { registry } = setup();
    expect(await registry.join('a1', { sessionId: '../x' })).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(await registry.join('a1', undefined)).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(await registry.join('a1', { sessionId: 'session-9999' })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    await sleep(2);
    registry.tabConnected(identity(5, { sessionId: 'session-0005' }), tabPeer('t5'));
    expect(registry.sessionOfVisitor('p1', 'visitor-1')).toBe('session-0005');
    expect(registry.sessionOfVisitor('p2', 'visitor-1')).toBeUndefined();
    expect(registry.isLive('p1', SID)).toBe(true);
    expect(registry.isLive('p2', SID)).toBe(false);
  });
});

describe('stored session lookup', () => {
  it('is asked only once an agent sees a session (list or join), once per session', async () => {
    const lookup = vi.fn((_p: string, _s: string, done: (info: { startedAt: number; userId: string; browser: string; os: string }) => void) =>
      queueMicrotask(() => done({ startedAt: 1234, userId: 'bob', browser: 'Safari', os: 'iOS 17' })));
    const registry = new LiveRegistry(
      { graceMs: 50, backpressureBytes: 1000, maxSessionsPerAgent: 4, sessionIntervalMs: 5, listIntervalMs: 5 },
      { log: pino({ level: 'silent' }), metrics: createMetrics(), consent: { requireConsent: async () => false, projectChanged() {} }, lookup: { lookup } },
    );
    registries.push(registry);
    registry.tabConnected(identity(1, { userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36' }), tabPeer('t1'));
    registry.tabConnected(identity(2, { sessionId: 'session-0002' }), tabPeer('t2'));
    expect(lookup).not.toHaveBeenCalled();
    const agent = agentPeer('a1');
    registry.agentConnected(LOGIN, agent);
    await registry.join('a1', { sessionId: SID });
    expect(lookup).toHaveBeenCalledOnce();
    registry.list('p1');
    registry.list('p1');
    expect(lookup).toHaveBeenCalledTimes(2);
    await sleep(20);
    const s = registry.list('p1').find((x) => x.sessionId === SID)!;
    // The stored start wins; what the live tab said already (its User-Agent) is kept.
    expect(s).toMatchObject({ startedAt: 1234, userId: 'bob', browser: 'Chrome', os: 'Linux' });
    expect(agent.of('live:session').at(-1).startedAt).toBe(1234);
  });
});

describe('ConsentPolicy', () => {
  it('reads the shared project cache, but straight from the store after projectChanged', async () => {
    const project = { id: 'p1', requireConsent: false } as ProjectRecord;
    const cache = { byProjectId: vi.fn(async () => project) } as unknown as ProjectCache;
    const store = { getProject: vi.fn(async () => ({ ...project, requireConsent: true })) } as unknown as Store;
    const policy = new ConsentPolicy(cache, store);
    expect(await policy.requireConsent('p1')).toBe(false);
    expect(await policy.requireConsent('p1')).toBe(false);
    expect(cache.byProjectId).toHaveBeenCalledOnce();
    policy.projectChanged('p1');
    expect(await policy.requireConsent('p1')).toBe(true);
    expect(store.getProject).toHaveBeenCalledOnce();
    // Records written before the field existed read as "no consent needed".
    const old = new ConsentPolicy({ byProjectId: async () => ({ id: 'p2' }) } as unknown as ProjectCache, store);
    expect(await old.requireConsent('p2')).toBe(false);
  });
});
