/**
 * The collector's configuration: read from the environment once, validated with zod,
 * frozen and passed down. Only this module touches process.env.
 */
import { ConfigError } from '@nta/shared';
import { z } from 'zod';

const boolish = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

const Env = z.object({
  NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
  NATS_USER: z.string().optional(),
  NATS_PASSWORD: z.string().optional(),
  NATS_TOKEN: z.string().optional(),
  NATS_CREDS: z.string().optional(),
  DATABASE_URL: z.string().min(1).default('postgres://postgres@127.0.0.1:5432/nta'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Durable consumer name; several collectors with the same name share the work. */
  NTA_CONSUMER: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).default('nta-collector'),
  /** Flows per database transaction (several messages are grouped up to this). */
  NTA_BATCH_FLOWS: z.coerce.number().int().min(1).max(100_000).default(10_000),
  /** Messages fetched per pull and held in flight at most; the backpressure bound. */
  NTA_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(10_000).default(256),
  /** How long JetStream waits for an ack before redelivering a message to another try. */
  NTA_ACK_WAIT_S: z.coerce.number().int().min(1).max(3600).default(30),
  /** Raw flows older than this many days are dropped (partitions/chunks); 0 keeps them forever. */
  NTA_RETENTION_DAYS: z.coerce.number().min(0).max(36_500).default(30),
  GEOIP_CITY_DB: z.string().optional(),
  GEOIP_ASN_DB: z.string().optional(),
  GEOIP_DISABLE: boolish.default(false),
  /** `name=path-or-url,name2=...`; see intel/threat-feeds.ts. */
  THREAT_FEEDS: z.string().default(''),
  THREAT_FEEDS_REFRESH_S: z.coerce.number().int().min(10).default(3600),
  ABUSEIPDB_API_KEY: z.string().optional(),
  ABUSEIPDB_BASE_URL: z.string().url().optional(),
  VIRUSTOTAL_API_KEY: z.string().optional(),
  VIRUSTOTAL_BASE_URL: z.string().url().optional(),
  /** Alerts with the same kind, agent and subject within this window are merged. */
  NTA_ALERT_DEDUP_S: z.coerce.number().int().min(1).default(600),
  NTA_MODEL_RETRAIN_S: z.coerce.number().int().min(5).default(600),
  /** An agent is stale after this many missed heartbeat intervals. */
  NTA_STALE_AFTER_INTERVALS: z.coerce.number().min(1).default(3),
  /** Directory of the built console (served at /); empty disables it. */
  NTA_CONSOLE_DIR: z.string().optional(),
});

export interface CollectorConfig {
  nats: { url: string; user?: string; password?: string; token?: string; credsFile?: string };
  databaseUrl: string;
  http: { host: string; port: number };
  logLevel: string;
  consumerName: string;
  batchFlows: number;
  maxInFlight: number;
  ackWaitMs: number;
  retentionDays: number;
  geo: { disabled: boolean; cityDbPath?: string; asnDbPath?: string };
  intel: {
    feeds: string;
    feedsRefreshMs: number;
    abuseIpDb?: { apiKey: string; baseUrl?: string };
    virusTotal?: { apiKey: string; baseUrl?: string };
  };
  alertDedupMs: number;
  modelRetrainMs: number;
  staleAfterIntervals: number;
  consoleDir?: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<CollectorConfig> {
  // Empty strings are how shells and Compose files say "unset".
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const r = Env.safeParse(present);
  if (!r.success) throw new ConfigError(`invalid collector configuration:\n${z.prettifyError(r.error)}`);
  const e = r.data;
  return Object.freeze({
    nats: { url: e.NATS_URL, user: e.NATS_USER, password: e.NATS_PASSWORD, token: e.NATS_TOKEN, credsFile: e.NATS_CREDS },
    databaseUrl: e.DATABASE_URL,
    http: { host: e.HOST, port: e.PORT },
    logLevel: e.LOG_LEVEL,
    consumerName: e.NTA_CONSUMER,
    batchFlows: e.NTA_BATCH_FLOWS,
    maxInFlight: e.NTA_MAX_IN_FLIGHT,
    ackWaitMs: e.NTA_ACK_WAIT_S * 1000,
    retentionDays: e.NTA_RETENTION_DAYS,
    geo: { disabled: e.GEOIP_DISABLE, cityDbPath: e.GEOIP_CITY_DB, asnDbPath: e.GEOIP_ASN_DB },
    intel: {
      feeds: e.THREAT_FEEDS,
      feedsRefreshMs: e.THREAT_FEEDS_REFRESH_S * 1000,
      abuseIpDb: e.ABUSEIPDB_API_KEY ? { apiKey: e.ABUSEIPDB_API_KEY, baseUrl: e.ABUSEIPDB_BASE_URL } : undefined,
      virusTotal: e.VIRUSTOTAL_API_KEY ? { apiKey: e.VIRUSTOTAL_API_KEY, baseUrl: e.VIRUSTOTAL_BASE_URL } : undefined,
    },
    alertDedupMs: e.NTA_ALERT_DEDUP_S * 1000,
    modelRetrainMs: e.NTA_MODEL_RETRAIN_S * 1000,
    staleAfterIntervals: e.NTA_STALE_AFTER_INTERVALS,
    consoleDir: e.NTA_CONSOLE_DIR,
  });
}
