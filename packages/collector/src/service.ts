/**
 * The collector service: wires configuration, storage, NATS, enrichment, scoring, the live
 * hub and the HTTP API together, and takes them down in order. Start-up waits for the
 * database and NATS (retrying, reporting in /healthz) instead of failing on the first try.
 */
import { connect, credsAuthenticator } from '@nats-io/transport-node';
import type { NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { JetStreamManager } from '@nats-io/jetstream';
import { Streams, Subjects } from '@nta/shared';
import { ensureStreams } from '@nta/shared/nats';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CollectorConfig } from './config.js';
import { createPool, withTransaction, type Pool } from './db/pool.js';
import { migrate, type StorageInfo } from './db/migrations.js';
import { PartitionManager } from './db/partitions.js';
import { FlowWriter } from './db/flow-writer.js';
import { RollupRefresher } from './db/rollups.js';
import { applyRetention } from './db/retention.js';
import { getAlerts, upsertAlerts } from './db/alerts-repo.js';
import { ensureAgents, listAgents } from './db/agents-repo.js';
import { createMetrics, type Metrics } from './metrics.js';
import { LiveHub } from './live/live-hub.js';
import { MessagePump, ensureConsumer, type MessagePumpOptions } from './ingest/message-pump.js';
import { FlowIngest } from './ingest/flow-ingest.js';
import { TelemetryIngest } from './ingest/telemetry-ingest.js';
import { buildApp, type HealthReport } from './api/app.js';
import { consoleRegistrar, resolveConsoleDir } from './api/console-static.js';
import { startEnrichment, type RunningEnrichment } from './enrichment-setup.js';
import { COLLECTOR_VERSION } from './version.js';

export interface Collector {
  readonly app: FastifyInstance;
  readonly storage: StorageInfo;
  readonly metrics: Metrics;
  /** Starts serving HTTP; returns the address, e.g. http://127.0.0.1:8080. */
  listen(host: string, port: number): Promise<string>;
  /** Recompute every rollup bucket now (tests and benchmarks; normally a timer does it). */
  refreshRollups(): Promise<number>;
  close(): Promise<void>;
}

export interface CollectorOverrides {
  /** Rollup refresher timings (tests shorten them). */
  rollupIntervalMs?: number;
  rollupSettleMs?: number;
  ackWaitMs?: number;
  /** Flows a live client gets per second at most; the rest are counted as dropped. */
  liveMaxFlowsPerTick?: number;
}

const RETENTION_INTERVAL_MS = 3_600_000;

/** Logs a recurring background failure at most once per interval, with how many were skipped. */
function throttledWarn(log: Logger, msg: string, intervalMs = 30_000): (err: unknown) => void {
  let lastMs = 0;
  let skipped = 0;
  return (err) => {
    const now = Date.now();
    if (now - lastMs < intervalMs) {
      skipped++;
      return;
    }
    log.warn({ err, skipped }, msg);
    lastMs = now;
    skipped = 0;
  };
}

async function retryUntil<T>(what: string, log: Logger, attempt: () => Promise<T>, isClosing: () => boolean): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (isClosing()) throw err;
      if (n === 1 || n % 10 === 0) log.warn({ err, attempt: n }, `${what} failed; retrying`);
      await sleep(Math.min(5000, 250 * n));
    }
  }
}

function natsOptions(c: CollectorConfig['nats']): NodeConnectionOptions {
  return {
    servers: c.url.split(','),
    name: 'nta-collector',
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    user: c.user,
    pass: c.password,
    token: c.token,
    authenticator: c.credsFile ? credsAuthenticator(readFileSync(c.credsFile)) : undefined,
  };
}

export async function startCollector(config: Readonly<CollectorConfig>, log: Logger, overrides: CollectorOverrides = {}): Promise<Collector> {
  let closing = false;
  const metrics = createMetrics();
  const pool: Pool = createPool(config.databaseUrl, 8);
  // API queries get their own small pool: heavy statistics requests can queue there, but
  // never take the connections ingest writes with.
  const apiPool: Pool = createPool(config.databaseUrl, 4);
  const storage = await retryUntil('database migration', log, () => migrate(pool, log), () => closing);
  log.info({ storage }, 'database ready');

  const nc: NatsConnection = await retryUntil('NATS connect', log, () => connect(natsOptions(config.nats)), () => closing);
  const jsm: JetStreamManager = await jetstreamManager(nc);
  await retryUntil('JetStream streams', log, () => ensureStreams(jsm), () => closing);
  const js = jetstream(nc);
  log.info({ server: nc.getServer() }, 'NATS ready');
  let natsConnected = true;
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        natsConnected = false;
        log.warn({ server: s.server }, 'NATS connection lost; reconnecting');
      } else if (s.type === 'reconnect') {
        natsConnected = true;
        log.info({ server: s.server }, 'NATS reconnected');
      }
    }
  })();

  const partitions = new PartitionManager(storage);
  const writer = new FlowWriter(pool, partitions, config.alertDedupMs);
  const live = new LiveHub({ maxFlowsPerTick: overrides.liveMaxFlowsPerTick ?? 2000, maxAlertsPending: 200, maxBufferedBytes: 1 << 20, onCoalesced: (n) => metrics.liveDropped.inc(n) });
  const enrichment: RunningEnrichment = await startEnrichment(config, {
    pool,
    log,
    onThreatAlert: (alert) => {
      withTransaction(pool, (c) => upsertAlerts(c, [alert], config.alertDedupMs))
        .then((ids) => getAlerts(pool, ids))
        .then((rows) => live.publishAlerts(rows))
        .catch((err) => log.warn({ err }, 'could not store a reputation alert'));
    },
  });

  const knownAgents = new Map<string, string>();
  const publishAgents = (): void => {
    listAgents(pool, Date.now(), config.staleAfterIntervals)
      .then((agents) => live.publishAgents(agents))
      .catch((err) => log.warn({ err }, 'agent list for the live view failed'));
  };
  // Heartbeats publish the list; this catches what no heartbeat announces: an agent falling
  // silent turns stale, and the live view must show it.
  const agentsTimer = setInterval(() => {
    if (live.size > 0) publishAgents();
  }, 5_000).unref();

  const flowIngest = new FlowIngest({
    js,
    writer,
    enrichment: enrichment.enrichment,
    metrics,
    log,
    retentionMs: config.retentionDays * 86_400_000,
    onScored: (flows) => enrichment.observe(flows),
    onStored: (flows, _alerts, alertIds, batches) => {
      live.publishFlows(flows);
      const fresh = new Map<string, string>();
      for (const b of batches) if (knownAgents.get(b.agentId) !== b.hostname) fresh.set(b.agentId, b.hostname);
      if (fresh.size > 0) {
        ensureAgents(pool, fresh)
          .then(() => {
            for (const [id, host] of fresh) knownAgents.set(id, host);
            publishAgents();
          })
          .catch((err) => log.warn({ err }, 'agent registry update failed'));
      }
      if (alertIds.length > 0) {
        getAlerts(pool, [...new Set(alertIds)])
          .then((rows) => live.publishAlerts(rows))
          .catch((err) => log.warn({ err }, 'alerts for the live view failed'));
      }
    },
  });
  const telemetryIngest = new TelemetryIngest({
    js,
    pool,
    partitions,
    metrics,
    log,
    onHeartbeat: () => publishAgents(),
    onHostStats: (batch) => {
      for (const s of batch.seconds) live.publishHostSecond(batch.agentId, s);
    },
  });

  const ackWaitMs = overrides.ackWaitMs ?? config.ackWaitMs;
  const flowPumpOptions: MessagePumpOptions = {
    stream: Streams.flows.name,
    durable: config.consumerName,
    filterSubject: Subjects.allFlows,
    ackWaitMs,
    maxInFlight: config.maxInFlight,
    maxGroup: Math.max(1, Math.ceil(config.batchFlows / 500)),
    lingerMs: 20,
    concurrency: 2,
  };
  const telemetryPumpOptions: MessagePumpOptions = {
    stream: Streams.telemetry.name,
    durable: `${config.consumerName}-telemetry`,
    ackWaitMs,
    maxInFlight: 256,
    maxGroup: 64,
    lingerMs: 0,
  };
  await ensureConsumer(jsm, flowPumpOptions);
  await ensureConsumer(jsm, telemetryPumpOptions);
  const flowPump = new MessagePump(js, flowPumpOptions, flowIngest.handle, log.child({ pump: 'flows' }));
  const telemetryPump = new MessagePump(js, telemetryPumpOptions, telemetryIngest.handle, log.child({ pump: 'telemetry' }));

  const refresher = new RollupRefresher(pool, {
    settleMs: overrides.rollupSettleMs ?? 10_000,
    intervalMs: overrides.rollupIntervalMs ?? 5_000,
    retentionDays: config.retentionDays,
    onError: throttledWarn(log, 'rollup refresh failed; will retry'),
  });

  const runRetention = (): void => {
    applyRetention(pool, storage, partitions, config.retentionDays, Date.now())
      .then((dropped) => dropped.length > 0 && log.info({ dropped }, 'retention dropped old partitions'))
      .catch((err) => log.warn({ err }, 'retention failed; will retry'));
  };
  const retentionTimer = setInterval(runRetention, RETENTION_INTERVAL_MS).unref();

  let dbOk = true;
  let lastDbError: string | undefined;
  const lagTimer = setInterval(() => {
    for (const o of [flowPumpOptions, telemetryPumpOptions]) {
      jsm.consumers
        .info(o.stream, o.durable)
        .then((info) => {
          metrics.consumerPending.set({ stream: o.stream }, info.num_pending);
          metrics.consumerAckPending.set({ stream: o.stream }, info.num_ack_pending);
        })
        .catch(() => {});
    }
    refresher
      .pending()
      .then((n) => {
        metrics.rollupPending.set(n);
        dbOk = true;
        lastDbError = undefined;
      })
      .catch((err) => {
        dbOk = false;
        lastDbError = (err as Error).message;
      });
  }, 5_000).unref();

  const health = async (): Promise<HealthReport> => {
    const dbProbe = await apiPool.query('SELECT 1').then(
      () => ({ ok: true }),
      (err: Error) => ({ ok: false, detail: err.message }),
    );
    const checks: HealthReport['checks'] = {
      database: { ok: dbProbe.ok && dbOk, detail: dbProbe.ok ? { flavor: storage.flavor, license: storage.timescaleLicense, server: storage.serverVersion } : (dbProbe as { detail: string }).detail ?? lastDbError },
      nats: { ok: natsConnected && !nc.isClosed(), detail: nc.getServer() },
      ingest: { ok: flowIngest.lastWriteError === undefined, detail: flowIngest.lastWriteError },
      ...enrichment.health(),
    };
    return { ok: checks.database!.ok && checks.nats!.ok && checks.ingest!.ok, checks };
  };

  const app = await buildApp({
    pool: apiPool,
    live,
    metrics,
    log,
    staleAfterIntervals: config.staleAfterIntervals,
    version: COLLECTOR_VERSION,
    storageFlavor: storage.flavor,
    health,
    geoInfo: enrichment.geoInfo,
    onAlertChanged: (alert) => live.publishAlerts([alert]),
    registerConsole: consoleRegistrar(await resolveConsoleDir(config.consoleDir)),
  });

  flowPump.start();
  telemetryPump.start();
  refresher.start();
  live.start();
  runRetention();
  enrichment.start();

  return {
    app,
    storage,
    metrics,
    listen: (host, port) => app.listen({ host, port }),
    refreshRollups: () => refresher.refreshNow(),
    async close() {
      if (closing) return;
      closing = true;
      flowIngest.stop();
      telemetryIngest.stop();
      await Promise.allSettled([flowPump.stop(), telemetryPump.stop()]);
      clearInterval(retentionTimer);
      clearInterval(lagTimer);
      clearInterval(agentsTimer);
      live.stop();
      await refresher.stop();
      await app.close();
      await enrichment.stop();
      await nc.drain().catch(() => nc.close());
      await pool.end();
      await apiPool.end();
    },
  };
}
