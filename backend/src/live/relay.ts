import type { LiveEventsMessage, ResyncReason, TandemEvent } from '@tandem/protocol';
import type { Metrics } from '../metrics.js';
import type { Member, TabRoom } from './rooms.js';
import { checkBatch } from './schemas.js';
import type { AgentPeer } from './types.js';

export interface RelayDeps {
  metrics: Metrics;
  /** Queue size above which an agent is behind. */
  backpressureBytes: number;
  /** Asks the tab for a fresh snapshot (deduplicated by the caller). */
  requestSnapshot(tab: TabRoom, reason: ResyncReason): void;
  /** The agent stops getting this tab until its queue drains. */
  markBehind(member: Member): void;
  /** Sends one message to several agents; socket.io encodes it once for all of them. */
  multicast(peers: AgentPeer[], msg: LiveEventsMessage): void;
}

export type RelayOutcome = 'relayed' | 'unwatched' | 'malformed';

/**
 * Relays one `live:events` batch of a tab to the agents watching it, in order, never silently losing
 * events: an agent either gets a batch whole and consecutive with the previous one, or is moved to
 * `awaiting` (gets nothing until the next Meta event, which a snapshot request makes the tab send).
 */
export function relayBatch(tab: TabRoom, raw: unknown, deps: RelayDeps): RelayOutcome {
  if (!tab.forwarding || tab.watchers.size === 0) {
    deps.metrics.liveDroppedBatches.inc({ reason: 'unwatched' });
    return 'unwatched';
  }
  const batch = checkBatch(raw);
  if (!batch.ok) {
    // What is in it cannot be forwarded, and the next batch would leave a hole: everyone restarts.
    deps.metrics.liveDroppedBatches.inc({ reason: 'malformed' });
    for (const [m, state] of tab.watchers) if (state === 'live') tab.watchers.set(m, 'awaiting');
    deps.requestSnapshot(tab, 'gap');
    return 'malformed';
  }
  const { events, metaIndex } = batch;
  const first = events[0].seq;
  if (tab.lastSeq >= 0 && first !== tab.lastSeq + 1) {
    // A hole (or a replay) between batches: agents streaming live would drift. A batch that carries
    // a snapshot restarts them from there; otherwise they wait for the one we ask for.
    for (const [m, state] of tab.watchers) if (state === 'live') tab.watchers.set(m, 'awaiting');
    if (metaIndex < 0) deps.requestSnapshot(tab, 'gap');
  }
  tab.lastSeq = events[events.length - 1].seq;
  if (metaIndex >= 0) tab.snapshotAskedAt = 0;

  const full: AgentPeer[] = [];
  const fromMeta: AgentPeer[] = [];
  for (const [m, state] of tab.watchers) {
    if (state === 'behind') continue;
    if (state === 'awaiting' && metaIndex < 0) continue;
    if (m.conn.peer.bufferedBytes() > deps.backpressureBytes) {
      tab.watchers.set(m, 'behind');
      deps.markBehind(m);
      continue;
    }
    if (state === 'awaiting') {
      tab.watchers.set(m, 'live');
      (metaIndex === 0 ? full : fromMeta).push(m.conn.peer);
    } else full.push(m.conn.peer);
  }
  const { sessionId } = tab.session;
  const bytes = tab.lastPacketBytes;
  if (full.length) send(deps, full, { sessionId, tabId: tab.tabId, events }, bytes);
  // A batch with a Meta begins a run: its last event may be older than the batch (a join answered
  // with the run the tab kept, assist-plugin run-log.ts), so it says nothing about the stream's lag.
  if ((full.length || fromMeta.length) && metaIndex < 0) {
    // Events carry the user's clock; clockOffsetMs = server − user (0 until measured).
    const lagMs = Date.now() - (events[events.length - 1].timestamp + tab.clockOffsetMs);
    if (lagMs >= 0 && lagMs < 600_000) deps.metrics.liveRelaySeconds.observe(lagMs / 1000);
  }
  if (fromMeta.length) {
    const part: TandemEvent[] = events.slice(metaIndex);
    send(deps, fromMeta, { sessionId, tabId: tab.tabId, events: part }, Math.round((bytes * part.length) / events.length));
  }
  return 'relayed';
}

function send(deps: RelayDeps, peers: AgentPeer[], msg: LiveEventsMessage, bytes: number): void {
  deps.multicast(peers, msg);
  deps.metrics.liveRelayedMessages.inc(peers.length);
  if (bytes > 0) deps.metrics.liveRelayedBytes.inc(bytes * peers.length);
}
