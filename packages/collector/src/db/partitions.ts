/**
 * Day partitions for plain PostgreSQL (TimescaleDB makes its chunks itself). A flow may
 * arrive for any day, a forensic import from years ago included, so partitions are made
 * on demand for the days a batch touches, remembered once known to exist.
 */
import type { PoolClient } from './pool.js';
import type { StorageInfo } from './migrations.js';

const DAY_MS = 86_400_000;
export type PartitionedTable = 'flows' | 'host_stats';

export function dayStartMs(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

function partitionName(table: PartitionedTable, dayMs: number): string {
  return `${table}_p${new Date(dayMs).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

export class PartitionManager {
  private readonly known = new Set<string>();

  constructor(private readonly storage: StorageInfo) {}

  /** Makes sure `table` has a partition for every day in `dayStarts`. Runs inside the caller's transaction. */
  async ensure(client: PoolClient, table: PartitionedTable, dayStarts: Iterable<number>): Promise<void> {
    if (this.storage.flavor !== 'postgres') return;
    for (const day of dayStarts) {
      const name = partitionName(table, day);
      if (this.known.has(name)) continue;
      // Names and bounds come from integers computed here, never from a request.
      const from = new Date(day).toISOString();
      const to = new Date(day + DAY_MS).toISOString();
      await client.query(`CREATE TABLE IF NOT EXISTS ${name} PARTITION OF ${table} FOR VALUES FROM ('${from}') TO ('${to}')`);
      this.known.add(name);
    }
  }

  /** Forget every known partition: another collector's retention may have dropped some. */
  forgetAll(): void {
    this.known.clear();
  }

  /** Forget a partition (after retention dropped it) so a late flow for that day recreates it. */
  forget(name: string): void {
    this.known.delete(name);
  }
}

/** Day partitions of `table` whose whole range ends before `beforeMs`, oldest first. */
export async function listExpiredPartitions(client: PoolClient, table: PartitionedTable, beforeMs: number): Promise<string[]> {
  const r = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = $1::regclass ORDER BY c.relname`,
    [table],
  );
  const cutoff = partitionName(table, dayStartMs(beforeMs) - DAY_MS);
  return r.rows.map((row) => row.name).filter((name) => /_p\d{8}$/.test(name) && name <= cutoff);
}
