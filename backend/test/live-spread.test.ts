import { afterEach, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import type { TabPage, TandemEvent } from '@tandem/protocol';
import { createMetrics } from '../src/metrics.js';
import { LiveRegistry } from '../src/live/registry.js';
import type { AgentIdentity, TabIdentity } from '../src/live/types.js';

/**
 * The registry's side of a session spread over nodes (cluster-tabs.ts): a tab socket of another node is
 * a TabPeer like any other (not counted as this node's), and a room that moves away hands over its
 * connected tabs (told to stop streaming) and its agents, instead of staying as a second room.
 */
const PAGE: TabPage = { url: 'https://a.test/', title: 'A', visible: true, focused: true };
const SID = 'session-0001';
const identity = (tabId: string): TabIdentity => ({ role: 'tab', projectId: 'p1', sessionId: SID, tabId, visitorId: 'visitor-1', page: PAGE, userAgent: '' });
const LOGIN: AgentIdentity = { role: 'agent', projectId: 'p1', agentId: 'agent-1', name: 'Ann', via: 'login', capabilities: ['view'] };

function peer(id: string, remote = false) {
  const got: [string, unknown][] = [];
  return {
    id, remote, got, disconnect: vi.fn(), bufferedBytes: () => 0,
    emit: (event: string, ...args: unknown[]) => void got.push([event, args[0]]),
    of: (name: string) => got.filter(([e]) => e === name).map(([, p]) => p),
  };
}

let registry: LiveRegistry;
afterEach(() => registry?.close());

describe('a session spread over nodes, in the registry', () => {
  it('streams a hosted tab like a local one, counts only local tab sockets, and hands every connected tab over when the room moves', async () => {
    registry = new LiveRegistry(
      { graceMs: 50, backpressureBytes: 1000, maxSessionsPerAgent: 2, sessionIntervalMs: 20, listIntervalMs: 20 },
      { log: pino({ level: 'silent' }), metrics: createMetrics(), consent: { requireConsent: async () => false, projectChanged: () => {} } },
    );
    const local = peer('t-local');
    const hosted = peer('t-remote', true);
    registry.tabConnected(identity('tab-000001'), local);
    registry.tabConnected(identity('tab-000002'), hosted);
    const agent = peer('a1');
    registry.agentConnected(LOGIN, agent);
    const joined = await registry.join('a1', { sessionId: SID, tabId: 'tab-000002' });
    expect(joined.ok && joined.session.tabs.map((t) => t.tabId).sort()).toEqual(['tab-000001', 'tab-000002']);
    expect(hosted.of('live:start')).toEqual([{ reason: 'join' }]);
    const batch = [{ seq: 0, type: 4, timestamp: 1, data: {} }, { seq: 1, type: 3, timestamp: 1, data: {} }] as unknown as TandemEvent[];
    registry.tabEvents('t-remote', { events: batch });
    expect(agent.of('live:events')).toEqual([{ sessionId: SID, tabId: 'tab-000002', events: batch }]);
    expect(registry.counts()).toMatchObject({ tabs: 1, forwardingTabs: 0, sessions: 1 });

    const moved = registry.movedAway('p1', SID);
    expect(moved?.agents).toEqual([{ peerId: 'a1', tabId: 'tab-000002', remote: false }]);
    expect(moved?.tabs.map(({ peerId, tabId, remote }) => ({ peerId, tabId, remote }))).toEqual([
      { peerId: 't-local', tabId: 'tab-000001', remote: false },
      { peerId: 't-remote', tabId: 'tab-000002', remote: true },
    ]);
    // The streaming tab is told to stop (its new home starts it again); nothing is disconnected.
    expect(hosted.of('live:stop')).toHaveLength(1);
    expect(local.of('live:stop')).toHaveLength(0);
    expect(local.disconnect).not.toHaveBeenCalled();
    expect(hosted.disconnect).not.toHaveBeenCalled();
    expect(registry.isLive('p1', SID)).toBe(false);
    expect(registry.tabOfPeer('t-local')).toBeUndefined();
    // No live:ended: the agents follow the session to its new home.
    expect(agent.of('live:ended')).toEqual([]);
    expect(registry.movedAway('p1', SID)).toBeNull();
  });
});
