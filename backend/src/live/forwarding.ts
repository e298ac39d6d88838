import type { LiveEventsMessage, ResyncReason } from '@tandem/protocol';
import type { Metrics } from '../metrics.js';
import { DrainWatcher } from './backpressure.js';
import { relayBatch, type RelayDeps, type RelayOutcome } from './relay.js';
import type { RoomHooks } from './room-hooks.js';
import type { Member, TabRoom } from './rooms.js';
import type { AgentPeer } from './types.js';

export interface ForwardingOptions {
  /** Queue size above which an agent is behind (config.liveBackpressureBytes). */
  backpressureBytes: number;
  /** A snapshot asked for and not seen after this long may be asked for again. */
  snapshotRetryMs: number;
  /** How often agents that fell behind are checked for having drained. */
  drainPollMs: number;
}

export interface ForwardingDeps {
  metrics: Metrics;
  hooks?: RoomHooks;
  /** One message to several agents, encoded once. */
  multicast: (peers: AgentPeer[], msg: LiveEventsMessage) => void;
}

/**
 * Whether each tab streams, and what each of its watchers gets: `live:start` / `live:stop` follow from
 * the room state (socket, watchers, consent), snapshots are asked for once per burst of joins, agents
 * that fell behind are parked until their queue drains (split from registry.ts, which decides who is
 * where; this decides what flows).
 */
export class TabForwarding {
  private readonly drain: DrainWatcher<Member>;
  private readonly relayDeps: RelayDeps;

  constructor(private readonly opts: ForwardingOptions, private readonly deps: ForwardingDeps) {
    // Drained = under a quarter of the limit: back in the stream with room to take a snapshot.
    this.drain = new DrainWatcher<Member>(opts.backpressureBytes / 4, (m) => this.drained(m), opts.drainPollMs);
    this.relayDeps = {
      metrics: deps.metrics,
      backpressureBytes: opts.backpressureBytes,
      requestSnapshot: (tab, reason) => this.requestSnapshot(tab, reason),
      markBehind: (m) => {
        deps.metrics.liveBehind.inc();
        this.drain.watch(m, () => m.conn.peer.bufferedBytes());
      },
      multicast: deps.multicast,
    };
  }

  /** Relays one `live:events` batch of the tab to its watchers. */
  relay(tab: TabRoom, raw: unknown): RelayOutcome {
    return relayBatch(tab, raw, this.relayDeps);
  }

  /** The member no longer watches what it was behind on. */
  forget(member: Member): void {
    this.drain.forget(member);
  }

  stop(): void {
    this.drain.stop();
  }

  /** A new (or restarting) watcher of `tab` needs a snapshot: start the tab, or ask it for one more. */
  startWatching(tab: TabRoom, reason: 'join' | ResyncReason): void {
    if (tab.forwarding) this.requestSnapshot(tab, reason);
    else this.reconcile(tab, reason);
    this.deps.hooks?.watchersChanged(tab);
  }

  /**
   * A tab forwards while it has a socket, someone watches it and consent is not pending. Every change
   * to those three goes through here, so live:start / live:stop follow from the state alone.
   */
  reconcile(tab: TabRoom, reason: 'join' | ResyncReason): void {
    const should = !!tab.peer && tab.watchers.size > 0 && tab.session.consent !== 'pending';
    if (should && !tab.forwarding) {
      tab.forwarding = true;
      tab.lastSeq = -1;
      for (const [m, state] of tab.watchers) {
        if (state === 'behind') this.drain.forget(m);
        tab.watchers.set(m, 'awaiting');
      }
      this.sendStart(tab, reason);
    } else if (!should && tab.forwarding) {
      tab.forwarding = false;
      tab.snapshotAskedAt = 0;
      tab.peer?.emit('live:stop');
    }
    this.deps.hooks?.watchersChanged(tab);
  }

  /**
   * Asks a forwarding tab for a fresh snapshot. One pending request serves every agent waiting for it,
   * so a burst of joins or resyncs makes the user's page take one snapshot, not one each.
   */
  requestSnapshot(tab: TabRoom, reason: 'join' | ResyncReason): void {
    if (!tab.forwarding || !tab.peer) return;
    if (tab.snapshotAskedAt && Date.now() - tab.snapshotAskedAt < this.opts.snapshotRetryMs) return;
    this.sendStart(tab, reason);
  }

  private sendStart(tab: TabRoom, reason: 'join' | ResyncReason): void {
    tab.snapshotAskedAt = Date.now();
    this.deps.hooks?.beforeStart(tab);
    tab.peer?.emit('live:start', { reason });
    this.deps.metrics.liveResyncs.inc({ reason });
  }

  private drained(member: Member): void {
    const tab = member.tab;
    if (tab.watchers.get(member) !== 'behind') return;
    tab.watchers.set(member, 'awaiting');
    this.requestSnapshot(tab, 'behind');
  }
}
