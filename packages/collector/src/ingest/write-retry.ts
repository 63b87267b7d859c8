/**
 * What flows and telemetry share on the way into the database: retrying a write through
 * outages while keeping its messages from redelivery, telling an outage from a value the
 * database will never take, and sending a message to the dead letters.
 */
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import { NO_PARTITION_FOR_ROW, isConnectionError } from '../db/flow-writer.js';
import type { Metrics } from '../metrics.js';
import { sendToDeadLetters, type DeadLetterKind } from './dead-letters.js';

const KEEPALIVE_MS = 10_000;
const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 5_000;

/**
 * Outages and contention pass; everything else (a value out of range, a constraint) will
 * fail the same way again. SQLSTATE classes: 08 connection, 53 resources, 57 operator
 * intervention (shutdown, statement timeout), 40 serialization/deadlock, 55P03 lock timeout;
 * and a missing day partition, which the writer re-creates on the next attempt.
 */
export function isTransientWriteError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^(08|53|57|40)/.test(code)) return true;
  if (code === '55P03' || code === NO_PARTITION_FOR_ROW) return true;
  // Our own encoder refusing a value (RangeError codes) will refuse it again.
  if (typeof code === 'string' && code.startsWith('ERR_')) return false;
  // No SQLSTATE: a socket, a pool timeout, a client error: treat as an outage.
  return typeof code !== 'string' || code.length !== 5 || isConnectionError(err);
}

export type WriteOutcome<T> = { stored: T; attempts: number } | { refused: string };

export interface RetryHooks {
  /** Checked after each transient failure: true stops retrying (the error is thrown). */
  stopping(): boolean;
  /** Every failed attempt, transient or not. */
  onFailure(err: unknown, attempt: number, transient: boolean): void;
}

/**
 * Runs `write` until it succeeds or the database refuses it for good, backing off between
 * attempts and calling `working()` on the messages meanwhile (a slow attempt included).
 */
export async function writeWhileTransient<T>(write: () => Promise<T>, msgs: readonly JsMsg[], hooks: RetryHooks): Promise<WriteOutcome<T>> {
  let backoffMs = FIRST_BACKOFF_MS;
  const keepAlive = setInterval(() => {
    for (const m of msgs) m.working();
  }, KEEPALIVE_MS);
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        return { stored: await write(), attempts: attempt };
      } catch (err) {
        const transient = isTransientWriteError(err);
        hooks.onFailure(err, attempt, transient);
        if (!transient) return { refused: (err as Error).message };
        if (hooks.stopping()) throw err;
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
      }
    }
  } finally {
    clearInterval(keepAlive);
  }
}

/** Publishes a refused message to the dead letters, then acks it; on failure leaves it for redelivery. */
export async function deadLetter(
  d: { js: JetStreamClient; metrics: Metrics; log: Logger },
  kind: DeadLetterKind,
  m: JsMsg,
  reason: string,
): Promise<void> {
  d.log.warn({ subject: m.subject.slice(0, 200), seq: m.seq, bytes: m.data.length, reason }, `${kind} message refused: sent to dead letters`);
  try {
    await sendToDeadLetters(d.js, kind, m, reason);
    m.ack();
    d.metrics.deadLetters.inc({ kind });
    d.metrics.messages.inc({ kind, outcome: 'dead-letter' });
  } catch (err) {
    // Not acked: JetStream redelivers it and the dead letter is tried again.
    d.log.error({ err, seq: m.seq }, 'could not publish dead letter; message left for redelivery');
  }
}
