/**
 * Statistics over a time range, exact whatever the rollup lag: each query unions clean
 * rollup buckets, raw flows of dirty buckets and raw flows of the partial-hour edges of the
 * range, in one statement (see rollups.ts). Every value travels as a parameter.
 */
import type { Pool } from './pool.js';
import { toNumber } from './pool.js';
import { TalkerRole } from './rollups.js';

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

export interface StatsRange {
  fromMs: number;
  toMs: number;
  /** Restrict to these agents; undefined means the whole fleet. */
  agentIds?: string[];
}

interface Aligned {
  params: unknown[];
  /** SQL of the agent restriction for a column, or '' when none. */
  agent(column: string): string;
}

/** $1 from, $2 to, $3 first whole bucket, $4 end of the last whole bucket, [$5 agents]. */
function align(range: StatsRange, bucketMs: number): Aligned {
  let whole0 = Math.ceil(range.fromMs / bucketMs) * bucketMs;
  let whole1 = Math.floor(range.toMs / bucketMs) * bucketMs;
  if (whole0 >= whole1) whole0 = whole1 = range.toMs;
  const params: unknown[] = [range.fromMs, range.toMs, whole0, whole1].map((ms) => new Date(ms).toISOString());
  if (range.agentIds) params.push(range.agentIds);
  return { params, agent: (column) => (range.agentIds ? ` AND ${column} = ANY($5::text[])` : '') };
}

/**
 * The rows of one rollup table over the range, as a CTE named `parts` whose columns are
 * `rollupColumns`; `rawColumns` computes the same columns from a flows row `f`.
 */
function partsCte(a: Aligned, table: string, rollupColumns: string, rawColumns: string, dirtyOf: string): string {
  return `dirty AS (
      SELECT bucket, agent_id FROM rollup_dirty WHERE bucket >= date_trunc('hour', $3::timestamptz) AND bucket < $4${a.agent('agent_id')}
    ), parts AS (
      SELECT ${rollupColumns} FROM ${table} r
       WHERE r.bucket >= $3 AND r.bucket < $4${a.agent('r.agent_id')}
         AND NOT EXISTS (SELECT 1 FROM dirty d WHERE d.bucket = ${dirtyOf} AND d.agent_id = r.agent_id)
      UNION ALL
      SELECT ${rawColumns} FROM dirty d JOIN flows f ON f.agent_id = d.agent_id
         AND f.first_seen >= greatest(d.bucket, $3) AND f.first_seen < least(d.bucket + interval '1 hour', $4)
      UNION ALL
      SELECT ${rawColumns} FROM flows f
       WHERE ((f.first_seen >= $1 AND f.first_seen < $3) OR (f.first_seen >= $4 AND f.first_seen < $2))${a.agent('f.agent_id')}
    )`;
}

/** Request values become SQL identifiers only through these fixed maps. */
const METRIC_COLUMN = { bytes: 'bytes', packets: 'packets', flows: 'flows' } as const;
const END_COLUMN = { src: 'src', dst: 'dst' } as const;

const PAIR_ROLLUP = 'r.src, r.dst, r.src_country, r.dst_country, r.flows, r.packets, r.bytes, r.threat_flows';
const PAIR_RAW = 'f.src, f.dst, f.src_country, f.dst_country, 1::bigint, f.packets, f.bytes, (f.threat IS NOT NULL)::int::bigint';

export interface Talker {
  src?: string;
  dst?: string;
  addr?: string;
  flows: number;
  packets: number;
  bytes: number;
}

export async function topTalkers(
  pool: Pool,
  range: StatsRange,
  by: 'src' | 'dst' | 'pair',
  metric: 'bytes' | 'packets' | 'flows',
  limit: number,
): Promise<Talker[]> {
  if (by !== 'pair' && !range.agentIds) return fleetTopTalkers(pool, range, by, metric, limit);
  const a = align(range, HOUR_MS);
  const keys = by === 'pair' ? 'host(src) AS src, host(dst) AS dst' : `host(${END_COLUMN[by]}) AS addr`;
  const group = by === 'pair' ? 'src, dst' : END_COLUMN[by];
  const sql = `WITH ${partsCte(a, 'rollup_pair_1h', PAIR_ROLLUP, PAIR_RAW, 'r.bucket')}
    SELECT ${keys}, sum(flows) AS flows, sum(packets) AS packets, sum(bytes) AS bytes
      FROM parts GROUP BY ${group} ORDER BY sum(${METRIC_COLUMN[metric]}) DESC, ${group} LIMIT $${a.params.push(limit)}`;
  const r = await pool.query(sql, a.params);
  return r.rows.map((row) => ({
    ...(by === 'pair' ? { src: row.src, dst: row.dst } : { addr: row.addr }),
    flows: toNumber(row.flows),
    packets: toNumber(row.packets),
    bytes: toNumber(row.bytes),
  }));
}

/**
 * Fleet-wide top sources or destinations: clean hours from the per-address fleet rollup;
 * hours with dirty marks from the per-agent pair rollup of their clean agents plus raw flows
 * of their dirty agents; partial-hour edges from raw flows (see rollups.ts).
 */
async function fleetTopTalkers(pool: Pool, range: StatsRange, by: 'src' | 'dst', metric: 'bytes' | 'packets' | 'flows', limit: number): Promise<Talker[]> {
  const a = align(range, HOUR_MS);
  const role = a.params.push(TalkerRole[by]);
  const end = END_COLUMN[by];
  const sql = `WITH dirty AS (
      SELECT bucket, agent_id FROM rollup_dirty WHERE bucket >= $3 AND bucket < $4
    ), parts AS (
      SELECT t.addr, t.flows, t.packets, t.bytes FROM rollup_talker_1h t
       WHERE t.role = $${role} AND t.bucket >= $3 AND t.bucket < $4 AND NOT EXISTS (SELECT 1 FROM dirty d WHERE d.bucket = t.bucket)
      UNION ALL
      SELECT r.${end}, r.flows, r.packets, r.bytes FROM rollup_pair_1h r
       WHERE r.bucket IN (SELECT bucket FROM dirty)
         AND NOT EXISTS (SELECT 1 FROM dirty d WHERE d.bucket = r.bucket AND d.agent_id = r.agent_id)
      UNION ALL
      SELECT f.${end}, 1::bigint, f.packets, f.bytes FROM dirty d JOIN flows f ON f.agent_id = d.agent_id
         AND f.first_seen >= d.bucket AND f.first_seen < d.bucket + interval '1 hour'
      UNION ALL
      SELECT f.${end}, 1::bigint, f.packets, f.bytes FROM flows f
       WHERE (f.first_seen >= $1 AND f.first_seen < $3) OR (f.first_seen >= $4 AND f.first_seen < $2)
    )
    SELECT host(addr) AS addr, sum(flows) AS flows, sum(packets) AS packets, sum(bytes) AS bytes
      FROM parts GROUP BY parts.addr ORDER BY sum(${METRIC_COLUMN[metric]}) DESC, parts.addr LIMIT $${a.params.push(limit)}`;
  const r = await pool.query(sql, a.params);
  return r.rows.map((row) => ({ addr: row.addr, flows: toNumber(row.flows), packets: toNumber(row.packets), bytes: toNumber(row.bytes) }));
}

export interface ProtocolStat {
  proto: string;
  flows: number;
  packets: number;
  bytes: number;
}

export async function protocolStats(pool: Pool, range: StatsRange): Promise<ProtocolStat[]> {
  const a = align(range, HOUR_MS);
  const sql = `WITH ${partsCte(a, 'rollup_proto_1h', 'r.proto, r.flows, r.packets, r.bytes', 'f.proto, 1::bigint, f.packets, f.bytes', 'r.bucket')}
    SELECT proto, sum(flows) AS flows, sum(packets) AS packets, sum(bytes) AS bytes FROM parts GROUP BY proto ORDER BY sum(bytes) DESC, proto`;
  const r = await pool.query(sql, a.params);
  return r.rows.map((row) => ({ proto: row.proto, flows: toNumber(row.flows), packets: toNumber(row.packets), bytes: toNumber(row.bytes) }));
}

export interface CountryStat {
  /** ISO code, a scope label such as `private`, or null when GeoIP did not know the address. */
  country: string | null;
  flows: number;
  packets: number;
  bytes: number;
  addresses: number;
  threatFlows: number;
}

/** A flow counts once for each country it touches (once when both ends share one). */
export async function geoStats(pool: Pool, range: StatsRange): Promise<CountryStat[]> {
  const a = align(range, HOUR_MS);
  const sql = `WITH ${partsCte(a, 'rollup_pair_1h', PAIR_ROLLUP, PAIR_RAW, 'r.bucket')},
    ends AS (
      SELECT src_country AS country, src AS addr, flows, packets, bytes, threat_flows, true AS counted FROM parts
      UNION ALL
      SELECT dst_country, dst, flows, packets, bytes, threat_flows, dst_country IS DISTINCT FROM src_country FROM parts
    )
    SELECT country, coalesce(sum(flows) FILTER (WHERE counted), 0) AS flows, coalesce(sum(packets) FILTER (WHERE counted), 0) AS packets,
           coalesce(sum(bytes) FILTER (WHERE counted), 0) AS bytes, count(DISTINCT addr) AS addresses,
           coalesce(sum(threat_flows) FILTER (WHERE counted), 0) AS threat_flows
      FROM ends GROUP BY country ORDER BY sum(bytes) FILTER (WHERE counted) DESC NULLS LAST, country`;
  const r = await pool.query(sql, a.params);
  return r.rows.map((row) => ({
    country: row.country,
    flows: toNumber(row.flows),
    packets: toNumber(row.packets),
    bytes: toNumber(row.bytes),
    addresses: toNumber(row.addresses),
    threatFlows: toNumber(row.threat_flows),
  }));
}

export interface TimelinePoint {
  t: string;
  flows: number;
  packets: number;
  bytes: number;
}

/**
 * Flows, packets and bytes per step, each flow counted in the step where it started.
 * Steps that are whole minutes read the minute rollup; finer steps read raw flows.
 */
export async function timeline(pool: Pool, range: StatsRange, stepMs: number, withTimescale = false): Promise<TimelinePoint[]> {
  const useRollup = stepMs % MINUTE_MS === 0;
  const a = align(range, useRollup ? MINUTE_MS : range.toMs - range.fromMs + 1);
  const stepParam = a.params.push(stepMs / 1000);
  // Both bin from the Unix epoch, so the two flavours answer with the same steps.
  const bin = withTimescale
    ? (col: string): string => `time_bucket(make_interval(secs => $${stepParam}::float8), ${col}, timestamptz 'epoch')`
    : (col: string): string => `to_timestamp(floor(extract(epoch FROM ${col}) / $${stepParam}) * $${stepParam})`;
  const sql = `WITH ${partsCte(
    a,
    'rollup_host_1m',
    `${bin('r.bucket')} AS t, r.flows, r.packets, r.bytes`,
    `${bin('f.first_seen')} AS t, 1::bigint, f.packets, f.bytes`,
    `date_trunc('hour', r.bucket)`,
  )}
    SELECT t, sum(flows) AS flows, sum(packets) AS packets, sum(bytes) AS bytes FROM parts GROUP BY t ORDER BY t`;
  const r = await pool.query(sql, a.params);
  return r.rows.map((row) => ({ t: (row.t as Date).toISOString(), flows: toNumber(row.flows), packets: toNumber(row.packets), bytes: toNumber(row.bytes) }));
}

export interface LevelStat {
  level: 'normal' | 'suspicious' | 'malicious';
  flows: number;
  packets: number;
  bytes: number;
}

const LEVELS = ['normal', 'suspicious', 'malicious'] as const;

/**
 * Flows per score level in the range, straight from the flows table (the rollups do not keep
 * levels): cheap for the hours a console shows, a scan of the range's partitions for weeks.
 */
export async function levelStats(pool: Pool, range: StatsRange): Promise<LevelStat[]> {
  const params: unknown[] = [new Date(range.fromMs).toISOString(), new Date(range.toMs).toISOString()];
  const agents = range.agentIds ? ` AND agent_id = ANY($${params.push(range.agentIds)})` : '';
  const r = await pool.query<{ level: number; flows: string; packets: string; bytes: string }>(
    `SELECT level, count(*) AS flows, sum(packets) AS packets, sum(bytes) AS bytes FROM flows
      WHERE first_seen >= $1 AND first_seen < $2${agents} GROUP BY level`,
    params,
  );
  const out = LEVELS.map((level) => ({ level, flows: 0, packets: 0, bytes: 0 }));
  for (const row of r.rows) {
    const slot = out[row.level];
    if (!slot) continue;
    slot.flows = toNumber(row.flows);
    slot.packets = toNumber(row.packets);
    slot.bytes = toNumber(row.bytes);
  }
  return out;
}
