import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
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
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
