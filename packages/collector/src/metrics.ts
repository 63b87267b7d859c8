/** The collector's Prometheus metrics, in one registry that /metrics renders. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'nta_collector_' });
  const r = { registers: [registry] };
  return {
    registry,
    messages: new Counter({ name: 'nta_ingest_messages_total', help: 'JetStream messages handled, by stream and outcome', labelNames: ['kind', 'outcome'], ...r }),
    flows: new Counter({ name: 'nta_ingest_flows_total', help: 'Flows stored (new, after de-duplication), by agent', labelNames: ['agent'], ...r }),
    expiredFlows: new Counter({ name: 'nta_ingest_expired_flows_total', help: 'Flows not stored because they ended before the retention horizon', labelNames: ['agent'], ...r }),
    duplicateFlows: new Counter({ name: 'nta_ingest_duplicate_flows_total', help: 'Redelivered flows that were already stored', ...r }),
    deadLetters: new Counter({ name: 'nta_dead_letters_total', help: 'Messages sent to the dead-letter subject, by kind', labelNames: ['kind'], ...r }),
    writeSeconds: new Histogram({
      name: 'nta_db_write_seconds',
      help: 'Duration of one ingest transaction (flows, rollup marks, alerts)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      ...r,
    }),
    writeErrors: new Counter({ name: 'nta_db_write_errors_total', help: 'Failed ingest transactions (retried)', ...r }),
    consumerPending: new Gauge({ name: 'nta_consumer_pending_messages', help: 'Messages in JetStream not yet delivered to the collector (lag)', labelNames: ['stream'], ...r }),
    consumerAckPending: new Gauge({ name: 'nta_consumer_ack_pending_messages', help: 'Messages delivered but not yet acknowledged', labelNames: ['stream'], ...r }),
    alerts: new Counter({ name: 'nta_alerts_total', help: 'Alerts raised (before de-duplication), by kind and level', labelNames: ['kind', 'level'], ...r }),
    agentPacketsPerS: new Gauge({ name: 'nta_agent_packets_per_second', help: 'Packet rate each agent reported in its last heartbeat', labelNames: ['agent'], ...r }),
    agentBytesPerS: new Gauge({ name: 'nta_agent_bytes_per_second', help: 'Byte rate each agent reported in its last heartbeat', labelNames: ['agent'], ...r }),
    agentFlowsPerS: new Gauge({ name: 'nta_agent_flows_per_second', help: 'Flow rate each agent reported in its last heartbeat', labelNames: ['agent'], ...r }),
    agentCaptureDropped: new Gauge({ name: 'nta_agent_capture_dropped_packets', help: 'Packets libpcap dropped on each agent (cumulative, as reported)', labelNames: ['agent'], ...r }),
    agentIfDropped: new Gauge({ name: 'nta_agent_interface_dropped_packets', help: 'Packets the interface dropped on each agent (cumulative, as reported)', labelNames: ['agent'], ...r }),
    rollupPending: new Gauge({ name: 'nta_rollup_pending_buckets', help: 'Hour buckets whose rollups wait for a refresh', ...r }),
    liveClients: new Gauge({ name: 'nta_live_clients', help: 'Connected WebSocket clients', ...r }),
    liveDropped: new Counter({ name: 'nta_live_coalesced_updates_total', help: 'Updates replaced by a newer one for a slow WebSocket client', ...r }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
