/**
 * Flow search: a time range, an optional compiled filter, newest first, keyset pagination.
 * The cursor carries first_seen in integer microseconds plus the flow id, so pages neither
 * skip nor repeat rows that share a timestamp.
 */
import { toNumber, type Pool } from './pool.js';
import type { ApiFlow } from '@nta/shared/api';

export interface FlowSearch {
  fromMs: number;
  toMs: number;
  /** A boolean SQL expression over the flows columns, with $n placeholders starting at $1. */
  filterSql?: string;
  /** The filter's parameters; the filter's placeholders start at $1. */
  filterParams?: unknown[];
  limit: number;
  cursor?: FlowCursor;
}

export interface FlowCursor {
  firstSeenUs: string;
  flowId: string;
}

/** A flow as the API returns it (read-time GeoIP detail is added by the route). */
export type FlowRow = Omit<ApiFlow, 'srcGeo' | 'dstGeo'>;

const LEVEL_NAMES = ['normal', 'suspicious', 'malicious'] as const;

export function encodeCursor(c: FlowCursor): string {
  return Buffer.from(`${c.firstSeenUs}.${c.flowId}`).toString('base64url');
}

/** Null when the text is not a cursor this API issued. */
export function decodeCursor(text: string): FlowCursor | null {
  const m = /^(-?\d{1,19})\.([0-9a-f-]{36})$/.exec(Buffer.from(text, 'base64url').toString('utf8'));
  return m ? { firstSeenUs: m[1]!, flowId: m[2]! } : null;
}

export async function searchFlows(pool: Pool, q: FlowSearch): Promise<{ flows: FlowRow[]; nextCursor: string | null }> {
  const params: unknown[] = [...(q.filterParams ?? [])];
  const where = [`first_seen >= $${params.push(new Date(q.fromMs).toISOString())}`, `first_seen < $${params.push(new Date(q.toMs).toISOString())}`];
  if (q.filterSql) where.push(`(${q.filterSql})`);
  if (q.cursor) {
    const us = params.push(q.cursor.firstSeenUs);
    const id = params.push(q.cursor.flowId);
    where.push(`(first_seen, flow_id) < (timestamptz 'epoch' + $${us}::bigint * interval '1 microsecond', $${id}::uuid)`);
  }
  const limitParam = params.push(q.limit + 1);
  const r = await pool.query(
    `SELECT f.*, (extract(epoch FROM first_seen) * 1000000)::bigint::text AS first_seen_us, host(src) AS src_text, host(dst) AS dst_text,
            (SELECT hostname FROM agents a WHERE a.agent_id = f.agent_id) AS hostname
       FROM flows f WHERE ${where.join(' AND ')}
      ORDER BY first_seen DESC, flow_id DESC LIMIT $${limitParam}`,
    params,
  );
  const rows = r.rows.slice(0, q.limit);
  const last = r.rows.length > q.limit ? rows[rows.length - 1] : undefined;
  return {
    flows: rows.map(toFlowRow),
    nextCursor: last ? encodeCursor({ firstSeenUs: last.first_seen_us, flowId: last.flow_id }) : null,
  };
}

function toFlowRow(r: Record<string, unknown>): FlowRow {
  const n = toNumber;
  const nn = (v: unknown): number | null => (v === null || v === undefined ? null : toNumber(v));
  return {
    flowId: r.flow_id as string,
    agentId: r.agent_id as string,
    hostname: (r.hostname as string | null) ?? null,
    firstSeen: (r.first_seen as Date).toISOString(),
    lastSeen: (r.last_seen as Date).toISOString(),
    family: n(r.family),
    ipProto: n(r.ip_proto),
    proto: r.proto as string,
    src: r.src_text as string,
    dst: r.dst_text as string,
    sport: n(r.sport),
    dport: n(r.dport),
    vlan: nn(r.vlan),
    packetsToDst: n(r.packets_to_dst),
    packetsToSrc: n(r.packets_to_src),
    bytesToDst: n(r.bytes_to_dst),
    bytesToSrc: n(r.bytes_to_src),
    packets: n(r.packets),
    bytes: n(r.bytes),
    tcpFlagsToDst: n(r.tcp_flags_to_dst),
    tcpFlagsToSrc: n(r.tcp_flags_to_src),
    endReason: r.end_reason as string,
    dnsQuery: (r.dns_query as string | null) ?? null,
    dnsQueryType: nn(r.dns_qtype),
    dnsRcode: nn(r.dns_rcode),
    httpMethod: (r.http_method as string | null) ?? null,
    httpHost: (r.http_host as string | null) ?? null,
    tlsSni: (r.tls_sni as string | null) ?? null,
    tlsAlpn: (r.tls_alpn as string | null) ?? null,
    durationMs: n(r.duration_ms),
    srcCountry: (r.src_country as string | null) ?? null,
    dstCountry: (r.dst_country as string | null) ?? null,
    srcAsn: nn(r.src_asn),
    dstAsn: nn(r.dst_asn),
    score: n(r.score),
    level: LEVEL_NAMES[n(r.level)] ?? 'normal',
    threat: (r.threat as string | null) ?? null,
  };
}
