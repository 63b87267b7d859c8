import { randomBytes } from 'node:crypto';
import type { FlowRecord } from '@nta/shared';
import type { Logger } from 'pino';
import type { ReadConfig, CaptureConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { NatsPublisher } from '../publish/index.js';
import type { FlowOutput } from './read.js';

export function createPublisher(config: ReadConfig | CaptureConfig, log: Logger): NatsPublisher {
  const nats = config.nats;
  if (nats === undefined) throw new Error('createPublisher needs a NATS configuration');
  return new NatsPublisher({
    servers: nats.url,
    agentId: config.agentId,
    hostname: config.hostname,
    runId: randomBytes(6).toString('hex'),
    spoolDir: nats.spoolDir,
    user: nats.user,
    pass: nats.password,
    token: nats.token,
    credsFile: nats.credsFile,
    log,
  });
}

const FLUSH_WAIT_MS = 30_000;

/** Publishes a file's flows; waits for the stream when NATS is slower than the file. */
export async function natsOutput(config: ReadConfig): Promise<FlowOutput> {
  const log = createLogger(config.logLevel, config.agentId);
  const publisher = createPublisher(config, log);
  let batch: FlowRecord[] = [];
  const handOver = (): void => {
    if (batch.length > 0) publisher.addFlows(batch);
    batch = [];
  };
  return {
    write: (flow) => {
      batch.push(flow);
      if (batch.length >= 256) handOver();
    },
    hostSecond: (second) => publisher.addHostSeconds([second]),
    drain: async () => {
      handOver();
      await publisher.drain();
    },
    close: async () => {
      handOver();
      // An import is done when JetStream has every flow; a short wait covers a slow first connect.
      try {
        await publisher.flush(FLUSH_WAIT_MS);
      } catch {
        // not all acknowledged in time: close() spools the rest
      }
      await publisher.close(5_000);
      const s = publisher.stats();
      if (s.spool.pendingBatches > 0) {
        log.warn({ spooled: s.spool.pendingBatches, spoolDir: config.nats?.spoolDir }, 'NATS did not take every batch; the rest waits in the spool and is sent on the next run');
      }
      return { published: s.publishedFlows };
    },
  };
}
