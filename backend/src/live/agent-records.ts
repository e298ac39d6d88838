import type { AgentRecord, Store } from '@tandem/storage';

/**
 * How long an agent record read by a socket handshake is reused. Why: every live view opens a socket,
 * and its join waited on this storage read (a chDB query, queued behind ingest writes: 10-100+ ms of
 * the agent's "join → first frame"). A removal is seen at once (`forget`, on every node); a change made
 * in storage alone (disabling) within this long, as the periodic re-check already lets open sockets
 * stay up to config.liveAgentRecheckMs (60 s).
 */
export const AGENT_RECORD_TTL_MS = 30_000;
/** Entries kept at most (one per agent; cleared past it rather than grown). */
const MAX_ENTRIES = 10_000;

/**
 * The agent records the live handshake checks a login cookie against. Only agents that exist are
 * kept: an unknown id reads storage every time (it is refused anyway).
 */
export class AgentRecords {
  private readonly byId = new Map<string, { agent: AgentRecord; until: number }>();
  /** Bumped by every forget: a read in flight across one may predate it and is not kept. */
  private generation = 0;

  constructor(private readonly store: Pick<Store, 'getAgent'>, private readonly ttlMs = AGENT_RECORD_TTL_MS, private readonly now = Date.now) {}

  async get(agentId: string): Promise<AgentRecord | null> {
    const hit = this.byId.get(agentId);
    if (hit && hit.until > this.now()) return hit.agent;
    const generation = this.generation;
    const agent = await this.store.getAgent(agentId);
    if (agent) this.remember(agent, generation);
    else this.byId.delete(agentId);
    return agent;
  }

  /** A fresh read (the periodic re-check): kept if the agent may still sign in, forgotten otherwise. */
  refreshed(agentId: string, agent: AgentRecord | null): void {
    if (agent && !agent.disabled) this.remember(agent, this.generation);
    else this.forget(agentId);
  }

  /** The agent was removed or changed: the next handshake reads storage. */
  forget(agentId: string): void {
    this.generation++;
    this.byId.delete(agentId);
  }

  private remember(agent: AgentRecord, generation: number): void {
    if (generation !== this.generation) return;
    if (this.byId.size >= MAX_ENTRIES) this.byId.clear();
    this.byId.set(agent.id, { agent, until: this.now() + this.ttlMs });
  }
}
