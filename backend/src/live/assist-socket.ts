import type { Logger } from 'pino';
import type { RateLimitConfig } from '../config.js';
import { RateLimiter } from '../rate-limit.js';
import type { AssistHub } from './assist-hub.js';
import { AssistRequests } from './assist-requests.js';
import { ControlForwarder } from './control.js';
import { RtcRelay } from './rtc-relay.js';
import type { AssistSocket } from './types.js';

/**
 * Per-socket rates of the assist messages. socket.io already bounds each message's size
 * (liveMaxMessageBytes); these bound how many, so one client cannot flood the user's page or the server.
 */
export const ASSIST_RATES = {
  // Each prompt interrupts the user; one open request per feature and agent socket already bounds
  // how many show at once, this bounds ask-decline-ask loops (a person clicks far less than 1/s).
  request: { perSecond: 1, burst: 10 },
  // Trickle ICE sends a burst of candidates per peer (a dozen or two), renegotiation a few more; an
  // agent in a 4-way call with canvases has a handful of peers starting at once.
  signal: { perSecond: 50, burst: 300 },
  // A pointer at 60 Hz plus clicks, keys and wheel turns on top.
  control: { perSecond: 120, burst: 240 },
  // Stroke pieces at frame rate while drawing.
  stroke: { perSecond: 60, burst: 120 },
  // Canvases appear and disappear with the page; a list a few times a second is plenty.
  canvas: { perSecond: 5, burst: 20 },
  // Answers and ends are clicks of a person.
  click: { perSecond: 5, burst: 20 },
} satisfies Record<string, RateLimitConfig>;

type Kind = keyof typeof ASSIST_RATES;

/** One refusal per event name per second at most: a flood must not be answered with a flood. */
const REFUSAL_INTERVAL_MS = 1_000;

/** Wires a tab or agent socket's assist messages to the handlers, behind the rate limits. */
export class AssistSockets {
  private readonly limits = Object.fromEntries(
    Object.entries(ASSIST_RATES).map(([k, v]) => [k, new RateLimiter(v)]),
  ) as Record<Kind, RateLimiter>;
  readonly requests: AssistRequests;
  readonly relay: RtcRelay;
  readonly control: ControlForwarder;

  constructor(private readonly hub: AssistHub, private readonly log: Logger) {
    this.requests = new AssistRequests(hub);
    this.relay = new RtcRelay(hub);
    this.control = new ControlForwarder(hub);
  }

  /** A tab socket's assist messages, by event: what limits them and what handles them. */
  private readonly tabHandlers: Record<string, { kind: Kind; handle(id: string, msg: unknown): void }> = {
    'assist:answer': { kind: 'click', handle: (id, m) => this.requests.answer(id, m) },
    'assist:end': { kind: 'click', handle: (id, m) => this.requests.endFromTab(id, m) },
    'rtc:signal': { kind: 'signal', handle: (id, m) => this.relay.fromTab(id, m) },
    'canvas:streams': { kind: 'canvas', handle: (id, m) => this.relay.canvasStreams(id, m) },
  };

  bindTab(socket: AssistSocket): void {
    const id = socket.id;
    const on = this.guard(socket, 'tab');
    for (const [event, h] of Object.entries(this.tabHandlers)) on(event, h.kind, (m) => h.handle(id, m));
  }

  /**
   * An assist message of a tab socket on another node whose session this node serves (cluster-tabs.ts),
   * under the same limits as a local one.
   */
  dispatchTab(socketId: string, event: string, msg: unknown, refuse: (event: string, refusal: unknown) => void): void {
    const h = this.tabHandlers[event];
    if (!h) return;
    if (!this.limits[h.kind].take(`${socketId}:${h.kind}`)) {
      this.hub.deps.metrics.assistRefused.inc({ event, code: 'rate_limited' });
      refuse(event, { event, code: 'rate_limited', message: `Too many ${event} messages; slow down` });
      return;
    }
    try {
      h.handle(socketId, msg);
    } catch (err) {
      this.log.error({ err, event, role: 'tab' }, 'assist: handler failed');
    }
  }

  /** An agent socket's assist messages, by event: what limits them and what handles them. */
  private readonly agentHandlers: Record<string, { kind: Kind; handle(id: string, msg: unknown, ack?: unknown): void; onLimited?(ack: unknown): void }> = {
    'assist:request': {
      kind: 'request',
      handle: (id, m, ack) => {
        const result = this.requests.request(id, m);
        if (!result.ok) this.hub.deps.metrics.assistRefused.inc({ event: 'assist:request', code: result.error.code });
        if (typeof ack === 'function') ack(result);
      },
      onLimited: (ack) => {
        if (typeof ack === 'function') ack({ ok: false, error: { code: 'rate_limited', message: 'Too many requests; wait a moment' } });
      },
    },
    'assist:end': { kind: 'click', handle: (id, m) => this.requests.endFromAgent(id, m) },
    'rtc:signal': { kind: 'signal', handle: (id, m) => this.relay.fromAgent(id, m) },
    'control:input': { kind: 'control', handle: (id, m) => this.control.input(id, m) },
    'annotate:stroke': { kind: 'stroke', handle: (id, m) => this.control.stroke(id, m) },
    'canvas:want': { kind: 'canvas', handle: (id, m) => this.relay.canvasWant(id, m) },
  };

  bindAgent(socket: AssistSocket): void {
    const id = socket.id;
    const on = this.guard(socket, 'agent');
    for (const [event, h] of Object.entries(this.agentHandlers)) on(event, h.kind, (m, ack) => h.handle(id, m, ack), h.onLimited);
  }

  /**
   * An assist message of an agent socket on another node (cluster-link.ts), under the same limits as a
   * local one; `args` ends with the ack when the sender waits for one.
   */
  dispatchAgent(socketId: string, event: string, args: unknown[], refuse: (event: string, refusal: unknown) => void): void {
    const h = this.agentHandlers[event];
    if (!h) return;
    const [msg, ack] = args;
    if (!this.limits[h.kind].take(`${socketId}:${h.kind}`)) {
      this.hub.deps.metrics.assistRefused.inc({ event, code: 'rate_limited' });
      if (h.onLimited) return h.onLimited(ack);
      refuse(event, { event, code: 'rate_limited', message: `Too many ${event} messages; slow down` });
      return;
    }
    try {
      h.handle(socketId, msg, ack);
    } catch (err) {
      this.log.error({ err, event, role: 'agent' }, 'assist: handler failed');
    }
  }

  /** `on(event, kind, handler)`: rate-limited per socket, exceptions logged (a bad message must not kill the socket). */
  private guard(socket: AssistSocket, role: 'tab' | 'agent') {
    const lastRefusal = new Map<string, number>();
    const untyped = socket as unknown as { on(e: string, fn: (...a: unknown[]) => void): void; emit(e: string, ...a: unknown[]): void };
    return (event: string, kind: Kind, handler: (msg: unknown, ack?: unknown) => void, onLimited?: (ack: unknown) => void) => {
      untyped.on(event, (msg: unknown, ack?: unknown) => {
        if (!this.limits[kind].take(`${socket.id}:${kind}`)) {
          this.hub.deps.metrics.assistRefused.inc({ event, code: 'rate_limited' });
          if (onLimited) return onLimited(ack);
          const now = Date.now();
          if (now - (lastRefusal.get(event) ?? 0) < REFUSAL_INTERVAL_MS) return;
          lastRefusal.set(event, now);
          untyped.emit('assist:refused', { event, code: 'rate_limited', message: `Too many ${event} messages; slow down` });
          return;
        }
        try {
          handler(msg, ack);
        } catch (err) {
          this.log.error({ err, event, role }, 'assist: handler failed');
        }
      });
    };
  }
}
