import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Counts the live rooms report when /metrics is read (set by the live module once it is attached). */
export interface LiveCounts {
  tabs: number;
  agents: number;
  forwardingTabs: number;
  sessions: number;
  /** Agent sockets of other nodes in rooms served here (0 without Redis). */
  remoteAgents: number;
  /** Sessions agent sockets here watch on other nodes (0 without Redis). */
  proxiedSessions: number;
  /** 1 while this node drains (SIGTERM with Redis): it takes no new sockets and moves its own away. */
  draining: number;
}

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const liveSource: { read: () => LiveCounts } = {
    read: () => ({ tabs: 0, agents: 0, forwardingTabs: 0, sessions: 0, remoteAgents: 0, proxiedSessions: 0, draining: 0 }),
  };
  return {
    registry,
    httpRequests: new Counter({
      name: 'tandem_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['route', 'status'] as const,
      registers: [registry],
    }),
    ingestEvents: new Counter({ name: 'tandem_ingest_events_total', help: 'Events accepted by ingest', registers: [registry] }),
    ingestAck: new Histogram({
      name: 'tandem_ingest_ack_seconds',
      help: 'Time from batch received to durable ack',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    sessionsStarted: new Counter({ name: 'tandem_sessions_started_total', help: 'Tabs started or resumed', registers: [registry] }),
    // Gauges read the live registry when scraped, so they cannot drift from it.
    liveCounts: liveSource,
    liveTabs: new Gauge({ name: 'tandem_live_tabs', help: 'Tab sockets connected to /assist', registers: [registry],
      collect() { this.set(liveSource.read().tabs); } }),
    liveAgents: new Gauge({ name: 'tandem_live_agents', help: 'Agent sockets connected to /assist', registers: [registry],
      collect() { this.set(liveSource.read().agents); } }),
    liveForwardingTabs: new Gauge({ name: 'tandem_live_forwarding_tabs', help: 'Tabs forwarding events to watching agents', registers: [registry],
      collect() { this.set(liveSource.read().forwardingTabs); } }),
    liveSessions: new Gauge({ name: 'tandem_live_sessions', help: 'Live sessions (with a tab connected or in its grace period)', registers: [registry],
      collect() { this.set(liveSource.read().sessions); } }),
    liveRemoteAgents: new Gauge({ name: 'tandem_live_remote_agents', help: 'Agent sockets of other nodes in live rooms served by this node', registers: [registry],
      collect() { this.set(liveSource.read().remoteAgents); } }),
    liveProxiedSessions: new Gauge({ name: 'tandem_live_proxied_sessions', help: 'Sessions that agent sockets on this node watch on other nodes', registers: [registry],
      collect() { this.set(liveSource.read().proxiedSessions); } }),
    liveDraining: new Gauge({ name: 'tandem_live_draining', help: '1 while this node drains (stops taking sockets, moves its own to other nodes)', registers: [registry],
      collect() { this.set(liveSource.read().draining); } }),
    // From the newest event's time on the user's clock (corrected by the tab's measured offset) to
    // the moment this node hands the batch to the agents' sockets: user → server → relay, per batch.
    liveRelaySeconds: new Histogram({
      name: 'tandem_live_relay_seconds',
      help: 'Time from a live event on the user\'s page (clock-corrected) to its relay to watching agents',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    // Every pub/sub message this node's Redis subscriber hears: on its own channels (`node`: messages
    // addressed to it, cluster-bus.ts and cluster-relay.ts) or on the adapter's channels every node hears (`shared`).
    clusterMessages: new Counter({ name: 'tandem_cluster_messages_received_total', help: 'Messages from other nodes heard by this node, by channel (node: addressed to it; shared: heard by every node)',
      labelNames: ['channel'] as const, registers: [registry] }),
    redisErrors: new Counter({ name: 'tandem_redis_errors_total', help: 'Redis errors (connection errors and failed commands), by operation',
      labelNames: ['op'] as const, registers: [registry] }),
    liveRelayedMessages: new Counter({ name: 'tandem_live_relayed_messages_total', help: 'live:events messages sent to agents (one per agent)', registers: [registry] }),
    liveRelayedBytes: new Counter({ name: 'tandem_live_relayed_bytes_total', help: 'Approximate bytes of live:events sent to agents (message size times recipients)', registers: [registry] }),
    liveDroppedBatches: new Counter({ name: 'tandem_live_dropped_batches_total', help: 'live:events batches from tabs not relayed, by reason',
      labelNames: ['reason'] as const, registers: [registry] }),
    liveBehind: new Counter({ name: 'tandem_live_behind_total', help: 'Times an agent fell behind on a tab (send buffer over the limit) and stopped receiving it', registers: [registry] }),
    liveResyncs: new Counter({ name: 'tandem_live_resyncs_total', help: 'live:start sent to tabs (a fresh snapshot), by reason', labelNames: ['reason'] as const, registers: [registry] }),
    assistRequests: new Counter({ name: 'tandem_assist_requests_total', help: 'Assist requests answered, by feature and outcome',
      labelNames: ['feature', 'outcome'] as const, registers: [registry] }),
    assistRefused: new Counter({ name: 'tandem_assist_refused_total', help: 'Assist messages refused (assist:refused or a failed ack), by event and code',
      labelNames: ['event', 'code'] as const, registers: [registry] }),
    rtcSignals: new Counter({ name: 'tandem_rtc_signals_total', help: 'rtc:signal messages relayed, by sender kind', labelNames: ['from'] as const, registers: [registry] }),
    controlInputs: new Counter({ name: 'tandem_control_inputs_total', help: 'control:input messages forwarded to tabs, by input type', labelNames: ['type'] as const, registers: [registry] }),
    annotateStrokes: new Counter({ name: 'tandem_annotate_strokes_total', help: 'annotate:stroke messages forwarded to tabs', registers: [registry] }),
    recordingBytes: new Counter({ name: 'tandem_recording_bytes_total', help: 'Bytes of call recordings stored', registers: [registry] }),
    liveRefused: new Counter({ name: 'tandem_live_refused_total', help: 'Refused /assist handshakes by error code', labelNames: ['code'] as const, registers: [registry] }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
