/**
 * The flow ingest step: decode a group of messages, dead-letter the refused ones, enrich
 * and score the rest, store them in one transaction, and only then acknowledge. While the
 * database is unreachable the group is retried with backoff (its messages kept alive with
 * `working()`), and the pump reads nothing new: an outage delays data, it never drops it.
 */
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { FlowBatch } from '@nta/shared';
import type { Logger } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import type { AlertCandidate, StoredFlow } from '../types.js';
import type { FlowWriter } from '../db/flow-writer.js';
import type { Metrics } from '../metrics.js';
import { decodeFlowBatch } from './message-decoder.js';
import { sendToDeadLetters } from './dead-letters.js';
import { enrichBatches, type Enrichment } from './enrich.js';

export interface FlowIngestDeps {
  js: JetStreamClient;
  writer: FlowWriter;
  enrichment: Enrichment;
  metrics: Metrics;
  log: Logger;
  /** Called after a group is committed (live stream, registry of agents). */
  onStored(flows: readonly StoredFlow[], alerts: readonly AlertCandidate[], alertIds: readonly number[], batches: readonly FlowBatch[]): void;
  /** Called when a batch is enriched, before the write (the model's training reservoir). */
  onScored?(flows: readonly StoredFlow[]): void;
}

const KEEPALIVE_MS = 10_000;
const MAX_BACKOFF_MS = 5_000;

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
    for (const m of msgs) {
      const decoded = decodeFlowBatch(m.subject, m.data);
      if (decoded.ok) {
        batches.push(decoded.value);
        accepted.push(m);
      } else {
        refused.push([m, decoded.reason]);
      }
    }
    const enriched = batches.length > 0 ? enrichBatches(batches, this.d.enrichment) : undefined;
    if (enriched) this.d.onScored?.(enriched.flows);
    for (const [m, reason] of refused) await this.refuse(m, reason);
    if (!enriched) return;
    const { flows, alerts } = enriched;
    const preparedMs = performance.now();
    const result = await this.writeUntilStored(flows, alerts, accepted);
    this.d.log.debug(
      { messages: msgs.length, flows: flows.length, deduplicated: result.deduplicated, prepareMs: Math.round(preparedMs - startedMs), writeMs: Math.round(performance.now() - preparedMs) },
      "group stored",
    );
    for (const m of accepted) m.ack();
    this.d.metrics.messages.inc({ kind: 'flows', outcome: 'stored' }, accepted.length);
    this.countStored(flows, result.insertedByAgent);
    for (const a of alerts) this.d.metrics.alerts.inc({ kind: a.kind, level: a.level });
    this.d.onStored(flows, alerts, result.alertIds, batches);
  };

  private async refuse(m: JsMsg, reason: string): Promise<void> {
    this.d.log.warn({ subject: m.subject.slice(0, 200), seq: m.seq, bytes: m.data.length, reason }, 'flow message refused: sent to dead letters');
    try {
      await sendToDeadLetters(this.d.js, 'flows', m, reason);
      m.ack();
      this.d.metrics.deadLetters.inc({ kind: 'flows' });
      this.d.metrics.messages.inc({ kind: 'flows', outcome: 'dead-letter' });
    } catch (err) {
      // Not acked: JetStream redelivers it and the dead letter is tried again.
      this.d.log.error({ err, seq: m.seq }, 'could not publish dead letter; message left for redelivery');
    }
  }

  private async writeUntilStored(flows: readonly StoredFlow[], alerts: readonly AlertCandidate[], msgs: readonly JsMsg[]) {
    let backoffMs = 250;
    let lastKeepAlive = Date.now();
    for (let attempt = 1; ; attempt++) {
      const stopTimer = this.d.metrics.writeSeconds.startTimer();
      try {
        const result = await this.d.writer.write(flows, alerts);
        stopTimer();
        if (this.lastWriteError) this.d.log.info({ attempts: attempt }, 'database writes resumed');
        this.lastWriteError = undefined;
        return result;
      } catch (err) {
        this.d.metrics.writeErrors.inc();
        const message = (err as Error).message;
        if (this.lastWriteError === undefined || attempt % 20 === 0) this.d.log.warn({ err, attempt, flows: flows.length }, 'database write failed; retrying');
        this.lastWriteError = message;
        if (this.stopping) throw err;
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
        if (Date.now() - lastKeepAlive >= KEEPALIVE_MS) {
          for (const m of msgs) m.working();
          lastKeepAlive = Date.now();
        }
      }
    }
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
