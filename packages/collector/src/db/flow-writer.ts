/**
 * Writes one ingest unit (the flows of several messages plus the alerts they raised) in a
 * single transaction, so the caller may acknowledge those messages once it returns.
 *
 * Fast path: binary COPY straight into flows. A redelivered message makes COPY fail on the
 * unique flow identity; then the unit is retried through a staging table with
 * INSERT … ON CONFLICT DO NOTHING, which is slower but only runs after a crash or a
 * redelivery. Either way a flow is stored exactly once.
 */
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pgCopy from 'pg-copy-streams';
import type { AlertCandidate, StoredFlow } from '../types.js';
import { BinaryCopyEncoder } from './binary-copy.js';
import { FLOW_COLUMN_NAMES, encodeFlowRow } from './flow-rows.js';
import { dayStartMs, type PartitionManager } from './partitions.js';
import type { Pool, PoolClient } from './pool.js';
import { upsertAlerts } from './alerts-repo.js';

const HOUR_MS = 3_600_000;
export const NO_PARTITION_FOR_ROW = '23514';
const COLUMN_LIST = FLOW_COLUMN_NAMES.join(', ');

export interface WriteResult {
  /** Flows newly stored (redelivered ones excluded), per agent. */
  insertedByAgent: Map<string, number>;
  /** True when the fast path met existing flows and the unit went through staging. */
  deduplicated: boolean;
  /** Alert ids created or updated, in the order of the candidates. */
  alertIds: number[];
}

export class FlowWriter {
  constructor(
    private readonly pool: Pool,
    private readonly partitions: PartitionManager,
    private readonly alertDedupMs: number,
  ) {}

  async write(flows: readonly StoredFlow[], alerts: readonly AlertCandidate[]): Promise<WriteResult> {
    const payload = encodeFlows(flows);
    const client = await this.pool.connect();
    let broken = false;
    try {
      await this.partitions.ensure(client, 'flows', daysOf(flows));
      try {
        return await this.inTransaction(client, flows, alerts, (c) => copyInto(c, 'flows', payload).then(() => countByAgent(flows)), false);
      } catch (err) {
        if ((err as { code?: string }).code !== '23505') throw err;
        return await this.inTransaction(client, flows, alerts, (c) => insertThroughStaging(c, payload), true);
      }
    } catch (err) {
      broken = isConnectionError(err);
      // No partition for a row: one we believed in was dropped (another collector's
      // retention); the next attempt makes it again.
      if ((err as { code?: string }).code === NO_PARTITION_FOR_ROW) this.partitions.forgetAll();
      throw err;
    } finally {
      client.release(broken);
    }
  }

  private async inTransaction(
    client: PoolClient,
    flows: readonly StoredFlow[],
    alerts: readonly AlertCandidate[],
    store: (c: PoolClient) => Promise<Map<string, number>>,
    deduplicated: boolean,
  ): Promise<WriteResult> {
    await client.query('BEGIN');
    try {
      const insertedByAgent = await store(client);
      await markRollupsDirty(client, flows);
      const alertIds = alerts.length > 0 ? await upsertAlerts(client, alerts, this.alertDedupMs) : [];
      await client.query('COMMIT');
      return { insertedByAgent, deduplicated, alertIds };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
  }
}

function encodeFlows(flows: readonly StoredFlow[]): Buffer {
  const enc = new BinaryCopyEncoder(flows.length * 260 + 64);
  for (const f of flows) encodeFlowRow(enc, f);
  return enc.finish();
}

function daysOf(flows: readonly StoredFlow[]): Set<number> {
  const days = new Set<number>();
  for (const f of flows) days.add(dayStartMs(f.firstSeenMs));
  return days;
}

async function copyInto(client: PoolClient, table: string, payload: Buffer): Promise<void> {
  const stream = client.query(pgCopy.from(`COPY ${table} (${COLUMN_LIST}) FROM STDIN (FORMAT binary)`));
  await pipeline(Readable.from([payload]), stream);
}

async function insertThroughStaging(client: PoolClient, payload: Buffer): Promise<Map<string, number>> {
  await client.query(`CREATE TEMP TABLE IF NOT EXISTS flows_staging (LIKE flows INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`);
  await copyInto(client, 'flows_staging', payload);
  const r = await client.query<{ agent_id: string; n: string }>(
    `WITH stored AS (INSERT INTO flows (${COLUMN_LIST}) SELECT ${COLUMN_LIST} FROM flows_staging ON CONFLICT DO NOTHING RETURNING agent_id)
     SELECT agent_id, count(*) AS n FROM stored GROUP BY agent_id`,
  );
  return new Map(r.rows.map((row) => [row.agent_id, Number(row.n)]));
}

function countByAgent(flows: readonly StoredFlow[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const f of flows) counts.set(f.agentId, (counts.get(f.agentId) ?? 0) + 1);
  return counts;
}

/**
 * Marks the (hour, agent) rollup buckets these flows fall in as behind the raw data, and
 * bumps each mark's sequence so a refresh that started before this write keeps the mark
 * (see rollups.ts). Marks are written in a fixed order so concurrent writers cannot deadlock.
 */
async function markRollupsDirty(client: PoolClient, flows: readonly StoredFlow[]): Promise<void> {
  const keys = new Set<string>();
  for (const f of flows) keys.add(`${Math.floor(f.firstSeenMs / HOUR_MS) * HOUR_MS}|${f.agentId}`);
  const sorted = [...keys].sort();
  const buckets = sorted.map((k) => new Date(Number(k.slice(0, k.indexOf('|')))).toISOString());
  const agents = sorted.map((k) => k.slice(k.indexOf('|') + 1));
  await client.query(
    `INSERT INTO rollup_dirty (bucket, agent_id)
       SELECT * FROM unnest($1::timestamptz[], $2::text[]) ORDER BY 1, 2
     ON CONFLICT (bucket, agent_id) DO UPDATE SET touched_at = now(), seq = nextval('rollup_dirty_seq')`,
    [buckets, agents],
  );
}

const CONNECTION_ERROR_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', '57P01', '57P02', '57P03', '08006', '08003', '08001']);

export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return (e.code !== undefined && CONNECTION_ERROR_CODES.has(e.code)) || /Connection terminated|not queryable|ended/i.test(e.message ?? '');
}
