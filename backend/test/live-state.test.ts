import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Redis } from 'ioredis';
import type { LiveSession } from '@tandem/protocol';
import { MemoryLiveState } from '../src/live/state/memory-state.js';
import { RedisLiveState } from '../src/live/state/redis-state.js';
import { mergeSessions, type LiveState } from '../src/live/state/live-state.js';
import { startTestRedis } from './redis-server.js';

/**
 * The shared room state (issue 9) against a real redis-server on a free loopback port: two nodes'
 * RedisLiveState on one Redis, and the single-process MemoryLiveState behind the same interface.
 */
let redis: ChildProcess;
let port: number;
const clients: Redis[] = [];
const states: LiveState[] = [];

beforeAll(async () => {
  ({ child: redis, port } = await startTestRedis());
});

afterAll(async () => {
  for (const s of states) await s.close();
  for (const c of clients) c.disconnect();
  redis?.kill('SIGKILL');
});

async function node(id: string): Promise<RedisLiveState> {
  const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
  clients.push(client);
  const errors: string[] = [];
  const state = new RedisLiveState(client, id, { log: pino({ level: 'silent' }), onError: (op) => errors.push(op) });
  await state.start();
  states.push(state);
  return state;
}

const session = (sessionId: string, connectedAt: number, agents: string[] = []): LiveSession => ({
  sessionId, visitorId: 'visitor-1', userId: '', startedAt: connectedAt, activeTabId: 'tab-1',
  tabs: [{ tabId: 'tab-1', url: 'https://x/', title: '', visible: true, focused: true, connectedAt, clockOffsetMs: 0, watchers: [] }],
  agents: agents.map((name) => ({ id: name, name, via: 'login' as const })), browser: '', os: '', awaitingConsent: false,
});

describe('RedisLiveState (two nodes, one Redis)', () => {
  it('a session has one home: the last node to claim it; a home is released only by its owner', async () => {
    const a = await node('node-a');
    const b = await node('node-b');
    expect(await a.claimHome('p1', 'session-0001')).toBeNull();
    expect(await b.homeOf('p1', 'session-0001')).toBe('node-a');
    expect(await b.claimHome('p1', 'session-0001')).toBe('node-a');
    expect(await a.homeOf('p1', 'session-0001')).toBe('node-b');
    a.releaseHome('p1', 'session-0001'); // not a's any more: stays b's
    await new Promise((r) => setTimeout(r, 100));
    expect(await a.homeOf('p1', 'session-0001')).toBe('node-b');
    b.releaseHome('p1', 'session-0001');
    await new Promise((r) => setTimeout(r, 100));
    expect(await a.homeOf('p1', 'session-0001')).toBeNull();
  });

  it('merges every alive node\'s part of the live list, one entry per session (the newest tab wins)', async () => {
    const a = await node('node-c');
    const b = await node('node-d');
    await a.publishSessions('p2', [session('session-a001', 1000), session('session-both', 1000, ['old'])]);
    await b.publishSessions('p2', [session('session-b001', 2000), session('session-both', 3000, ['new'])]);
    const list = await a.sessions('p2');
    expect(list.map((s) => s.sessionId).sort()).toEqual(['session-a001', 'session-b001', 'session-both']);
    expect(list.find((s) => s.sessionId === 'session-both')!.agents[0].name).toBe('new');
    expect(await b.sessions('p3')).toEqual([]); // another project sees nothing
  });

  it("a node that stops heart-beating is dead: its sessions' home and list part no longer count", async () => {
    const a = await node('node-e');
    const dead = await node('node-f');
    await dead.claimHome('p4', 'session-f001');
    await dead.publishSessions('p4', [session('session-f001', 1000)]);
    expect(await a.homeOf('p4', 'session-f001')).toBe('node-f');
    // kill -9: the process stops refreshing (no close(), nothing removed); its heartbeat lapses in 3 s.
    (dead as unknown as { timers: NodeJS.Timeout[] }).timers.forEach(clearInterval);
    await new Promise((r) => setTimeout(r, 3_600));
    expect((await a.aliveNodes()).has('node-f')).toBe(false);
    expect(await a.homeOf('p4', 'session-f001')).toBeNull();
    expect(await a.sessions('p4')).toEqual([]);
  });

  it('keeps a room record for the next home (consent survives a failover)', async () => {
    const a = await node('node-g');
    const b = await node('node-h');
    a.saveRoom('p5', 'session-g001', { node: 'node-g', consent: 'accepted', agents: [], watching: { s1: 'tab-1' }, control: null, updatedAt: 1 });
    await new Promise((r) => setTimeout(r, 100));
    expect((await b.loadRoom('p5', 'session-g001'))?.consent).toBe('accepted');
  });

  it('the connect budget is one for the cluster: two nodes share one burst per key', async () => {
    const a = await node('node-i');
    const b = await node('node-j');
    const cfg = { perSecond: 0.001, burst: 10 };
    const la = a.limiter('connect-ip', cfg);
    const lb = b.limiter('connect-ip', cfg);
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? la : lb).take('10.0.0.1')));
    expect(results.filter(Boolean).length).toBe(10);
    expect(await la.take('10.0.0.2')).toBe(true); // another address has its own budget
  });
});

describe('MemoryLiveState (one process)', () => {
  it('answers the same interface without anything shared', async () => {
    const m = new MemoryLiveState('solo');
    expect(m.shared).toBe(false);
    expect(await m.claimHome('p', 'session-0001')).toBeNull();
    expect(await m.homeOf('p', 'session-0001')).toBe('solo');
    await m.publishSessions('p', [session('session-0001', 1)]);
    expect((await m.sessions('p')).length).toBe(1);
    const limiter = m.limiter('x', { perSecond: 0.001, burst: 2 });
    expect([await limiter.take('k'), await limiter.take('k'), await limiter.take('k')]).toEqual([true, true, false]);
    expect(mergeSessions([[session('s', 1)], [session('s', 2, ['n'])]])[0].agents[0].name).toBe('n');
  });
});
