/** The agent registry, kept by heartbeats; "stale" is derived at read time from each agent's own interval. */
import type { Heartbeat, HostStatsBatch } from '@nta/shared';
import type { Pool } from './pool.js';
import { toNumber } from './pool.js';
import type { PartitionManager } from './partitions.js';
import { dayStartMs } from './partitions.js';
import type { ApiAgent } from '@nta/shared/api';

export async function upsertHeartbeat(pool: Pool, hb: Heartbeat): Promise<void> {
  // A heartbeat that arrives late (after a newer one) must not roll the registry back.
  await pool.query(
    `INSERT INTO agents (agent_id, hostname, version, run_id, mode, started_at, last_seen, heartbeat_interval_ms,
                         interfaces, rates, totals, capture, flow_table, spool, skipped)
     VALUES ($1, $2, $3, $4, $5, to_timestamp($6 / 1000.0), to_timestamp($7 / 1000.0), $8, $9, $10, $11, $12, $13, $14, $15)
     ON CONFLICT (agent_id) DO UPDATE SET
       hostname = EXCLUDED.hostname, version = EXCLUDED.version, run_id = EXCLUDED.run_id, mode = EXCLUDED.mode,
       started_at = EXCLUDED.started_at, last_seen = EXCLUDED.last_seen, heartbeat_interval_ms = EXCLUDED.heartbeat_interval_ms,
       interfaces = EXCLUDED.interfaces, rates = EXCLUDED.rates, totals = EXCLUDED.totals, capture = EXCLUDED.capture,
       flow_table = EXCLUDED.flow_table, spool = EXCLUDED.spool, skipped = EXCLUDED.skipped
     WHERE agents.last_seen <= EXCLUDED.last_seen`,
    [
      hb.agentId,
      hb.hostname,
      hb.version,
      hb.runId,
      hb.mode,
      hb.startedAtMs,
      hb.sentAtMs,
      hb.intervalMs,
      JSON.stringify(hb.interfaces),
      JSON.stringify(hb.rates),
      JSON.stringify(hb.totals),
      JSON.stringify(hb.capture),
      JSON.stringify(hb.flowTable),
      JSON.stringify(hb.spool),
      JSON.stringify(hb.skipped),
    ],
  );
}

/** An agent that sent flows before any heartbeat still gets a registry row (hostname from its batch). */
export async function ensureAgents(pool: Pool, agents: ReadonlyMap<string, string>): Promise<void> {
  if (agents.size === 0) return;
  await pool.query(
    `INSERT INTO agents (agent_id, hostname, last_seen) SELECT id, host, now() FROM unnest($1::text[], $2::text[]) AS t(id, host)
     ON CONFLICT (agent_id) DO NOTHING`,
    [[...agents.keys()], [...agents.values()]],
  );
}

export type AgentRow = ApiAgent;

export async function listAgents(pool: Pool, nowMs: number, staleAfterIntervals: number): Promise<AgentRow[]> {
  const r = await pool.query(`SELECT * FROM agents ORDER BY hostname, agent_id`);
  return r.rows.map((row) => {
    const lastSeenMs = (row.last_seen as Date).getTime();
    const online = nowMs - lastSeenMs <= row.heartbeat_interval_ms * staleAfterIntervals;
    const rates = row.rates as Partial<AgentRow['rates']>;
    const totals = row.totals as Partial<AgentRow['totals']>;
    const capture = row.capture as Partial<AgentRow['capture']>;
    return {
      agentId: row.agent_id,
      hostname: row.hostname,
      version: row.version,
      mode: row.mode,
      firstSeen: (row.first_seen as Date).toISOString(),
      lastSeen: (row.last_seen as Date).toISOString(),
      status: online ? 'online' : 'stale',
      heartbeatIntervalMs: row.heartbeat_interval_ms,
      // A stale agent's last rates are history, not "current".
      rates: online
        ? { packetsPerS: rates.packetsPerS ?? 0, bytesPerS: rates.bytesPerS ?? 0, flowsPerS: rates.flowsPerS ?? 0 }
        : { packetsPerS: 0, bytesPerS: 0, flowsPerS: 0 },
      totals: { packets: totals.packets ?? 0, bytes: totals.bytes ?? 0, flows: totals.flows ?? 0 },
      capture: { received: capture.received ?? 0, dropped: capture.dropped ?? 0, ifDropped: capture.ifDropped ?? 0 },
      interfaces: row.interfaces as unknown[],
      spool: row.spool as Record<string, number>,
    };
  });
}

/** Agent ids matching any of the given ids or hostnames (the `host` parameter of the API). */
export async function resolveHosts(pool: Pool, hosts: readonly string[]): Promise<string[]> {
  const r = await pool.query<{ agent_id: string }>(`SELECT agent_id FROM agents WHERE agent_id = ANY($1::text[]) OR hostname = ANY($1::text[])`, [hosts]);
  // An id nobody has registered yet still restricts the query (to nothing, or to its flows).
  return [...new Set([...r.rows.map((row) => row.agent_id), ...hosts])];
}

export async function writeHostStats(pool: Pool, partitions: PartitionManager, batch: HostStatsBatch): Promise<number> {
  const client = await pool.connect();
  try {
    await partitions.ensure(client, 'host_stats', new Set(batch.seconds.map((s) => dayStartMs(s.tsMs))));
    const s = batch.seconds;
    const r = await client.query(
      `INSERT INTO host_stats (agent_id, ts, packets, bytes, tcp_packets, tcp_bytes, udp_packets, udp_bytes, icmp_packets, icmp_bytes,
                               other_packets, other_bytes, top_talkers)
       SELECT $1, to_timestamp(ts / 1000.0), p, b, tp, tb, up, ub, ip, ib, op, ob, tt::jsonb
         FROM unnest($2::float8[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[],
                     $10::bigint[], $11::bigint[], $12::bigint[], $13::text[]) AS t(ts, p, b, tp, tb, up, ub, ip, ib, op, ob, tt)
       ON CONFLICT (agent_id, ts) DO NOTHING`,
      [
        batch.agentId,
        s.map((x) => x.tsMs),
        s.map((x) => x.packets),
        s.map((x) => x.bytes),
        s.map((x) => x.protocols.tcp.packets),
        s.map((x) => x.protocols.tcp.bytes),
        s.map((x) => x.protocols.udp.packets),
        s.map((x) => x.protocols.udp.bytes),
        s.map((x) => x.protocols.icmp.packets),
        s.map((x) => x.protocols.icmp.bytes),
        s.map((x) => x.protocols.other.packets),
        s.map((x) => x.protocols.other.bytes),
        s.map((x) => JSON.stringify(x.topTalkers)),
      ],
    );
    return toNumber(r.rowCount);
  } finally {
    client.release();
  }
}
