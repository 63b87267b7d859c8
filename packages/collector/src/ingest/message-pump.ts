/**
 * Reads a durable JetStream pull consumer and hands the messages to a handler in groups,
 * one group at a time. The local queue is bounded: when it is full the reader stops
 * iterating, the client stops pulling, and JetStream holds the rest (backpressure instead
 * of memory). The handler acknowledges; the pump never does.
 */
import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import { JetStreamApiError, JetStreamApiCodes } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';

const PULL_BYTES = 4 * 1024 * 1024;

export interface MessagePumpOptions {
  stream: string;
  durable: string;
  /** One subject filter, or none for the whole stream (nats-server 2.9 takes only one). */
  filterSubject?: string;
  /** How long JetStream waits for an ack before redelivering (the handler extends it while it retries). */
  ackWaitMs: number;
  /** Messages held locally (queued or being handled) at most. */
  maxInFlight: number;
  /** Messages per handler call at most. */
  maxGroup: number;
  /** After the first message, wait at most this long for more to fill a group. */
  lingerMs: number;
  /**
   * Groups handled at once. With 2, the next group is decoded, enriched and scored while
   * the previous one is being written, so JavaScript and PostgreSQL work side by side.
   */
  concurrency?: number;
}

export async function ensureConsumer(jsm: JetStreamManager, o: MessagePumpOptions): Promise<void> {
  const config = {
    durable_name: o.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(o.ackWaitMs),
    // Redeliveries never stop: a message is only dropped by being stored or dead-lettered.
    max_deliver: -1,
    max_ack_pending: Math.max(o.maxInFlight * 4, 1000),
    ...(o.filterSubject ? { filter_subject: o.filterSubject } : {}),
  };
  try {
    await jsm.consumers.info(o.stream, o.durable);
    await jsm.consumers.update(o.stream, o.durable, { ack_wait: config.ack_wait, max_ack_pending: config.max_ack_pending });
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound)) throw err;
    await jsm.consumers.add(o.stream, config);
  }
}

export class MessagePump {
  private readonly queue: JsMsg[] = [];
  private wakeProcessor: (() => void) | undefined;
  private wakeReader: (() => void) | undefined;
  private messages: ConsumerMessages | undefined;
  private stopped = false;
  private readerDone: Promise<void> | undefined;
  private processorDone: Promise<void> | undefined;

  constructor(
    private readonly js: JetStreamClient,
    private readonly opts: MessagePumpOptions,
    private readonly handle: (msgs: JsMsg[]) => Promise<void>,
    private readonly log: Logger,
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  start(): void {
    this.stopped = false;
    this.readerDone = this.readLoop();
    this.processorDone = this.processLoop();
  }

  /** Stops pulling, lets the group in hand finish (and be acked), leaves the rest to JetStream. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.messages?.stop();
    this.wakeReader?.();
    this.wakeProcessor?.();
    await Promise.allSettled([this.readerDone, this.processorDone]);
    // Unhandled queued messages are simply not acked: JetStream redelivers them.
    this.queue.length = 0;
  }

  private async readLoop(): Promise<void> {
    while (!this.stopped) {
      try {
        const consumer = await this.js.consumers.get(this.opts.stream, this.opts.durable);
        // Pulled by size, not count: batches can be large, and a pull of many megabytes
        // arriving while the event loop is busy scoring made nats-server drop us as a
        // slow consumer (then the in-flight messages came back only after ack_wait).
        this.messages = await consumer.consume({ max_bytes: PULL_BYTES });
        for await (const m of this.messages) {
          this.queue.push(m);
          this.wakeProcessor?.();
          while (!this.stopped && this.queue.length >= this.opts.maxInFlight) {
            await new Promise<void>((resolve) => (this.wakeReader = resolve));
          }
          if (this.stopped) break;
        }
      } catch (err) {
        if (this.stopped) break;
        this.log.warn({ err, stream: this.opts.stream }, 'consumer read failed; retrying');
        await sleep(1000);
      }
    }
  }

  private async processLoop(): Promise<void> {
    const running = new Set<Promise<void>>();
    const limit = Math.max(1, this.opts.concurrency ?? 1);
    while (!this.stopped) {
      if (running.size >= limit) {
        await Promise.race(running);
        continue;
      }
      if (this.queue.length === 0) {
        const idleSince = Date.now();
        await new Promise<void>((resolve) => (this.wakeProcessor = resolve));
        this.log.trace({ waitedMs: Date.now() - idleSince, running: running.size }, 'pump waited for messages');
        continue;
      }
      if (this.queue.length < this.opts.maxGroup && this.opts.lingerMs > 0) await sleep(this.opts.lingerMs);
      const group = this.queue.splice(0, this.opts.maxGroup);
      this.wakeReader?.();
      // The handler's synchronous part (decode, enrich, score) runs now, in arrival order.
      const task: Promise<void> = this.handle(group)
        .catch((err) => {
          // The handler owns retries; reaching here means it gave up on the group (shutdown).
          this.log.error({ err }, 'message group not handled; JetStream will redeliver it');
        })
        .finally(() => {
          running.delete(task);
          this.wakeProcessor?.();
        });
      running.add(task);
    }
    await Promise.allSettled(running);
  }
}
