/**
 * Retention: raw flows and host statistics older than the horizon go, a whole day
 * partition (PostgreSQL) or chunk (TimescaleDB, drop_chunks) at a time, never row by row.
 * Rollups are kept longer (ROLLUP_RETENTION_DAYS) so long-range charts outlive raw data.
 */
import type { StorageInfo } from './migrations.js';
import { listExpiredPartitions, type PartitionManager } from './partitions.js';
import type { Pool } from './pool.js';

const DAY_MS = 86_400_000;
export const ROLLUP_RETENTION_DAYS = 400;

export async function applyRetention(pool: Pool, storage: StorageInfo, partitions: PartitionManager, retentionDays: number, nowMs: number): Promise<string[]> {
  // Expired reputation verdicts are dead weight whatever the flow retention.
  await pool.query(`DELETE FROM intel_cache WHERE expires_at < now()`);
  if (retentionDays <= 0) return [];
  const cutoffMs = nowMs - retentionDays * DAY_MS;
  const dropped: string[] = [];
  const client = await pool.connect();
  try {
    for (const table of ['flows', 'host_stats'] as const) {
      if (storage.flavor === 'timescaledb') {
        const r = await client.query<{ chunk: string }>(`SELECT drop_chunks($1::regclass, older_than => $2::timestamptz)::text AS chunk`, [
          table,
          new Date(cutoffMs).toISOString(),
        ]);
        dropped.push(...r.rows.map((row) => row.chunk));
      } else {
        for (const name of await listExpiredPartitions(client, table, cutoffMs)) {
          await client.query(`DROP TABLE IF EXISTS ${name}`);
          partitions.forget(name);
          dropped.push(name);
        }
      }
    }
    const rollupCutoff = new Date(nowMs - Math.max(retentionDays, ROLLUP_RETENTION_DAYS) * DAY_MS).toISOString();
    for (const table of ['rollup_pair_1h', 'rollup_talker_1h', 'rollup_proto_1h', 'rollup_host_1m']) await client.query(`DELETE FROM ${table} WHERE bucket < $1`, [rollupCutoff]);
    await client.query(`DELETE FROM rollup_dirty WHERE bucket < $1`, [new Date(cutoffMs - DAY_MS).toISOString()]);
    return dropped;
  } finally {
    client.release();
  }
}
