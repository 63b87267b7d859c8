/**
 * The filter's two implementations must agree: for each filter, the rows PostgreSQL returns
 * for compileFilterSql are exactly the sample flows compileFilterPredicate accepts. Runs on a
 * private PostgreSQL 15 server (tests/helpers/postgres.ts).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseQuery } from '@nta/shared';
import { startPostgres, type PostgresHandle } from '../../../../tests/helpers/postgres.js';
import type { StoredFlow } from '../types.js';
import { compileFilterPredicate } from './compile-predicate.js';
import { compileFilterSql } from './compile-sql.js';
import { SAMPLE_AGENTS, SAMPLE_FLOWS } from './sample-flows.js';

const SCHEMA = `
CREATE TABLE agents (agent_id text PRIMARY KEY, hostname text);
CREATE TABLE flows (flow_id uuid, agent_id text, first_seen timestamptz, last_seen timestamptz, family smallint,
  ip_proto smallint, proto text, src inet, dst inet, sport integer, dport integer, vlan integer NULL,
  packets_to_dst bigint, packets_to_src bigint, bytes_to_dst bigint, bytes_to_src bigint,
  packets bigint, bytes bigint, tcp_flags_to_dst smallint, tcp_flags_to_src smallint, end_reason text,
  dns_query text, dns_qtype integer, dns_rcode smallint, http_method text, http_host text, tls_sni text,
  tls_alpn text, duration_ms double precision, src_country text, dst_country text, src_asn integer,
  dst_asn integer, score real, level smallint, threat text);`;

function row(f: StoredFlow): unknown[] {
  return [
    f.flowId,
    f.agentId,
    new Date(f.firstSeenMs),
    new Date(f.lastSeenMs),
    f.family,
    f.ipProto,
    f.proto,
    f.src,
    f.dst,
    f.sport,
    f.dport,
    f.vlan ?? null,
    f.packetsToDst,
    f.packetsToSrc,
    f.bytesToDst,
    f.bytesToSrc,
    f.packets,
    f.bytes,
    f.tcpFlagsToDst,
    f.tcpFlagsToSrc,
    f.endReason,
    f.l7?.dnsQuery ?? null,
    f.l7?.dnsQueryType ?? null,
    f.l7?.dnsRcode ?? null,
    f.l7?.httpMethod ?? null,
    f.l7?.httpHost ?? null,
    f.l7?.tlsSni ?? null,
    f.l7?.tlsAlpn?.join(',') ?? null,
    f.features.durationMs,
    f.srcCountry,
    f.dstCountry,
    f.srcAsn,
    f.dstAsn,
    f.score,
    f.level,
    f.threat,
  ];
}

/** Filters that must select some of the sample rows but not all, so agreement means something. */
const DISCRIMINATING = [
  'proto:tcp and src:10.0.0.0/8 and dport:443 and not level:normal and country:US and host:web-1',
  'proto:tcp and src:10.0.0.0/8 and dport:443',
  'proto:udp',
  'proto:icmp,icmpv6,gre',
  'proto:6',
  'proto:ip-253',
  'proto:tcp,253',
  'src:10.0.0.5',
  'src:10.0.0.0/8',
  'dst:224.0.0.0/4',
  'ip:172.16.0.0/12',
  'ip:100.64.0.0/10',
  'ip:2001:db8::/32',
  'src:2001:db8::1:0:0:20',
  'ip:::1',
  'ip:fe80::/10',
  'ip:ff00::/8',
  'ip:::ffff:0:0/96',
  'ip:0.0.0.0/0',
  'ip:::/0',
  'src:10.0.0.0/8,192.168.0.0/16',
  'dport:53',
  'port:53',
  'port:5353',
  'dport:1000-2000',
  'dport:22,23,80,8000-9000',
  'dport<1024',
  'dport:>=1024',
  'sport<=40010',
  'port:1-1023',
  'port:0',
  'dport:65535',
  'host:web-2',
  'host:web-*',
  'host:web_*',
  'host:*x*',
  'host:Web-*',
  'host:lab%*',
  'host:lab%01',
  'host:db-primary',
  'host:*example.com',
  'agent:web-1,db-1',
  'level:normal',
  'level:suspicious',
  'level>=suspicious',
  'level<malicious',
  'level:>normal',
  'not level:normal',
  'country:DE',
  'country:private',
  'srccountry:documentation',
  'dstcountry:multicast,loopback',
  'dstcountry:cgnat',
  'not country:US',
  'asn:15169',
  'asn:AS13335',
  'dstasn>20000',
  'not dstasn>20000',
  'srcasn:64512',
  'asn:0-100000',
  'vlan:100',
  'vlan:0',
  'vlan<200',
  'vlan:4095',
  'not vlan:100',
  'bytes>1M',
  'bytes>=1M',
  'bytes:1000000',
  'bytes>4GiB',
  'bytes<1KiB',
  'bytes:1k-1M',
  'packets<10',
  'packets>=1M',
  'duration>=5s',
  'duration>5s',
  'duration:5000',
  'duration:0',
  'duration>=1h',
  'duration:1m-1h',
  'dns:*.example.com',
  'dns:*tunnel*',
  'dns:www.example.com',
  'dns:under_score%pct.example',
  'dns:*_*',
  'dns:*',
  'not dns:*',
  'sni:WWW.EXAMPLE.COM',
  'sni:*.*',
  'httphost:facebook.com*',
  'httphost:*:443',
  'threat:true',
  'threat:false',
  'threat:firehol_level1',
  'threat:abuseipdb',
  'threat:spamhaus_drop,abuseipdb',
  'not threat:abuseipdb',
  'endreason:rst,idle',
  'endreason:evicted',
  'family:6',
  'family:4',
  'proto:tcp and not (dport:443 or dport:80)',
  'proto:udp dport:53 or level:malicious',
  '!(family:4) || threat:spamhaus_drop',
  'not (country:US or country:DE) and not vlan:100',
  '(dns:* or sni:* or httphost:*) and not host:web-1',
  'proto!=tcp',
  'not not proto:udp',
];

/** Filters whose result may be empty or everything: edges and hostile input. */
const EDGES = [
  'dport:70',
  'host:nobody',
  'host:*',
  'country:ZZ',
  'threat:nonexistent_feed',
  'asn:4294967295',
  'bytes>9007199254740991',
  `dns:"x' OR 1=1 --"`,
  `host:"a%' or '1'='1"`,
  `host:"'; DROP TABLE flows;--"`,
  `sni:"\\\\'; DELETE FROM agents; --"`,
  `httphost:"$1::text) OR (TRUE"`,
  `dns:"\\\\"`,
  `dns:"%"`,
  `dns:"_"`,
  'ip:::/0 or ip:0.0.0.0/0',
  // `?` is not a wildcard: it matches only itself.
  'host:web?3',
  'dns:under?score*',
];

describe('compile-sql - agrees with compile-predicate on PostgreSQL', () => {
  let server: PostgresHandle;
  let client: pg.Client;

  beforeAll(async () => {
    server = await startPostgres({ flavor: 'postgres' });
    client = new pg.Client({ connectionString: await server.createDatabase() });
    await client.connect();
    await client.query(SCHEMA);
    for (const agent of SAMPLE_AGENTS) await client.query('INSERT INTO agents VALUES ($1, $2)', [agent.agentId, agent.hostname]);
    const placeholders = row(SAMPLE_FLOWS[0]).map((_, i) => `$${i + 1}`).join(', ');
    for (const flow of SAMPLE_FLOWS) await client.query(`INSERT INTO flows VALUES (${placeholders})`, row(flow));
  });

  afterAll(async () => {
    await client?.end();
    await server?.cleanup();
  });

  async function selectIds(query: string, alias?: string): Promise<string[]> {
    const params: unknown[] = [];
    const where = compileFilterSql(parseQuery(query), params, alias ? { alias } : {});
    const from = alias ? `flows ${alias}` : 'flows';
    const { rows } = await client.query<{ flow_id: string }>(`SELECT flow_id FROM ${from} WHERE ${where} ORDER BY flow_id`, params);
    return rows.map((r) => r.flow_id);
  }

  function acceptedIds(query: string): string[] {
    return SAMPLE_FLOWS.filter(compileFilterPredicate(parseQuery(query)))
      .map((f) => f.flowId)
      .sort();
  }

  it.each(DISCRIMINATING)('%s', async (query) => {
    const expected = acceptedIds(query);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(SAMPLE_FLOWS.length);
    expect(await selectIds(query)).toEqual(expected);
  });

  it.each(EDGES)('edge: %s', async (query) => {
    expect(await selectIds(query)).toEqual(acceptedIds(query));
  });

  it('gives the same rows with a table alias, including the alias "a" the host subquery uses', async () => {
    for (const query of ['host:web-* and not dport:443', 'threat:true or country:private', 'ip:10.0.0.0/8 port:53']) {
      const expected = acceptedIds(query);
      expect(await selectIds(query, 'f')).toEqual(expected);
      expect(await selectIds(query, 'a')).toEqual(expected);
    }
  });

  it('numbers its placeholders after the caller’s own parameters', async () => {
    const cutoff = SAMPLE_FLOWS[9].firstSeenMs;
    const params: unknown[] = [new Date(cutoff)];
    const where = compileFilterSql(parseQuery('proto:tcp dport<1024'), params, { alias: 'f' });
    const { rows } = await client.query<{ flow_id: string }>(
      `SELECT f.flow_id FROM flows f WHERE f.first_seen >= $1 AND ${where} ORDER BY f.flow_id`,
      params,
    );
    const expected = SAMPLE_FLOWS.filter((f) => f.firstSeenMs >= cutoff && f.proto === 'tcp' && f.dport < 1024)
      .map((f) => f.flowId)
      .sort();
    expect(expected.length).toBeGreaterThan(0);
    expect(rows.map((r) => r.flow_id)).toEqual(expected);
  });

  it('survives injection attempts: no error, no match, tables intact', async () => {
    for (const query of EDGES.filter((q) => q.includes("'") || q.includes('$'))) expect(await selectIds(query)).toEqual([]);
    const flows = await client.query<{ n: string }>('SELECT count(*) AS n FROM flows');
    const agents = await client.query<{ n: string }>('SELECT count(*) AS n FROM agents');
    expect(Number(flows.rows[0].n)).toBe(SAMPLE_FLOWS.length);
    expect(Number(agents.rows[0].n)).toBe(SAMPLE_AGENTS.length);
  });
});
