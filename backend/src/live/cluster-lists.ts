import type { LiveSession } from '@tandem/protocol';
import type { LiveRegistry } from './registry.js';
import type { LiveState } from './state/live-state.js';
import { mergeSessions } from './state/live-state.js';
import { Throttle } from './throttle.js';

/** Merged live lists at most this often per project (as the single-node list throttle). */
const LIST_INTERVAL_MS = 250;

/**
 * The live list across nodes (issue 9): each node publishes its own sessions of a project to the
 * shared state and says so; every node with listeners of that project then sends them the merged
 * list (every alive node's part, this node's as it is now), throttled per project.
 */
export class ClusterLists {
  private readonly throttles = new Map<string, Throttle>();
  private closed = false;

  constructor(private readonly deps: {
    state: LiveState;
    registry: LiveRegistry;
    /** Tells every other node that the project's list changed. */
    announce(projectId: string): void;
  }) {}

  /** This node's part changed: publish it, tell the others, and refresh this node's listeners. */
  publish(projectId: string, sessions: LiveSession[]): void {
    void this.deps.state.publishSessions(projectId, sessions).then(() => {
      this.deps.announce(projectId);
      this.schedule(projectId);
    });
  }

  /** Every node's sessions of a project, this node's as they are now. */
  async sessions(projectId: string): Promise<LiveSession[]> {
    const shared = await this.deps.state.sessions(projectId);
    return mergeSessions([shared.filter((s) => !this.deps.registry.isLive(projectId, s.sessionId)), this.deps.registry.list(projectId)]);
  }

  /** The project's list changed somewhere: this node's listeners get it (throttled). */
  schedule(projectId: string): void {
    let t = this.throttles.get(projectId);
    if (!t) {
      t = new Throttle(LIST_INTERVAL_MS, () => void this.push(projectId));
      this.throttles.set(projectId, t);
    }
    t.schedule();
  }

  /** A node left: every listed project's list loses its sessions. */
  scheduleAll(): void {
    for (const projectId of this.deps.registry.listedProjects()) this.schedule(projectId);
  }

  /** The merged list to this node's listeners of the project. */
  private async push(projectId: string): Promise<void> {
    const listeners = this.deps.registry.listeners(projectId);
    if (!listeners.length || this.closed) {
      if (!listeners.length) {
        this.throttles.get(projectId)?.cancel();
        this.throttles.delete(projectId);
      }
      return;
    }
    const sessions = await this.sessions(projectId);
    for (const conn of this.deps.registry.listeners(projectId)) conn.peer.emit('live:list', sessions);
  }

  close(): void {
    this.closed = true;
    for (const t of this.throttles.values()) t.cancel();
  }
}
