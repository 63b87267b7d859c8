/** Alerts: stored deduplicated by (kind, agent, subject, dedup window), listed, acknowledged. */
import type { AlertCandidate } from '../types.js';
import { Level } from '../types.js';
import type { Pool, PoolClient } from './pool.js';
import { toNumber } from './pool.js';
import type { ApiAlert } from '@nta/shared/api';

export function alertDedupKey(a: AlertCandidate, dedupMs: number): string {
  return `${a.kind}|${a.agentId}|${a.subject}|${Math.floor(a.firstSeenMs / dedupMs)}`;
}

/** Inserts or merges each alert (a repeat raises the count, widens the time span, keeps the worst level). */
export async function upsertAlerts(client: PoolClient, alerts: readonly AlertCandidate[], dedupMs: number): Promise<number[]> {
  const ids: number[] = [];
  for (const a of alerts) {
    const r = await client.query<{ alert_id: string }>(
      `INSERT INTO alerts (dedup_key, kind, level, agent_id, hostname, subject, target, detector, summary, evidence,
                           first_seen, last_seen, flow_ids)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, to_timestamp($11 / 1000.0), to_timestamp($12 / 1000.0), $13::uuid[])
       ON CONFLICT (dedup_key) DO UPDATE SET
         level = greatest(alerts.level, EXCLUDED.level),
         first_seen = least(alerts.first_seen, EXCLUDED.first_seen),
         last_seen = greatest(alerts.last_seen, EXCLUDED.last_seen),
         occurrences = alerts.occurrences + 1,
         summary = EXCLUDED.summary,
         evidence = EXCLUDED.evidence,
         detector = EXCLUDED.detector,
         flow_ids = (SELECT coalesce(array_agg(DISTINCT id), '{}') FROM (SELECT unnest(alerts.flow_ids || EXCLUDED.flow_ids) AS id LIMIT 50) ids),
         updated_at = now()
       RETURNING alert_id`,
      [
        alertDedupKey(a, dedupMs),
        a.kind,
        Level[a.level],
        a.agentId,
        a.hostname,
        a.subject,
        a.target ?? null,
        a.detector,
        a.summary,
        JSON.stringify(a.evidence),
        a.firstSeenMs,
        a.lastSeenMs,
        a.flowIds.slice(0, 20),
      ],
    );
    ids.push(toNumber(r.rows[0]!.alert_id));
  }
  return ids;
}

export type AlertRow = ApiAlert;

const LEVEL_NAMES = ['normal', 'suspicious', 'malicious'] as const;

const SELECT_ALERT = `SELECT alert_id, kind, level, agent_id, hostname, subject, target, detector, summary, evidence,
  first_seen, last_seen, occurrences, flow_ids, acknowledged_at, acknowledged_by FROM alerts`;

function toAlert(r: Record<string, unknown>): AlertRow {
  return {
    id: toNumber(r.alert_id),
    kind: r.kind as string,
    level: LEVEL_NAMES[r.level as number] ?? 'normal',
    agentId: r.agent_id as string,
    hostname: r.hostname as string,
    subject: r.subject as string,
    target: (r.target as string | null) ?? null,
    detector: r.detector as string,
    summary: r.summary as string,
    evidence: r.evidence as Record<string, unknown>,
    firstSeen: (r.first_seen as Date).toISOString(),
    lastSeen: (r.last_seen as Date).toISOString(),
    occurrences: r.occurrences as number,
    flowIds: r.flow_ids as string[],
    acknowledgedAt: r.acknowledged_at ? (r.acknowledged_at as Date).toISOString() : null,
    acknowledgedBy: (r.acknowledged_by as string | null) ?? null,
  };
}

export interface AlertQuery {
  fromMs: number;
  toMs: number;
  minLevel?: number;
  levels?: number[];
  kind?: string;
  agentIds?: string[];
  acknowledged?: boolean;
  limit: number;
}

/** Alerts whose activity overlaps [from, to), newest activity first. */
export async function listAlerts(pool: Pool, q: AlertQuery): Promise<AlertRow[]> {
  const params: unknown[] = [new Date(q.fromMs).toISOString(), new Date(q.toMs).toISOString()];
  const where = ['last_seen >= $1', 'first_seen < $2'];
  if (q.levels) where.push(`level = ANY($${params.push(q.levels)})`);
  if (q.minLevel !== undefined) where.push(`level >= $${params.push(q.minLevel)}`);
  if (q.kind) where.push(`kind = $${params.push(q.kind)}`);
  if (q.agentIds) where.push(`agent_id = ANY($${params.push(q.agentIds)})`);
  if (q.acknowledged !== undefined) where.push(q.acknowledged ? 'acknowledged_at IS NOT NULL' : 'acknowledged_at IS NULL');
  const r = await pool.query(`${SELECT_ALERT} WHERE ${where.join(' AND ')} ORDER BY last_seen DESC, alert_id DESC LIMIT $${params.push(q.limit)}`, params);
  return r.rows.map(toAlert);
}

export async function getAlerts(pool: Pool, ids: readonly number[]): Promise<AlertRow[]> {
  if (ids.length === 0) return [];
  const r = await pool.query(`${SELECT_ALERT} WHERE alert_id = ANY($1::bigint[])`, [ids]);
  return r.rows.map(toAlert);
}

export async function acknowledgeAlert(pool: Pool, id: number, by: string | null, acknowledged: boolean): Promise<AlertRow | null> {
  const r = await pool.query(
    `UPDATE alerts SET acknowledged_at = CASE WHEN $2 THEN coalesce(acknowledged_at, now()) END,
       acknowledged_by = CASE WHEN $2 THEN $3 END, updated_at = now()
     WHERE alert_id = $1 RETURNING alert_id`,
    [id, acknowledged, by],
  );
  if (r.rowCount === 0) return null;
  return (await getAlerts(pool, [id]))[0] ?? null;
}

/** Alerts per level in the range, for the same host, kind and acknowledgement filters as the list. */
export async function alertCountsByLevel(pool: Pool, fromMs: number, toMs: number, agentIds?: string[], filters: { kind?: string; acknowledged?: boolean } = {}): Promise<Record<string, number>> {
  const params: unknown[] = [new Date(fromMs).toISOString(), new Date(toMs).toISOString()];
  let where = agentIds ? ` AND agent_id = ANY($${params.push(agentIds)})` : '';
  if (filters.kind !== undefined) where += ` AND kind = $${params.push(filters.kind)}`;
  if (filters.acknowledged !== undefined) where += filters.acknowledged ? ' AND acknowledged_at IS NOT NULL' : ' AND acknowledged_at IS NULL';
  const r = await pool.query<{ level: number; n: string }>(
    `SELECT level, count(*) AS n FROM alerts WHERE last_seen >= $1 AND first_seen < $2${where} GROUP BY level`,
    params,
  );
  const out: Record<string, number> = { suspicious: 0, malicious: 0 };
  for (const row of r.rows) out[LEVEL_NAMES[row.level] ?? 'normal'] = toNumber(row.n);
  return out;
}
