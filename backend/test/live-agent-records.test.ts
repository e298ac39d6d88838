import { describe, expect, it } from 'vitest';
import type { AgentRecord } from '@tandem/storage';
import { AgentRecords } from '../src/live/agent-records.js';

// The live handshake's agent records (agent-records.ts): kept for the TTL so a join does not wait on
// storage, forgotten at once on removal, never kept across a forget that happened during the read.

const agent = (id: string, disabled = false): AgentRecord => ({
  id, projectId: 'p1', email: `${id}@example.com`, name: id, role: 'agent', passwordHash: 'x', createdAt: 1, disabled,
});

function fakeStore(records: Map<string, AgentRecord>) {
  const reads: string[] = [];
  let gate: Promise<void> | null = null;
  return {
    reads,
    hold(p: Promise<void>) { gate = p; },
    async getAgent(id: string) {
      reads.push(id);
      if (gate) await gate;
      return records.get(id) ?? null;
    },
  };
}

describe('AgentRecords', () => {
  it('reads storage once per TTL for a known agent, every time for an unknown one', async () => {
    let now = 1_000;
    const store = fakeStore(new Map([['a1', agent('a1')]]));
    const recs = new AgentRecords(store, 30_000, () => now);
    expect((await recs.get('a1'))?.id).toBe('a1');
    expect((await recs.get('a1'))?.id).toBe('a1');
    expect(store.reads).toEqual(['a1']);
    now += 30_001;
    await recs.get('a1');
    expect(store.reads).toEqual(['a1', 'a1']);
    expect(await recs.get('nobody')).toBeNull();
    expect(await recs.get('nobody')).toBeNull();
    expect(store.reads.filter((r) => r === 'nobody')).toHaveLength(2);
  });

  it('forget and a re-check that finds the agent gone or disabled make the next handshake read storage', async () => {
    const records = new Map([['a1', agent('a1')]]);
    const store = fakeStore(records);
    const recs = new AgentRecords(store);
    await recs.get('a1');
    records.delete('a1');
    recs.forget('a1');
    expect(await recs.get('a1')).toBeNull();
    records.set('a2', agent('a2'));
    await recs.get('a2');
    records.set('a2', agent('a2', true));
    recs.refreshed('a2', records.get('a2')!);
    expect((await recs.get('a2'))?.disabled).toBe(true);
    expect(store.reads).toEqual(['a1', 'a1', 'a2', 'a2']);
  });

  it('does not keep a read that was in flight when the agent was forgotten', async () => {
    const store = fakeStore(new Map([['a1', agent('a1')]]));
    const recs = new AgentRecords(store);
    let release!: () => void;
    store.hold(new Promise<void>((r) => (release = r)));
    const pending = recs.get('a1');
    recs.forget('a1'); // removed while the read was on its way: its answer may predate the removal
    release();
    expect((await pending)?.id).toBe('a1');
    store.hold(Promise.resolve());
    await recs.get('a1');
    expect(store.reads).toEqual(['a1', 'a1']);
  });
});
