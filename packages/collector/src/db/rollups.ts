/**
 * Rollups the collector maintains itself, the same way on PostgreSQL and on both
 * TimescaleDB editions, so statistics are exact whatever the refresh lag:
 *
 * - Every ingest transaction upserts a mark in rollup_dirty for each (hour, agent) it
 *   wrote into, giving the mark a new seq from a sequence (flow-writer.ts).
 * - The refresher reads a settled mark and its seq, recomputes that bucket's rollup rows
 *   from the raw flows, and deletes the mark only if its seq is unchanged, in one
 *   transaction. A write that committed meanwhile changed the seq (or, still running, holds
 *   the mark's row lock until it commits and then has), so the mark stays and the bucket
 *   is recomputed later: rows the refresher might not have seen are never left unmarked.
 *   Writers never wait for a refresh; refreshes of one bucket are serialised by an
 *   advisory lock, so several collectors can share a database.
 * - The refresh that clears the last mark of an hour also recomputes that hour's
 *   fleet-wide talker rows from the (then all clean) per-agent pair rollup. It checks for
 *   remaining marks under a per-hour advisory lock held to commit, so of two refreshers
 *   clearing an hour's last two marks at once, the second sees the first's delete. A mark
 *   written later makes the hour dirty again, and its talker rows unused until recomputed.
 * - Queries (stats-queries.ts) read clean buckets from the rollups and dirty buckets and
 *   partial-hour edges from the raw flows, in one statement, hence one snapshot.
 */
import type { Pool, PoolClient } from './pool.js';

interface Mark {
  bucket: Date;
  agent_id: string;
  seq: string;
}

export interface RollupRefresherOptions {
  /** Marks touched more recently than this are left alone: a busy hour is not recomputed on every batch. */
  settleMs: number;
  intervalMs: number;
  /** Rollup rows older than this many days are deleted (0 keeps them). */
  retentionDays: number;
  onError(err: unknown): void;
}

export class RollupRefresher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  refreshed = 0;

  constructor(
    private readonly pool: Pool,
    private readonly opts: RollupRefresherOptions,
  ) {}

  start(): void {
    this.stopped = false;
    const tick = (): void => {
      this.running = this.refreshAll()
        .then(() => undefined)
        .catch((err) => this.opts.onError(err))
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.timer = setTimeout(tick, this.opts.intervalMs).unref();
        });
    };
    this.timer = setTimeout(tick, this.opts.intervalMs).unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Refreshes every mark now, after any refresh the timer has running (which would hold a mark). */
  async refreshNow(): Promise<number> {
    await this.running;
    return this.refreshAll(0);
  }

  /** Refreshes every settled mark; returns how many buckets were recomputed. */
  async refreshAll(settleMs = this.opts.settleMs): Promise<number> {
    let n = 0;
    while (!this.stopped) {
      const marks = await this.pool.query<Mark>(
        `SELECT bucket, agent_id, seq FROM rollup_dirty WHERE touched_at <= now() - make_interval(secs => $1)
          ORDER BY bucket, agent_id LIMIT 500`,
        [settleMs / 1000],
      );
      let cleared = 0;
      for (const mark of marks.rows) {
        if (this.stopped) break;
        const outcome = await this.refreshOne(mark);
        if (outcome !== 'busy') n++;
        if (outcome === 'cleared') cleared++;
      }
      // Marks rewritten while we worked wait for the next round rather than spinning now.
      if (marks.rows.length < 500 || cleared === 0) break;
    }
    return n;
  }

  /** Recomputes one bucket; 'kept' when a write raised the mark's seq meanwhile, 'busy' when another refresher has it. */
  private async refreshOne(mark: Mark): Promise<'cleared' | 'kept' | 'busy'> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const p = [mark.bucket, mark.agent_id];
      const locked = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtext('nta-rollup'), hashtext(extract(epoch FROM $1::timestamptz)::bigint::text || $2)) AS ok`, p);
      if (!locked.rows[0]!.ok) {
        await client.query('COMMIT');
        return 'busy';
      }
      const inBucket = `agent_id = $2 AND first_seen >= $1 AND first_seen < $1 + interval '1 hour'`;
      await client.query(`DELETE FROM rollup_pair_1h WHERE bucket = $1 AND agent_id = $2`, p);
      await client.query(`DELETE FROM rollup_proto_1h WHERE bucket = $1 AND agent_id = $2`, p);
      await client.query(`DELETE FROM rollup_host_1m WHERE agent_id = $2 AND bucket >= $1 AND bucket < $1 + interval '1 hour'`, p);
      await client.query(
        `INSERT INTO rollup_pair_1h (bucket, agent_id, src, dst, src_country, dst_country, flows, packets, bytes, threat_flows)
         SELECT $1, $2, src, dst, src_country, dst_country, count(*), sum(packets), sum(bytes), count(threat)
           FROM flows WHERE ${inBucket} GROUP BY src, dst, src_country, dst_country`,
        p,
      );
      await client.query(
        `INSERT INTO rollup_proto_1h (bucket, agent_id, proto, flows, packets, bytes)
         SELECT $1, $2, proto, count(*), sum(packets), sum(bytes) FROM flows WHERE ${inBucket} GROUP BY proto`,
        p,
      );
      await client.query(
        `INSERT INTO rollup_host_1m (bucket, agent_id, flows, packets, bytes)
         SELECT date_trunc('minute', first_seen), $2, count(*), sum(packets), sum(bytes) FROM flows WHERE ${inBucket} GROUP BY 1`,
        p,
      );
      const cleared = await client.query(`DELETE FROM rollup_dirty WHERE bucket = $1 AND agent_id = $2 AND seq = $3`, [...p, mark.seq]);
      if ((cleared.rowCount ?? 0) > 0) await refreshFleetTalkers(client, mark.bucket);
      await client.query('COMMIT');
      this.refreshed++;
      return (cleared.rowCount ?? 0) > 0 ? 'cleared' : 'kept';
    } catch (err) {
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /** Marks waiting for a refresh (a metric: a growing number means the refresher lags). */
  async pending(): Promise<number> {
    const r = await this.pool.query<{ n: string }>('SELECT count(*) AS n FROM rollup_dirty');
    return Number(r.rows[0]?.n ?? 0);
  }
}

/** Role of an address in rollup_talker_1h. */
export const TalkerRole = { src: 0, dst: 1 } as const;

async function refreshFleetTalkers(client: PoolClient, bucket: Date): Promise<void> {
  await client.query(`SELECT pg_advisory_xact_lock(hashtext('nta-rollup-hour'), hashtext(extract(epoch FROM $1::timestamptz)::bigint::text))`, [bucket]);
  const remaining = await client.query(`SELECT 1 FROM rollup_dirty WHERE bucket = $1 LIMIT 1`, [bucket]);
  if (remaining.rows.length > 0) return;
  await client.query(`DELETE FROM rollup_talker_1h WHERE bucket = $1`, [bucket]);
  await client.query(
    `INSERT INTO rollup_talker_1h (bucket, role, addr, flows, packets, bytes)
     SELECT $1, ${TalkerRole.src}, src, sum(flows), sum(packets), sum(bytes) FROM rollup_pair_1h WHERE bucket = $1 GROUP BY src
     UNION ALL
     SELECT $1, ${TalkerRole.dst}, dst, sum(flows), sum(packets), sum(bytes) FROM rollup_pair_1h WHERE bucket = $1 GROUP BY dst`,
    [bucket],
  );
}
