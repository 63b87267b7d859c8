/**
 * Versioned schema migrations, run at start under an advisory lock so several collectors
 * starting together apply each exactly once. Each migration runs in its own transaction
 * and is recorded in schema_migrations; running them twice changes nothing.
 *
 * Storage flavours: with the TimescaleDB extension available, flows and host_stats are
 * hypertables (1-day chunks); without it they are natively range-partitioned by day and
 * the collector creates partitions as data arrives (partitions.ts). Rollups are ordinary
 * tables maintained by the collector in both flavours (rollups.ts).
 */
import type { Pool, PoolClient } from './pool.js';

export interface StorageInfo {
  flavor: 'timescaledb' | 'postgres';
  /** 'apache' or 'timescale' under TimescaleDB; null on plain PostgreSQL. */
  timescaleLicense: string | null;
  timescaleVersion: string | null;
  serverVersion: string;
}

interface Migration {
  version: number;
  name: string;
  sql(storage: StorageInfo): string[];
}

const FLOW_COLUMNS = `
  flow_id uuid NOT NULL,
  agent_id text NOT NULL,
  first_seen timestamptz NOT NULL,
  last_seen timestamptz NOT NULL,
  family smallint NOT NULL,
  ip_proto smallint NOT NULL,
  proto text NOT NULL,
  src inet NOT NULL,
  dst inet NOT NULL,
  sport integer NOT NULL,
  dport integer NOT NULL,
  vlan integer,
  packets_to_dst bigint NOT NULL,
  packets_to_src bigint NOT NULL,
  bytes_to_dst bigint NOT NULL,
  bytes_to_src bigint NOT NULL,
  packets bigint NOT NULL,
  bytes bigint NOT NULL,
  tcp_flags_to_dst smallint NOT NULL,
  tcp_flags_to_src smallint NOT NULL,
  end_reason text NOT NULL,
  dns_query text,
  dns_qtype integer,
  dns_rcode smallint,
  http_method text,
  http_host text,
  tls_sni text,
  tls_alpn text,
  duration_ms double precision NOT NULL,
  src_country text,
  dst_country text,
  src_asn integer,
  dst_asn integer,
  score real NOT NULL,
  level smallint NOT NULL,
  threat text`;

const HOST_STATS_COLUMNS = `
  agent_id text NOT NULL,
  ts timestamptz NOT NULL,
  packets bigint NOT NULL,
  bytes bigint NOT NULL,
  tcp_packets bigint NOT NULL, tcp_bytes bigint NOT NULL,
  udp_packets bigint NOT NULL, udp_bytes bigint NOT NULL,
  icmp_packets bigint NOT NULL, icmp_bytes bigint NOT NULL,
  other_packets bigint NOT NULL, other_bytes bigint NOT NULL,
  top_talkers jsonb NOT NULL`;

function timeTable(storage: StorageInfo, name: string, columns: string, timeColumn: string): string[] {
  if (storage.flavor === 'timescaledb') {
    return [
      `CREATE TABLE ${name} (${columns})`,
      `SELECT create_hypertable('${name}', '${timeColumn}', chunk_time_interval => interval '1 day', create_default_indexes => false)`,
    ];
  }
  return [`CREATE TABLE ${name} (${columns}) PARTITION BY RANGE (${timeColumn})`];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'flows, agents, host statistics, alerts, models, intel cache, rollups',
    sql: (s) => [
      ...(s.flavor === 'timescaledb' ? ['CREATE EXTENSION IF NOT EXISTS timescaledb'] : []),
      `CREATE TABLE agents (
        agent_id text PRIMARY KEY,
        hostname text NOT NULL,
        version text NOT NULL DEFAULT '',
        run_id text,
        mode text,
        started_at timestamptz,
        first_seen timestamptz NOT NULL DEFAULT now(),
        last_seen timestamptz NOT NULL,
        heartbeat_interval_ms integer NOT NULL DEFAULT 10000,
        interfaces jsonb NOT NULL DEFAULT '[]',
        rates jsonb NOT NULL DEFAULT '{}',
        totals jsonb NOT NULL DEFAULT '{}',
        capture jsonb NOT NULL DEFAULT '{}',
        flow_table jsonb NOT NULL DEFAULT '{}',
        spool jsonb NOT NULL DEFAULT '{}',
        skipped jsonb NOT NULL DEFAULT '{}'
      )`,
      `CREATE INDEX agents_hostname ON agents (hostname)`,
      ...timeTable(s, 'flows', FLOW_COLUMNS, 'first_seen'),
      // The agent's flow id makes a redelivery a no-op; the partition key must be part of it.
      // Time first: inserts append to the right edge of the index instead of landing at random
      // uuid positions (several times faster to load), and the same index serves newest-first
      // search. No per-address indexes: every search is bounded in time, and each would cost
      // ingest more than it saves (see the benchmark in the closing note).
      `CREATE UNIQUE INDEX flows_identity ON flows (first_seen DESC, flow_id DESC)`,
      `CREATE INDEX flows_agent_time ON flows (agent_id, first_seen DESC)`,
      ...timeTable(s, 'host_stats', HOST_STATS_COLUMNS, 'ts'),
      `CREATE UNIQUE INDEX host_stats_identity ON host_stats (agent_id, ts)`,
      `CREATE TABLE alerts (
        alert_id bigserial PRIMARY KEY,
        dedup_key text NOT NULL UNIQUE,
        kind text NOT NULL,
        level smallint NOT NULL,
        agent_id text NOT NULL,
        hostname text NOT NULL,
        subject text NOT NULL,
        target text,
        detector text NOT NULL,
        summary text NOT NULL,
        evidence jsonb NOT NULL,
        first_seen timestamptz NOT NULL,
        last_seen timestamptz NOT NULL,
        occurrences integer NOT NULL DEFAULT 1,
        flow_ids uuid[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        acknowledged_at timestamptz,
        acknowledged_by text
      )`,
      `CREATE INDEX alerts_last_seen ON alerts (last_seen DESC)`,
      `CREATE TABLE models (
        version integer PRIMARY KEY,
        trained_at timestamptz NOT NULL,
        training_rows integer NOT NULL,
        thresholds jsonb NOT NULL,
        model jsonb NOT NULL
      )`,
      `CREATE TABLE intel_cache (
        source text NOT NULL,
        ip inet NOT NULL,
        verdict jsonb NOT NULL,
        fetched_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (source, ip)
      )`,
      // (hour, agent) buckets whose rollups lag behind the raw flows; see rollups.ts. Mark
      // sequence numbers come from one sequence, so a re-created mark never reuses one.
      `CREATE SEQUENCE rollup_dirty_seq`,
      `CREATE TABLE rollup_dirty (
        bucket timestamptz NOT NULL,
        agent_id text NOT NULL,
        touched_at timestamptz NOT NULL DEFAULT now(),
        seq bigint NOT NULL DEFAULT nextval('rollup_dirty_seq'),
        PRIMARY KEY (bucket, agent_id)
      )`,
      `CREATE TABLE rollup_pair_1h (
        bucket timestamptz NOT NULL,
        agent_id text NOT NULL,
        src inet NOT NULL,
        dst inet NOT NULL,
        src_country text,
        dst_country text,
        flows bigint NOT NULL,
        packets bigint NOT NULL,
        bytes bigint NOT NULL,
        threat_flows bigint NOT NULL
      )`,
      `CREATE INDEX rollup_pair_1h_bucket ON rollup_pair_1h (bucket, agent_id)`,
      // Fleet-wide per-address totals of hours with no dirty mark left: top talkers without
      // a host filter read these instead of the (much larger) per-agent pair rollup.
      `CREATE TABLE rollup_talker_1h (
        bucket timestamptz NOT NULL,
        role smallint NOT NULL,
        addr inet NOT NULL,
        flows bigint NOT NULL,
        packets bigint NOT NULL,
        bytes bigint NOT NULL,
        PRIMARY KEY (bucket, role, addr)
      )`,
      `CREATE TABLE rollup_proto_1h (
        bucket timestamptz NOT NULL,
        agent_id text NOT NULL,
        proto text NOT NULL,
        flows bigint NOT NULL,
        packets bigint NOT NULL,
        bytes bigint NOT NULL,
        PRIMARY KEY (bucket, agent_id, proto)
      )`,
      `CREATE TABLE rollup_host_1m (
        bucket timestamptz NOT NULL,
        agent_id text NOT NULL,
        flows bigint NOT NULL,
        packets bigint NOT NULL,
        bytes bigint NOT NULL,
        PRIMARY KEY (bucket, agent_id)
      )`,
    ],
  },
];

/** What this server offers: TimescaleDB if the extension can be created here, and its licence. */
export async function detectStorage(client: PoolClient): Promise<StorageInfo> {
  const version = await client.query<{ server_version: string }>('SHOW server_version');
  const available = await client.query<{ default_version: string | null; installed_version: string | null }>(
    `SELECT default_version, installed_version FROM pg_available_extensions WHERE name = 'timescaledb'`,
  );
  const preloaded = await client.query<{ setting: string }>(`SELECT current_setting('shared_preload_libraries') AS setting`);
  const ts = available.rows[0];
  const usable = ts !== undefined && (ts.installed_version !== null || preloaded.rows[0]!.setting.includes('timescaledb'));
  if (!usable) return { flavor: 'postgres', timescaleLicense: null, timescaleVersion: null, serverVersion: version.rows[0]!.server_version };
  const license = await client.query<{ license: string | null }>(`SELECT current_setting('timescaledb.license', true) AS license`);
  return {
    flavor: 'timescaledb',
    timescaleLicense: license.rows[0]?.license ?? 'apache',
    timescaleVersion: ts.installed_version ?? ts.default_version,
    serverVersion: version.rows[0]!.server_version,
  };
}

const LOCK_KEY = 0x4e5441; // 'NTA'

/**
 * Applies every migration not yet recorded. The flavour chosen at the first migration is
 * remembered in schema_migrations so a database created as plain PostgreSQL stays so even
 * if TimescaleDB is installed later (its tables are not hypertables).
 */
export async function migrate(pool: Pool, log?: { info(obj: object, msg: string): void; warn?(obj: object, msg: string): void }): Promise<StorageInfo> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, flavor text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const applied = await client.query<{ version: number; flavor: string }>('SELECT version, flavor FROM schema_migrations ORDER BY version');
    let storage = await detectStorage(client);
    const firstFlavor = applied.rows[0]?.flavor;
    if (firstFlavor === 'postgres' && storage.flavor === 'timescaledb') storage = { ...storage, flavor: 'postgres', timescaleLicense: null };
    const done = new Set(applied.rows.map((r) => r.version));
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await client.query('BEGIN');
      try {
        for (const statement of m.sql(storage)) await client.query(statement);
        await client.query('INSERT INTO schema_migrations (version, name, flavor) VALUES ($1, $2, $3)', [m.version, m.name, storage.flavor]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, { cause: err });
      }
      log?.info({ version: m.version, flavor: storage.flavor }, `applied migration ${m.version}: ${m.name}`);
    }
    if (storage.flavor === 'timescaledb' && storage.timescaleLicense === 'timescale') {
      // Untested here (only the Apache edition runs on this machine): a failure costs
      // compression, not the service.
      await applyTimescalePolicies(client).catch((err: Error) =>
        log?.warn?.({ err }, 'TimescaleDB compression policy not applied'),
      );
    }
    return storage;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => {});
    client.release();
  }
}

/**
 * Under the Timescale licence, compression of chunks older than a day keeps raw flows
 * affordable. Retention stays with the collector's own job (retention.ts) in every
 * flavour, so the horizon is configured in one place.
 */
async function applyTimescalePolicies(client: PoolClient): Promise<void> {
  // The identity index's columns must be segment-by or order-by columns of compressed chunks.
  await client.query(
    `ALTER TABLE flows SET (timescaledb.compress, timescaledb.compress_segmentby = 'agent_id', timescaledb.compress_orderby = 'first_seen DESC, flow_id DESC')`,
  );
  await client.query(`SELECT add_compression_policy('flows', interval '1 day', if_not_exists => true)`);
}
