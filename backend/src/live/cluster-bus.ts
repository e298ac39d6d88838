import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * Messages from one node to another named node (issue 9). socket.io's Redis adapter has one channel
 * for every node's requests (`serverSideEmit`) and a pattern subscription for every socket emit, so
 * every node hears — and decodes — every message about every room. Most of what the cluster sends
 * is for one node: an agent's message for its session's home, the home's answer, a tab's message
 * for the home that hosts it, a backpressure report. Those go here, on the addressed node's own
 * channel, so a node hears only the rooms it has a part in; the adapter's broadcast stays for what
 * every node needs (a session's new home, list and settings changes, a recording's end).
 *
 * Order: published on the adapter's publish connection and heard on its subscriber connection, like
 * cluster-relay.ts; Redis delivers one connection's publishes to a subscriber in the order they were
 * made, whatever the channel, so these never overtake (nor are overtaken by) the adapter's messages.
 *
 * Payloads are JSON: everything sent between nodes is (live messages carry no binary; a socket's
 * binary attachment would arrive as a plain object and fail the handler's validation like any other
 * malformed message). A request waits REMOTE_TIMEOUT_MS at most and answers null without a reply
 * (the addressed node died or is stuck): the caller tells the agent to try again.
 */

type Handler = (m: any, reply?: (r: unknown) => void) => void;

interface Envelope {
  /** Event name (a message or a request). */
  e?: string;
  m?: unknown;
  /** Request id, and the node to answer. */
  q?: number;
  f?: string;
  /** Answer to request `a` of this node. */
  a?: number;
  v?: unknown;
}

export class NodeBus {
  private readonly channel: string;
  private readonly handlers = new Map<string, Handler>();
  private readonly pending = new Map<number, { resolve(v: unknown): void; timer: NodeJS.Timeout }>();
  private nextId = 1;
  private readonly onMessage = (channel: string, payload: string) => {
    if (channel === this.channel) this.receive(payload);
  };

  constructor(private readonly deps: {
    nodeId: string;
    /** The adapter's publish and subscriber connections (order, see above). */
    pub: Redis;
    sub: Redis;
    log: Logger;
    onError(op: string): void;
    /** How long a request waits for its answer. */
    timeoutMs: number;
  }) {
    this.channel = nodeChannel(deps.nodeId);
    deps.sub.on('message', this.onMessage);
    deps.sub.subscribe(this.channel).catch((err: unknown) => {
      deps.onError('bus-subscribe');
      deps.log.error({ err }, 'live: cannot subscribe to the node channel');
    });
  }

  get nodeId(): string {
    return this.deps.nodeId;
  }

  /** Handles `event` sent to this node; `reply` is there when the sender asked (request). */
  on(event: string, handler: Handler): void {
    this.handlers.set(event, handler);
  }

  /** A message to one node, no answer. */
  send(to: string, event: string, m: unknown): void {
    this.publish(to, { e: event, m });
  }

  /** A message to one node and its answer (null: no answer within the timeout, or a null answer). */
  request<T>(to: string, event: string, m: unknown): Promise<T | null> {
    const q = this.nextId++;
    return new Promise<T | null>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(q);
        this.deps.log.warn({ event, to }, 'live: no answer from the other node');
        resolve(null);
      }, this.deps.timeoutMs);
      timer.unref();
      this.pending.set(q, { resolve: resolve as (v: unknown) => void, timer });
      this.publish(to, { e: event, m, q, f: this.deps.nodeId });
    });
  }

  private receive(payload: string): void {
    let env: Envelope;
    try {
      env = JSON.parse(payload) as Envelope;
    } catch {
      return;
    }
    if (env.a !== undefined) {
      const p = this.pending.get(env.a);
      if (!p) return; // answered after the timeout
      this.pending.delete(env.a);
      clearTimeout(p.timer);
      p.resolve(env.v ?? null);
      return;
    }
    const handler = env.e ? this.handlers.get(env.e) : undefined;
    if (!handler) return;
    const { q, f } = env;
    let replied = false;
    const reply = q !== undefined && f ? (v: unknown) => {
      if (replied) return;
      replied = true;
      this.publish(f, { a: q, v: v ?? null });
    } : undefined;
    try {
      handler(env.m, reply);
    } catch (err) {
      this.deps.log.error({ err, event: env.e }, 'live: a message from another node failed');
      reply?.({ ok: false, error: { code: 'internal', message: 'Internal server error' } });
    }
  }

  private publish(to: string, env: Envelope): void {
    void this.deps.pub.publish(nodeChannel(to), JSON.stringify(env)).catch(() => this.deps.onError('bus-publish'));
  }

  close(): void {
    this.deps.sub.off('message', this.onMessage);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.resolve(null);
    }
    this.pending.clear();
  }
}

export const nodeChannel = (nodeId: string) => `tandem:node#${nodeId}`;
