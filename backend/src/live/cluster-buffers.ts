import { bufferedBytes } from './backpressure.js';
import type { NodeBus } from './cluster-bus.js';
import type { AssistSocket } from './types.js';

/**
 * Backpressure of agents on another node (issue 9). Within one node the home reads an agent socket's
 * queue before each batch (relay.ts) and marks an agent *behind* when it is over the limit, then
 * restarts it from a snapshot once drained (forwarding.ts). An agent on another node has its queue
 * there, on its edge: so the edge measures it and tells the home, and the home's AgentPeer answers
 * `bufferedBytes()` with the last figure heard. The same states, limits and restart as on one node.
 *
 * The edge reports a socket only when its level changes (under a quarter of the limit, between, over
 * the limit: the two thresholds the home acts on), so a steady agent costs nothing and a slow one a
 * message per crossing. Checked every POLL_MS, and at once when the edge itself refuses to queue a
 * batch (cluster-relay.ts: it never writes to a socket already over the limit, so nothing is dropped
 * by uWS in the time a report takes to arrive; the agent sees a gap and the home's resync follows).
 */

/** How often the edge reads its cross-node agents' queues (the drain poll of one node is 100 ms too). */
const POLL_MS = 100;

export interface BufferReport {
  socketId: string;
  bytes: number;
}

type Level = 0 | 1 | 2;

export class RemoteBuffers {
  /** Home side: last figure heard for each remote agent socket. */
  private readonly heard = new Map<string, number>();
  /** Edge side: last level reported for each local agent socket. */
  private readonly reported = new Map<string, Level>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly deps: {
    /** Reports go to the home's own channel (cluster-bus.ts). */
    bus: NodeBus;
    limitBytes: number;
    /** Edge side: this node's agent sockets in sessions served elsewhere, with the homes they are in. */
    proxied(): Iterable<[AssistSocket, Iterable<string>]>;
  }) {
    deps.bus.on('live:remote-buffered', (m: BufferReport) => {
      if (m.bytes > 0) this.heard.set(m.socketId, m.bytes);
      else this.heard.delete(m.socketId);
    });
    this.timer = setInterval(() => this.poll(), POLL_MS);
    this.timer.unref();
  }

  /** Home side: the remote agent's queue as last reported by its edge. */
  bytesOf(socketId: string): number {
    return this.heard.get(socketId) ?? 0;
  }

  /** Home side: the remote agent left. */
  forgetRemote(socketId: string): void {
    this.heard.delete(socketId);
  }

  /** Edge side: the socket is over the limit (checked by the relay before writing); tell its homes now. */
  full(socket: AssistSocket, homes: Iterable<string>): void {
    this.report(socket, homes, bufferedBytes(socket));
  }

  /** Edge side: the agent socket left (or has no session elsewhere any more). */
  forgetLocal(socketId: string): void {
    this.reported.delete(socketId);
  }

  close(): void {
    clearInterval(this.timer);
  }

  private poll(): void {
    for (const [socket, homes] of this.deps.proxied()) {
      this.report(socket, homes, bufferedBytes(socket, this.deps.limitBytes + 1));
    }
  }

  private report(socket: AssistSocket, homes: Iterable<string>, bytes: number): void {
    const limit = this.deps.limitBytes;
    const level: Level = bytes > limit ? 2 : bytes > limit / 4 ? 1 : 0;
    if ((this.reported.get(socket.id) ?? 0) === level) return;
    this.reported.set(socket.id, level);
    for (const to of new Set(homes)) {
      const m: BufferReport = { socketId: socket.id, bytes: level === 0 ? 0 : bytes };
      this.deps.bus.send(to, 'live:remote-buffered', m);
    }
  }
}
