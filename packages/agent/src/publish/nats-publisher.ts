/**
 * Publishes flow batches and host counters to JetStream, heartbeats to core NATS.
 *
 * The pipeline calls addFlows / addHostSeconds / sendHeartbeat synchronously; they only
 * serialise into the current batch and never throw. Sealed batches (about 500 flows or
 * 48 KB of JSON, or whatever is there every flushIntervalMs) go through the Outbox, which
 * publishes them with an ack and the message id `${agentId}.${runId}.${seq}`, and spools
 * them on disk, in order, whenever NATS is unreachable or slow.
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { connect, credsAuthenticator } from '@nats-io/transport-node';
import type { NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { JetStreamClient } from '@nats-io/jetstream';
import { AgentId, Heartbeat, heartbeatSubject } from '@nta/shared';
import type { FlowRecord, HostSecond } from '@nta/shared';
import type { Logger } from 'pino';
import { flowBatcher, hostStatsBatcher } from './batcher.js';
import type { BatchKind, EncodedBatch, JsonBatcher } from './batcher.js';
import { LogLimiter } from './log-limiter.js';
import { Outbox } from './outbox.js';
import type { OutboxStats } from './outbox.js';
import { Spool } from './spool.js';
import type { SpoolStats } from './spool.js';
import { ensureStreams } from '@nta/shared/nats';
import type { StreamLimits } from '@nta/shared/nats';

export interface NatsPublisherOptions {
  servers: string | string[];
  agentId: string;
  hostname: string;
  /** Names this run in message ids; default: random. */
  runId?: string;
  log: Logger;
  /** Where unacknowledged batches wait while NATS is unreachable; reused across restarts. */
  spoolDir: string;
  /** Default 256 MiB; when full, the oldest batches are dropped and counted. */
  spoolMaxBytes?: number;
  /** fsync every spooled batch (survives power loss; costs a disk flush per batch). */
  spoolFsync?: boolean;
  /** Connection name shown by the server; default `nta-agent:${agentId}`. */
  name?: string;
  user?: string;
  pass?: string;
  token?: string;
  /** Path to a NATS .creds file (JWT + nkey seed). */
  credsFile?: string;
  /** Seal the current batches this often. Default 1000 ms. */
  flushIntervalMs?: number;
  /** Default 500 (the schema allows 10,000). */
  maxBatchFlows?: number;
  /** Soft bound on a batch's JSON. Default 48 KiB. */
  maxBatchBytes?: number;
  /** Unacknowledged JetStream publishes at a time. Default 32. */
  maxInFlight?: number;
  /** Sealed batches waiting in memory before they spill to the spool. Default 4 MiB. */
  maxQueuedBytes?: number;
  /** Per publish; a publish not acked by then is spooled and retried. Default 5000 ms. */
  publishTimeoutMs?: number;
  /** Parse every outgoing batch and heartbeat with the shared schemas (dev and tests). */
  validate?: boolean;
  /** Create/update the streams on (re)connect (default true); false when the agent lacks the permission. */
  ensureStreams?: boolean | Partial<StreamLimits>;
  reconnectTimeWaitMs?: number;
  pingIntervalMs?: number;
  /** Clock for `sentAtMs`. */
  now?: () => number;
}

export interface PublisherStats extends Omit<OutboxStats, 'lostFlows'> {
  lastError: string | null;
  connected: boolean;
  /** Connected and the streams are known to exist: batches go to JetStream. */
  ready: boolean;
  heartbeatsSent: number;
  heartbeatsSkipped: number;
  invalidFlows: number;
  invalidHostSeconds: number;
  invalidHeartbeats: number;
  /** Flows lost for good: spool full (oldest dropped), spool write failed, or added after close. */
  droppedFlows: number;
  spool: SpoolStats;
}

export class NatsPublisher {
  readonly agentId: string;
  readonly runId: string;
  readonly #opts: NatsPublisherOptions;
  readonly #log: Logger;
  readonly #limiter: LogLimiter;
  readonly #validate: boolean;
  readonly #publishTimeoutMs: number;
  readonly #spool: Spool;
  readonly #outbox: Outbox;
  readonly #flows: JsonBatcher<FlowRecord>;
  readonly #hostSeconds: JsonBatcher<HostSecond>;
  readonly #timer: NodeJS.Timeout;
  #nc: NatsConnection | undefined;
  #js: JetStreamClient | undefined;
  #connected = false;
  #closing = false;
  #s = { heartbeatsSent: 0, heartbeatsSkipped: 0, invalidFlows: 0, invalidHostSeconds: 0, invalidHeartbeats: 0, lostFlows: 0 };
  #lastError: string | null = null;

  /** Starts connecting in the background; batches spool until the first connection. Throws only on bad options or an unusable spool dir. */
  constructor(opts: NatsPublisherOptions) {
    AgentId.parse(opts.agentId);
    this.#opts = opts;
    this.agentId = opts.agentId;
    this.runId = opts.runId ?? `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
    this.#log = opts.log.child({ component: 'publisher' });
    this.#limiter = new LogLimiter(this.#log);
    this.#validate = opts.validate ?? false;
    this.#publishTimeoutMs = opts.publishTimeoutMs ?? 5000;
    this.#spool = new Spool({ dir: opts.spoolDir, maxBytes: opts.spoolMaxBytes, fsync: opts.spoolFsync, log: this.#log });
    this.#outbox = new Outbox({
      spool: this.#spool,
      maxInFlight: Math.max(1, opts.maxInFlight ?? 32),
      maxQueuedBytes: opts.maxQueuedBytes ?? 4 * 1024 * 1024,
      limiter: this.#limiter,
      publish: (b) => this.#publish(b),
      onError: (message) => {
        this.#lastError = message;
      },
    });
    const id = { agentId: opts.agentId, hostname: opts.hostname, runId: this.runId };
    const maxBytes = opts.maxBatchBytes ?? 48 * 1024;
    const validate = this.#validate;
    const onInvalid = (kind: BatchKind, count: number, reason: string): void => this.#onInvalid(kind, count, reason);
    const emit = (b: EncodedBatch): void => this.#outbox.enqueue(b);
    const flowLimits = { maxItems: Math.min(opts.maxBatchFlows ?? 500, 10_000), maxBytes, validate };
    this.#flows = flowBatcher(id, flowLimits, opts.now ?? Date.now, emit, onInvalid);
    this.#hostSeconds = hostStatsBatcher(id, { maxItems: 3600, maxBytes, validate }, emit, onInvalid);
    this.#timer = setInterval(() => this.#sealAll(), opts.flushIntervalMs ?? 1000).unref();
    void this.#connectLoop();
  }

  // ---- the synchronous API the pipeline calls ----

  addFlows(flows: readonly FlowRecord[]): void {
    if (this.#rejectAfterClose('flows', flows.length)) return;
    try {
      for (const f of flows) this.#flows.add(f);
    } catch (err) {
      this.#error('add-flows', err, 'failed to batch flows');
    }
  }

  addHostSeconds(seconds: readonly HostSecond[]): void {
    if (this.#rejectAfterClose('hoststats', seconds.length)) return;
    try {
      for (const s of seconds) this.#hostSeconds.add(s);
    } catch (err) {
      this.#error('add-host-seconds', err, 'failed to batch host seconds');
    }
  }

  /** Core NATS publish when connected (the telemetry stream captures it); skipped and counted otherwise. */
  sendHeartbeat(hb: Heartbeat): void {
    try {
      if (this.#validate) {
        const r = Heartbeat.safeParse(hb);
        if (!r.success) {
          this.#s.invalidHeartbeats++;
          this.#lastError = `invalid heartbeat: ${r.error.issues[0]?.message ?? ''}`;
          this.#log.error({ issues: r.error.issues.slice(0, 3) }, 'invalid heartbeat not sent');
          return;
        }
      }
      if (!this.#connected || !this.#nc || this.#closing) {
        this.#s.heartbeatsSkipped++;
        return;
      }
      this.#nc.publish(heartbeatSubject(this.agentId), JSON.stringify(hb));
      this.#s.heartbeatsSent++;
    } catch (err) {
      this.#s.heartbeatsSkipped++;
      this.#error('heartbeat', err, 'failed to send heartbeat');
    }
  }

  stats(): PublisherStats {
    const { lostFlows: outboxLost, ...out } = this.#outbox.stats();
    const spool = this.#spool.stats();
    const { lostFlows, ...s } = this.#s;
    return {
      connected: this.#connected,
      ready: this.#outbox.ready,
      ...out,
      ...s,
      droppedFlows: lostFlows + outboxLost + spool.droppedItems,
      pendingFlows: out.pendingFlows + this.#flows.pendingItems,
      spool,
      lastError: this.#lastError,
    };
  }

  /**
   * Seals the current batches and resolves when everything added so far is acknowledged by
   * JetStream (or dropped and counted). Without a timeout it waits as long as NATS is down;
   * with one it rejects with an NtaError (NTA_ERR_PUBLISH) when the time is up.
   */
  flush(timeoutMs?: number): Promise<void> {
    this.#sealAll();
    return this.#outbox.flush(timeoutMs);
  }

  /**
   * Backpressure for producers that can wait (a file import; live capture should not):
   * resolves at once while the publisher has room, otherwise when it has again (see Outbox.drain).
   */
  drain(): Promise<void> {
    return this.#outbox.drain();
  }

  /**
   * Flushes for up to `timeoutMs` (default 5 s; not at all while NATS is unreachable), spools
   * whatever is still unacknowledged, and closes the connection. Idempotent.
   */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.#closing) return;
    this.#sealAll();
    this.#closing = true;
    clearInterval(this.#timer);
    try {
      await this.#outbox.flush(this.#outbox.ready ? timeoutMs : 0);
    } catch {
      // what is left goes to the spool
    }
    this.#outbox.close();
    const nc = this.#nc;
    this.#nc = undefined;
    this.#js = undefined;
    this.#connected = false;
    if (nc) await nc.close().catch(() => undefined);
    const st = this.stats();
    this.#log.info({ publishedFlows: st.publishedFlows, spooledBatches: st.spool.pendingBatches, droppedFlows: st.droppedFlows }, 'publisher closed');
  }

  // ---- connection ----

  #publish(b: EncodedBatch): Promise<{ duplicate: boolean }> {
    const js = this.#js;
    if (!js) return Promise.reject(new Error('not connected'));
    return js.publish(b.subject, b.payload, { msgID: b.msgId, timeout: this.#publishTimeoutMs, retries: 1 });
  }

  /** The first connection, retried until it works; after that the client reconnects by itself, forever. */
  async #connectLoop(): Promise<void> {
    const o = this.#opts;
    const reconnectTimeWait = o.reconnectTimeWaitMs ?? 1000;
    const copts: NodeConnectionOptions = {
      servers: o.servers,
      name: o.name ?? `nta-agent:${o.agentId}`,
      maxReconnectAttempts: -1,
      reconnectTimeWait,
      pingInterval: o.pingIntervalMs ?? 20_000,
      timeout: 5000,
    };
    if (o.user !== undefined) copts.user = o.user;
    if (o.pass !== undefined) copts.pass = o.pass;
    if (o.token !== undefined) copts.token = o.token;
    for (let attempt = 1; !this.#closing; attempt++) {
      try {
        if (o.credsFile) copts.authenticator = credsAuthenticator(readFileSync(o.credsFile));
        const nc = await connect(copts);
        if (this.#closing) {
          await nc.close();
          return;
        }
        this.#nc = nc;
        this.#js = jetstream(nc, { timeout: this.#publishTimeoutMs });
        this.#connected = true;
        this.#log.info({ server: nc.getServer(), runId: this.runId }, 'connected to NATS');
        void this.#watchStatus(nc);
        void this.#becomeReady(nc);
        return;
      } catch (err) {
        this.#lastError = `connect: ${(err as Error).message}`;
        this.#limiter.log('warn', 'connect', { err, attempt }, 'cannot connect to NATS, retrying');
        await delay(Math.min(5000, reconnectTimeWait * Math.min(attempt, 5)));
      }
    }
  }

  async #watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (this.#closing) return;
      if (s.type === 'disconnect') {
        this.#connected = false;
        this.#log.warn({ server: s.server }, 'disconnected from NATS; spooling');
        this.#outbox.setReady(false);
      } else if (s.type === 'reconnect') {
        this.#connected = true;
        this.#log.info({ server: s.server }, 'reconnected to NATS');
        void this.#becomeReady(nc);
      } else if (s.type === 'error') {
        this.#lastError = s.error.message;
        this.#limiter.log('warn', 'nats-error', { err: s.error }, 'NATS error');
      }
    }
  }

  /** Makes sure the streams exist (retrying while connected), then lets batches go to JetStream. */
  async #becomeReady(nc: NatsConnection): Promise<void> {
    const want = this.#opts.ensureStreams ?? true;
    while (this.#connected && !this.#closing && this.#nc === nc) {
      try {
        if (want !== false) {
          const jsm = await jetstreamManager(nc, { timeout: this.#publishTimeoutMs, checkAPI: false });
          await ensureStreams(jsm, want === true ? {} : want);
        }
        if (this.#connected && !this.#closing) this.#outbox.setReady(true);
        return;
      } catch (err) {
        this.#lastError = `ensure streams: ${(err as Error).message}`;
        this.#limiter.log('warn', 'streams', { err }, 'cannot ensure the JetStream streams, retrying');
        await delay(1000);
      }
    }
  }

  // ---- helpers ----

  #sealAll(): void {
    try {
      this.#flows.seal();
      this.#hostSeconds.seal();
    } catch (err) {
      this.#error('seal', err, 'failed to seal batches');
    }
  }

  #rejectAfterClose(kind: BatchKind, count: number): boolean {
    if (!this.#closing) return false;
    if (kind === 'flows') this.#s.lostFlows += count;
    this.#limiter.log('warn', 'after-close', { kind, count }, 'items added after close were dropped');
    return true;
  }

  #onInvalid(kind: BatchKind, count: number, reason: string): void {
    if (kind === 'flows') this.#s.invalidFlows += count;
    else this.#s.invalidHostSeconds += count;
    this.#lastError = `invalid ${kind}: ${reason}`;
    this.#log.error({ kind, count, reason }, 'items failed schema validation and were not sent');
  }

  #error(key: string, err: unknown, msg: string): void {
    this.#lastError = `${key}: ${(err as Error)?.message ?? String(err)}`;
    this.#limiter.log('error', key, { err }, msg);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
