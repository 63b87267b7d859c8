/**
 * A whole collector stack for tests: a real nats-server, a real PostgreSQL or TimescaleDB
 * (one server per flavour per test file, a fresh database per stack) and the collector,
 * either in this process (fast, inspectable) or as a child process (killable).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import pg from 'pg';
import { loadConfig, startCollector, type Collector, type CollectorOverrides } from '../../packages/collector/src/index.js';
import { startNatsServer, type NatsServerHandle } from './nats-server.js';
import { startPostgres, type PostgresFlavor, type PostgresHandle } from './postgres.js';

export const FLAVORS: readonly PostgresFlavor[] = ['postgres', 'timescaledb'];
export const COLLECTOR_CLI = fileURLToPath(new URL('../../packages/collector/dist/cli.js', import.meta.url));
export const AGENT_CLI = fileURLToPath(new URL('../../packages/agent/dist/cli.js', import.meta.url));

export interface Servers {
  nats: NatsServerHandle;
  pg: PostgresHandle;
  cleanup(): Promise<void>;
}

export async function startServers(flavor: PostgresFlavor, settings?: Record<string, string>): Promise<Servers> {
  const [nats, pgServer] = await Promise.all([startNatsServer(), startPostgres({ flavor, settings })]);
  return {
    nats,
    pg: pgServer,
    async cleanup() {
      await Promise.allSettled([nats.cleanup(), pgServer.cleanup()]);
    },
  };
}

export function collectorEnv(natsUrl: string, databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NATS_URL: natsUrl,
    DATABASE_URL: databaseUrl,
    PORT: '0',
    LOG_LEVEL: 'warn',
    NTA_RETENTION_DAYS: '0',
    NTA_CONSUMER: 'collector',
    ...extra,
  };
}

export interface InProcessCollector {
  collector: Collector;
  baseUrl: string;
  databaseUrl: string;
  get<T = unknown>(path: string): Promise<{ status: number; body: T }>;
  query<T extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export async function startInProcessCollector(
  servers: Servers,
  extraEnv: Record<string, string> = {},
  overrides: CollectorOverrides = { rollupIntervalMs: 200, rollupSettleMs: 0, ackWaitMs: 5_000 },
): Promise<InProcessCollector> {
  const databaseUrl = await servers.pg.createDatabase();
  const config = loadConfig(collectorEnv(servers.nats.url, databaseUrl, extraEnv));
  const collector = await startCollector(config, pino({ level: process.env.NTA_TEST_LOG ?? 'warn' }), overrides);
  const baseUrl = await collector.listen('127.0.0.1', 0);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  pool.on('error', () => {});
  return {
    collector,
    baseUrl,
    databaseUrl,
    async get(path) {
      const res = await fetch(`${baseUrl}${path}`);
      return { status: res.status, body: (await res.json()) as never };
    },
    async query(sql, params) {
      return (await pool.query(sql, params)).rows;
    },
    async close() {
      await collector.close();
      await pool.end();
    },
  };
}

/** Runs `nta-agent read FILE --nats URL` to completion. */
export async function agentRead(file: string, natsUrl: string, args: string[] = []): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [AGENT_CLI, 'read', file, '--nats', natsUrl, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stderr };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

export function spawnCollector(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [COLLECTOR_CLI], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}
