/**
 * Heartbeats keep the agent registry; host statistics (per-second counters) are stored and
 * fed to the live view. Same rules as flows: refused messages go to dead letters, the rest
 * are acknowledged only after the database has them.
 */
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { Heartbeat, HostStatsBatch } from '@nta/shared';
import type { Logger } from 'pino';
import type { Pool } from '../db/pool.js';
import type { PartitionManager } from '../db/partitions.js';
import { upsertHeartbeat, writeHostStats } from '../db/agents-repo.js';
import type { Metrics } from '../metrics.js';
import { decodeHeartbeat, decodeHostStats } from './message-decoder.js';
import { deadLetter, writeWhileTransient } from './write-retry.js';

export interface TelemetryIngestDeps {
  js: JetStreamClient;
  pool: Pool;
  partitions: PartitionManager;
  metrics: Metrics;
  log: Logger;
  onHeartbeat(hb: Heartbeat): void;
  onHostStats(batch: HostStatsBatch): void;
}

export class TelemetryIngest {
  private stopping = false;

  constructor(private readonly d: TelemetryIngestDeps) {}

  stop(): void {
    this.stopping = true;
  }

  readonly handle = async (msgs: JsMsg[]): Promise<void> => {
    for (const m of msgs) {
      const isHeartbeat = m.subject.startsWith('nta.v1.heartbeat.');
      const kind = isHeartbeat ? 'heartbeat' : 'hoststats';
      const decoded = isHeartbeat ? decodeHeartbeat(m.subject, m.data) : decodeHostStats(m.subject, m.data);
      if (!decoded.ok) {
        await deadLetter(this.d, kind, m, decoded.reason);
        continue;
      }
      const outcome = await writeWhileTransient(
        async () => {
          if (isHeartbeat) await upsertHeartbeat(this.d.pool, decoded.value as Heartbeat);
          else await writeHostStats(this.d.pool, this.d.partitions, decoded.value as HostStatsBatch);
        },
        [m],
        {
          stopping: () => this.stopping,
          onFailure: (err, _attempt, transient) => {
            this.d.metrics.writeErrors.inc();
            if (transient) this.d.log.warn({ err }, 'telemetry write failed; retrying');
          },
        },
      );
      // One message the database will never take must not hold up the fleet's telemetry.
      if ('refused' in outcome) {
        await deadLetter(this.d, kind, m, `database refused it: ${outcome.refused}`.slice(0, 1000));
        continue;
      }
      m.ack();
      this.d.metrics.messages.inc({ kind, outcome: 'stored' });
      if (isHeartbeat) {
        const hb = decoded.value as Heartbeat;
        this.observeHeartbeat(hb);
        this.d.onHeartbeat(hb);
      } else {
        this.d.onHostStats(decoded.value as HostStatsBatch);
      }
    }
  };

  private observeHeartbeat(hb: Heartbeat): void {
    const agent = hb.agentId;
    this.d.metrics.agentPacketsPerS.set({ agent }, hb.rates.packetsPerS);
    this.d.metrics.agentBytesPerS.set({ agent }, hb.rates.bytesPerS);
    this.d.metrics.agentFlowsPerS.set({ agent }, hb.rates.flowsPerS);
    this.d.metrics.agentCaptureDropped.set({ agent }, hb.capture.dropped);
    this.d.metrics.agentIfDropped.set({ agent }, hb.capture.ifDropped);
  }
}
