/**
 * The flow ingest step: decode a group of messages, dead-letter the refused ones, enrich
 * and score the rest, store them in one transaction, and only then acknowledge. While the
 * database is unreachable the group is retried with backoff (its messages kept alive with
 * `working()`), and the pump reads nothing new: an outage delays data, it never drops it.
 */
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { FlowBatch } from '@nta/shared';
import type { Logger } from 'pino';
import { performance } from 'node:perf_hooks';
import type { AlertCandidate, StoredFlow } from '../types.js';
import type { FlowWriter, WriteResult } from '../db/flow-writer.js';
import type { Metrics } from '../metrics.js';
import { decodeFlowBatch } from './message-decoder.js';
import { deadLetter, writeWhileTransient } from './write-retry.js';
import { enrichBatches, type Enrichment } from './enrich.js';

export interface FlowIngestDeps {
  js: JetStreamClient;
  writer: FlowWriter;
  enrichment: Enrichment;
  metrics: Metrics;
  log: Logger;
  /** Called after a group is committed (live stream, registry of agents). */
  onStored(flows: readonly StoredFlow[], alerts: readonly AlertCandidate[], alertIds: readonly number[], batches: readonly FlowBatch[]): void;
  /** Flows that ended before now minus this are not stored (retention would drop them within the hour); 0 keeps all. */
  retentionMs: number;
  /** Called when a batch is enriched, before the write (the model's training reservoir). */
  onScored?(flows: readonly StoredFlow[]): void;
}

export class FlowIngest {
  private stopping = false;
  /** Set while a database write keeps failing; /healthz reports it. */
  lastWriteError: string | undefined;

  constructor(private readonly d: FlowIngestDeps) {}

  stop(): void {
    this.stopping = true;
  }

  readonly handle = async (msgs: JsMsg[]): Promise<void> => {
    // Decoding, enrichment and scoring are synchronous, so groups pass the detectors in
    // the order they arrived even when the pump handles two at once.
    const startedMs = performance.now();
    const batches: FlowBatch[] = [];
    const accepted: JsMsg[] = [];
    const refused: [JsMsg, string][] = [];
    const horizonMs = this.d.retentionMs > 0 ? Date.now() - this.d.retentionMs : -Infinity;
    for (const m of msgs) {
      const decoded = decodeFlowBatch(m.subject, m.data);
      if (!decoded.ok) {
        refused.push([m, decoded.reason]);
        continue;
      }
      const batch = this.withinRetention(decoded.value, horizonMs);
      if (batch) {
        batches.push(batch);
        accepted.push(m);
      } else {
        m.ack();
        this.d.metrics.messages.inc({ kind: 'flows', outcome: 'expired' });
      }
    }
    const enriched = batches.length > 0 ? enrichBatches(batches, this.d.enrichment) : undefined;
    if (enriched) this.d.onScored?.(enriched.flows);
    for (const [m, reason] of refused) await deadLetter(this.d, 'flows', m, reason);
    if (!enriched) return;
    const preparedMs = performance.now();
    await this.store(accepted, batches, enriched.flows, enriched.alerts);
    this.d.log.debug({ messages: msgs.length, flows: enriched.flows.length, prepareMs: Math.round(preparedMs - startedMs), writeMs: Math.round(performance.now() - preparedMs) }, 'group stored');
  };

  /**
   * Stores a group and acknowledges it. A write the database refuses for good (not an
   * outage: a value it cannot take) is retried one message at a time, and the message that
   * still fails goes to the dead letters, so one bad message never holds up the others.
   */
  private async store(msgs: readonly JsMsg[], batches: readonly FlowBatch[], flows: readonly StoredFlow[], alerts: readonly AlertCandidate[]): Promise<void> {
    const outcome = await this.writeUntilStored(flows, alerts, msgs);
    if ('refused' in outcome) {
      if (msgs.length === 1) {
        await deadLetter(this.d, 'flows', msgs[0]!, `database refused the batch: ${outcome.refused}`.slice(0, 1000));
        return;
      }
      let offset = 0;
      for (let i = 0; i < msgs.length; i++) {
        const count = batches[i]!.flows.length;
        const own = flows.slice(offset, offset + count);
        const ids = new Set(own.map((f) => f.flowId));
        offset += count;
        await this.store([msgs[i]!], [batches[i]!], own, alerts.filter((a) => a.flowIds.some((id) => ids.has(id))));
      }
      return;
    }
    for (const m of msgs) m.ack();
    this.d.metrics.messages.inc({ kind: 'flows', outcome: 'stored' }, msgs.length);
    this.countStored(flows, outcome.insertedByAgent);
    for (const a of alerts) this.d.metrics.alerts.inc({ kind: a.kind, level: a.level });
    this.d.onStored(flows, alerts, outcome.alertIds, batches);
  }

  /**
   * Flows older than the retention horizon would be stored and dropped again within the
   * hour, and could unsettle rollups kept longer than raw flows: they are counted, logged
   * and left out instead (set NTA_RETENTION_DAYS=0 for forensic imports of old captures).
   */
  private withinRetention(batch: FlowBatch, horizonMs: number): FlowBatch | undefined {
    if (batch.flows.every((f) => f.lastSeenMs >= horizonMs)) return batch;
    const kept = batch.flows.filter((f) => f.lastSeenMs >= horizonMs);
    const expired = batch.flows.length - kept.length;
    this.d.metrics.expiredFlows.inc({ agent: batch.agentId }, expired);
    this.warnExpired(batch.agentId, expired);
    return kept.length > 0 ? { ...batch, flows: kept } : undefined;
  }

  private lastExpiredWarningMs = 0;

  private warnExpired(agentId: string, flows: number): void {
    const now = Date.now();
    if (now - this.lastExpiredWarningMs < 60_000) return;
    this.lastExpiredWarningMs = now;
    this.d.log.warn({ agentId, flows }, 'flows older than NTA_RETENTION_DAYS not stored (set it to 0 to import old captures)');
  }

  private async writeUntilStored(flows: readonly StoredFlow[], alerts: readonly AlertCandidate[], msgs: readonly JsMsg[]): Promise<WriteResult | { refused: string }> {
    const outcome = await writeWhileTransient(
      async () => {
        const stopTimer = this.d.metrics.writeSeconds.startTimer();
        const result = await this.d.writer.write(flows, alerts);
        stopTimer();
        return result;
      },
      msgs,
      {
        stopping: () => this.stopping,
        onFailure: (err, attempt, transient) => {
          this.d.metrics.writeErrors.inc();
          if (!transient) {
            this.d.log.warn({ err, flows: flows.length, messages: msgs.length }, 'database refused a write');
            return;
          }
          if (this.lastWriteError === undefined || attempt % 20 === 0) this.d.log.warn({ err, attempt, flows: flows.length }, 'database write failed; retrying');
          this.lastWriteError = (err as Error).message;
        },
      },
    );
    if ('refused' in outcome) return outcome;
    if (this.lastWriteError) this.d.log.info({ attempts: outcome.attempts }, 'database writes resumed');
    this.lastWriteError = undefined;
    return outcome.stored;
  }

  private countStored(flows: readonly StoredFlow[], insertedByAgent: ReadonlyMap<string, number>): void {
    let inserted = 0;
    for (const [agent, n] of insertedByAgent) {
      this.d.metrics.flows.inc({ agent }, n);
      inserted += n;
    }
    if (inserted < flows.length) this.d.metrics.duplicateFlows.inc(flows.length - inserted);
  }
}
