import type { AckResult, JoinResult, LiveEventsMessage } from '@tandem/protocol';
import type { RemoteBuffers } from './cluster-buffers.js';
import type { ClusterRelay } from './cluster-relay.js';
import type { LiveRegistry } from './registry.js';
import type { AgentIdentity, AgentPeer, AssistNamespace } from './types.js';

/**
 * The home side of cross-node watching (cluster-link.ts): agent sockets of other nodes in rooms this
 * node serves. The registry holds each as one more AgentPeer whose messages go out to its socket on
 * its own node (its *edge*); what the agent sends for the room arrives here from that edge and runs
 * through the same handlers and limits as a local socket's.
 */

export interface RemoteJoin {
  from: string;
  socketId: string;
  identity: AgentIdentity;
  req: { sessionId: string; tabId?: string };
}

export interface HostedAgentsDeps {
  nsp: AssistNamespace;
  registry: LiveRegistry;
  buffers: RemoteBuffers;
  /** Live batches and other messages to agents of other nodes, on their edge's channel (cluster-relay.ts). */
  relay: ClusterRelay;
  /** Runs an assist message of an agent of another node (same handlers and limits as a local socket). */
  dispatchAgent(socketId: string, event: string, args: unknown[], refuse: (event: string, refusal: unknown) => void): void;
}

export class HostedAgents {
  /** Agent socket id (on another node) → its edge node. */
  private readonly edges = new Map<string, string>();

  constructor(private readonly deps: HostedAgentsDeps) {}

  async join(m: RemoteJoin): Promise<AckResult<JoinResult>> {
    const { registry } = this.deps;
    if (!this.edges.has(m.socketId)) {
      this.edges.set(m.socketId, m.from);
      registry.agentConnected(m.identity, this.peer(m.socketId));
    }
    const result = await registry.join(m.socketId, m.req);
    if (!result.ok && !registry.agentConn(m.socketId)?.memberships.size) this.drop(m.socketId);
    return result;
  }

  /** A message of a hosted agent for a room here (the ack, when given, answers it on its edge). */
  event(m: { socketId: string; event: string; args: unknown[] }, ack?: (r: unknown) => void): void {
    if (!this.edges.has(m.socketId)) {
      return ack?.({ ok: false, error: { code: 'not_found', message: 'Join the session first' } });
    }
    const { registry } = this.deps;
    const [msg] = m.args as [{ sessionId?: unknown; tabId?: unknown; reason?: unknown } | undefined];
    switch (m.event) {
      case 'live:watch-tab':
        return ack?.(registry.watchTab(m.socketId, msg));
      case 'live:resync':
        return registry.resync(m.socketId, msg);
      case 'live:leave':
        registry.leave(m.socketId, msg?.sessionId);
        if (!registry.agentConn(m.socketId)?.memberships.size) this.drop(m.socketId);
        return;
      default:
        this.deps.dispatchAgent(m.socketId, m.event, ack ? [...m.args, ack] : m.args, (_event, refusal) =>
          this.emitTo(m.socketId, 'assist:refused', [refusal]));
    }
  }

  /**
   * Sends a live batch to the agents of `peers` that are on other nodes, one message per edge node;
   * answers the peers left to send to (this node's, and any whose edge is not known).
   */
  relayEvents(peers: AgentPeer[], msg: LiveEventsMessage): AgentPeer[] {
    const relay = this.deps.relay;
    const rest: AgentPeer[] = [];
    const byEdge = new Map<string, AgentPeer[]>();
    for (const p of peers) {
      const edge = p.remote ? this.edges.get(p.id) : undefined;
      if (!edge) {
        rest.push(p);
        continue;
      }
      const list = byEdge.get(edge);
      if (list) list.push(p);
      else byEdge.set(edge, [p]);
    }
    for (const [edge, list] of byEdge) if (!relay.send(edge, list.map((p) => p.id), msg)) rest.push(...list);
    return rest;
  }

  /** A message to a hosted agent: on its edge's channel, or through the adapter (edge unknown, binary packet). */
  private emitTo(socketId: string, event: string, args: unknown[]): void {
    const edge = this.edges.get(socketId);
    if (edge && this.deps.relay.emit(edge, [socketId], event, args)) return;
    (this.deps.nsp.to(socketId).emit as (ev: string, ...a: unknown[]) => boolean)(event, ...args);
  }

  /** An agent socket of another node, as the registry sees it: everything it is sent goes to its edge. */
  private peer(socketId: string): AgentPeer {
    return {
      id: socketId,
      remote: true,
      emit: (event, ...args) => {
        this.emitTo(socketId, event as string, args);
        return true;
      },
      // Its queue is on its own node, which reports it when it crosses a threshold (cluster-buffers.ts).
      bufferedBytes: () => this.deps.buffers.bytesOf(socketId),
    };
  }

  /** The hosted agent is gone (its socket closed, it left every room here, or its edge died). */
  drop(socketId: string): void {
    if (!this.edges.delete(socketId)) return;
    this.deps.buffers.forgetRemote(socketId);
    this.deps.registry.agentDisconnected(socketId);
  }

  /** Hosted agents whose edge died go (their sockets are gone with it). */
  checkLiveness(alive: Set<string>): void {
    for (const [socketId, edge] of [...this.edges]) if (!alive.has(edge)) this.drop(socketId);
  }

  /** Hosted agents (for counts). */
  count(): number {
    return this.edges.size;
  }
}
