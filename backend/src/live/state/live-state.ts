import type { AgentPresence, LiveSession } from '@tandem/protocol';
import type { RateLimitConfig } from '../../config.js';
import type { ConsentState } from '../rooms.js';

/**
 * Room state that is not a socket.io room, as every node sees it (DESIGN.md §7, issue 9).
 *
 * A live session is served by one node at a time, its *home*: the node its newest tab socket is on.
 * The home keeps the room in memory (registry.ts) and is the one authority for it (control, consent,
 * who watches which tab); agents on other nodes act through it (cluster-link.ts). This interface is
 * what the nodes share: where each room is served, a copy of each room's state (read by the other
 * nodes and by the next home after a failover), the live list across nodes and the new-connection
 * budgets. Everything shared expires by itself, so a node that dies (kill -9) leaves nothing stale
 * beyond a few seconds.
 *
 * Two implementations: memory-state.ts (one process, the default: nothing else to run) and
 * redis-state.ts (TANDEM_REDIS_URL).
 */
export interface LiveState {
  /** This process's id among the nodes (TANDEM_NODE_ID, else host:pid:random). */
  readonly nodeId: string;
  /** Shared with other processes (Redis), or this process alone (memory). */
  readonly shared: boolean;

  /** This node serves the session from now on (a tab of it connected here); answers the node that served it before. */
  claimHome(projectId: string, sessionId: string): Promise<string | null>;
  /** The session left this node (its last tab here is gone); only clears the entry if it is still ours. */
  releaseHome(projectId: string, sessionId: string): void;
  /** The node serving the session, if that node is alive; null when no node does. */
  homeOf(projectId: string, sessionId: string): Promise<string | null>;

  /** The home's copy of a room's state (written when it changes; expires unless rewritten). */
  saveRoom(projectId: string, sessionId: string, record: RoomRecord): void;
  loadRoom(projectId: string, sessionId: string): Promise<RoomRecord | null>;

  /** This node's live sessions of a project (its part of the live list). */
  publishSessions(projectId: string, sessions: LiveSession[]): Promise<void>;
  /** Every alive node's live sessions of a project, one entry per session (the newest tab wins). */
  sessions(projectId: string): Promise<LiveSession[]>;

  /** This node holds the upload of a call recording: its chunks must reach it (cluster-recordings.ts). */
  holdRecording(recordingId: string): Promise<void>;
  /** The node holding a recording's upload, if that node is alive; null when none does (or this process alone). */
  recordingHolder(recordingId: string): Promise<string | null>;

  /** Ids of the nodes alive now (this one included). */
  aliveNodes(): Promise<Set<string>>;

  /** New-connection budget shared by every node (a client cannot multiply it by the number of nodes). */
  limiter(name: string, config: RateLimitConfig): SharedLimiter;

  /** Can the shared state be used now? (Always true in memory.) */
  ready(): Promise<boolean>;
  /** Stops timers and closes connections; this node's entries are removed when it can. */
  close(): Promise<void>;
}

export interface SharedLimiter {
  /** Takes one token; false when the key is over its rate. */
  take(key: string): Promise<boolean> | boolean;
}

/** What a room's home writes for the others: enough to list it and to restore it after a failover. */
export interface RoomRecord {
  node: string;
  consent: ConsentState;
  /** Agents present (the banner's list). */
  agents: AgentPresence[];
  /** The tab each agent socket watches, by agent socket id. */
  watching: Record<string, string>;
  /** The agent socket holding control (peer id `agent:<socket>`), if any, and on which tab. */
  control: { agentPeerId: string; tabId: string } | null;
  updatedAt: number;
}

/** Merges several nodes' parts of a live list: one entry per session, the one with the newest tab. */
export function mergeSessions(parts: LiveSession[][]): LiveSession[] {
  const best = new Map<string, LiveSession>();
  const newest = (s: LiveSession) => s.tabs.reduce((m, t) => Math.max(m, t.connectedAt), 0);
  for (const part of parts) {
    for (const s of part) {
      const seen = best.get(s.sessionId);
      if (!seen || newest(s) > newest(seen)) best.set(s.sessionId, s);
    }
  }
  return [...best.values()].sort((a, b) => b.startedAt - a.startedAt);
}
