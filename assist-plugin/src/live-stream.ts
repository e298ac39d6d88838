import type { Guard, ResyncReason, TandemEvent } from '@tandem/protocol';
import { Forwarder, createMacrotask } from './forwarder.js';
import type { AssistHost } from './host.js';
import { KeptRun } from './run-log.js';

export interface LiveStreamDeps {
  host(): AssistHost | null;
  guard(): Guard;
  /** The socket is connected: forwarding can start. */
  connected(): boolean;
  /** Sends one `live:events` batch; throws while disconnected (the forwarder then starts a new run). */
  sendEvents(events: TandemEvent[]): void;
  /** Injected macrotask scheduler (tests); default MessageChannel, created on the first live message. */
  schedule?: (fn: () => void) => void;
}

/**
 * What this tab streams to the agents (split from plugin.ts): the bus tapped into the forwarder from
 * `live:start` to `live:stop`, the snapshot each start needs, and the run kept for an agent who comes
 * back within a minute (run-log.ts).
 */
export class LiveStream {
  readonly forwarder: Forwarder;
  /** Joins answered with the run the tab kept instead of a new snapshot. */
  reusedRuns = 0;
  private unsubForward: (() => void) | null = null;
  private readonly kept: KeptRun;
  /** Created on the first live message, not before: nothing is set up while nobody watches. */
  private macrotask: ((fn: () => void) => void) | null = null;

  constructor(private readonly deps: LiveStreamDeps) {
    this.kept = new KeptRun({ bus: () => deps.host()?.bus ?? null, guard: deps.guard });
    this.forwarder = new Forwarder({
      send: (events) => deps.sendEvents(events),
      schedule: deps.schedule ?? ((fn) => (this.macrotask ??= createMacrotask((err) => deps.guard().report(err, 'forward flush')))(fn)),
      requestSnapshot: () => {
        const timer = setTimeout(
          deps.guard().wrap('resnapshot', () => {
            if (this.forwarder.awaitingSnapshot) deps.host()?.takeFullSnapshot();
          }),
          0,
        );
        return () => clearTimeout(timer);
      },
      onError: (err) => deps.guard().report(err, 'live:events'),
    });
  }

  /** The bus is tapped for the agents (between start and stop): this tab is being watched. */
  get subscribed(): boolean {
    return this.unsubForward !== null;
  }

  start(reason: 'join' | ResyncReason = 'join'): void {
    const host = this.deps.host();
    if (!this.deps.connected() || !host) return;
    const { forwarder, deps } = this;
    const guard = deps.guard();
    this.kept.keep();
    if (!this.unsubForward) this.unsubForward = host.bus.subscribe(guard.wrap('forward', (e: TandemEvent) => forwarder.push(e)) as (e: TandemEvent) => void);
    forwarder.start();
    // Synchronous in rrweb: Meta + FullSnapshot are on the bus (and queued) when this returns. The
    // first time, switching the recorder to live sampling (every keystroke) draws that snapshot itself.
    // A new watcher ('join') of a page whose run is still kept gets that run instead: no serialize of
    // the page. A resync ('gap', 'behind', 'manual', 'tab_switch') always gets a fresh snapshot: the
    // agent asked for a new picture, and the same events would rebuild the same one.
    guard.run('snapshot', () => {
      if (host.setLiveSampling?.(true)) return;
      const run = reason === 'join' ? this.kept.replay() : null;
      if (!run) return host.takeFullSnapshot();
      this.reusedRuns++;
      for (const e of run) forwarder.push(e);
    });
    // The snapshot leaves now rather than on the forwarder's next task: the server sends `canvas:want`
    // right behind `live:start`, and that message's WebRTC set-up (capture, peer connection) would run
    // first and hold the agent's first picture back by tens of ms.
    guard.run('snapshot flush', () => forwarder.flush());
  }

  /**
   * `keepRun`: the agents left or the socket dropped, and an agent coming back within RUN_LOG_KEEP_MS
   * may get the run kept so far. Not after the user's Stop or Decline: a later watch starts afresh.
   */
  stop(keepRun = false): void {
    if (this.unsubForward) this.unsubForward();
    this.unsubForward = null;
    this.forwarder.stop();
    if (keepRun) this.kept.expireLater();
    else this.kept.drop();
  }

  /** Nothing kept from before goes to the agents (a consent request: the user is asked from now on). */
  dropKeptRun(): void {
    this.kept.drop();
  }
}
