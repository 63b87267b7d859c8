/**
 * Hand-made stored flows for the filter tests (the in-memory predicate and its agreement
 * with PostgreSQL). Each row exists to exercise an edge: NULL columns, IPv6 and
 * IPv4-mapped addresses, LIKE metacharacters in names, >2^31 byte counts, mixed-case L7
 * names, threat lists with spaces. Test data only; nothing in the collector imports it.
 */
import type { StoredFlow } from '../types.js';
import { Level } from '../types.js';

export interface SampleAgent {
  agentId: string;
  hostname: string;
}

export const SAMPLE_AGENTS: readonly SampleAgent[] = [
  { agentId: 'web-1', hostname: 'web-1.example.com' },
  { agentId: 'web-2', hostname: 'web-2.example.com' },
  { agentId: 'web_3', hostname: 'Web-Three' },
  { agentId: 'webx3', hostname: 'lab%01' },
  { agentId: 'db-1', hostname: 'db-primary' },
];

type Overrides = Partial<Omit<StoredFlow, 'features'>> & { durationMs?: number };

let next = 0;

function flow(o: Overrides): StoredFlow {
  next++;
  const agent = SAMPLE_AGENTS.find((a) => a.agentId === (o.agentId ?? 'web-1')) ?? SAMPLE_AGENTS[0];
  const packets = o.packets ?? 10;
  const bytes = o.bytes ?? 1500;
  const base: StoredFlow = {
    flowId: `00000000-0000-4000-8000-${String(next).padStart(12, '0')}`,
    firstSeenMs: 1_764_500_000_000 + next * 1000,
    lastSeenMs: 1_764_500_000_000 + next * 1000 + (o.durationMs ?? 100),
    family: 4,
    ipProto: 6,
    proto: 'tcp',
    src: '10.0.0.5',
    dst: '93.184.216.34',
    sport: 40000 + next,
    dport: 443,
    packetsToDst: Math.ceil(packets / 2),
    packetsToSrc: Math.floor(packets / 2),
    bytesToDst: Math.ceil(bytes / 2),
    bytesToSrc: Math.floor(bytes / 2),
    packets,
    bytes,
    tcpFlagsToDst: 0x1b,
    tcpFlagsToSrc: 0x1b,
    endReason: 'fin',
    features: {
      durationMs: o.durationMs ?? 100,
      pktSizeMin: 60,
      pktSizeMax: 1500,
      pktSizeMean: 150,
      pktSizeStd: 20,
      iatMeanMs: 10,
      iatStdMs: 2,
      iatMinMs: 1,
      iatMaxMs: 30,
      synCount: 1,
      synAckCount: 1,
      finCount: 2,
      rstCount: 0,
      byteRatio: 0.5,
      payloadBytes: Math.floor(bytes / 2),
    },
    agentId: agent.agentId,
    hostname: agent.hostname,
    srcCountry: 'private',
    dstCountry: 'US',
    srcAsn: null,
    dstAsn: 15133,
    score: 0.1,
    level: Level.normal,
    threat: null,
  };
  const { durationMs: _durationMs, ...rest } = o;
  return { ...base, ...rest };
}

export const SAMPLE_FLOWS: readonly StoredFlow[] = [
  flow({ l7: { tlsSni: 'www.Example.com' } }),
  flow({ dport: 80, l7: { httpHost: 'intranet.local', httpMethod: 'GET' }, vlan: 100 }),
  flow({ dport: 8080, agentId: 'web-2', vlan: 200, bytes: 5_000_000_000, packets: 4_000_000, durationMs: 3_600_000 }),
  flow({ proto: 'udp', ipProto: 17, dport: 53, dst: '8.8.8.8', dstCountry: 'US', dstAsn: 15169, l7: { dnsQuery: 'WWW.Example.COM' } }),
  flow({ proto: 'udp', ipProto: 17, dport: 53, dst: '1.1.1.1', dstCountry: 'AU', dstAsn: 13335, l7: { dnsQuery: 'a.b.c.tunnel.evil.io' }, level: Level.suspicious }),
  flow({ proto: 'udp', ipProto: 17, sport: 5353, dport: 5353, dst: '224.0.0.251', dstCountry: 'multicast', dstAsn: null, l7: { dnsQuery: '_services._dns-sd._udp.local' } }),
  flow({ proto: 'icmp', ipProto: 1, sport: 8, dport: 0, dst: '10.0.0.1', dstCountry: 'private', dstAsn: null, endReason: 'idle' }),
  flow({ family: 6, proto: 'icmpv6', ipProto: 58, sport: 135, dport: 0, src: 'fe80::1', dst: 'ff02::1:ff00:1', srcCountry: 'link-local', dstCountry: 'multicast', dstAsn: null, endReason: 'idle' }),
  flow({ family: 6, src: '2001:db8::10', dst: '2606:4700::1111', srcCountry: 'documentation', dstCountry: 'US', dstAsn: 13335, l7: { tlsSni: 'one.one.one.one' } }),
  flow({ family: 6, src: '2001:DB8:0:0:1::20', dst: '2a00:1450:4001:80b::200e', srcCountry: 'documentation', dstCountry: 'DE', dstAsn: 15169, agentId: 'db-1' }),
  flow({ family: 6, src: '::ffff:10.0.0.5', dst: '::1', srcCountry: 'private', dstCountry: 'loopback', dstAsn: null }),
  flow({ src: '192.168.1.10', dst: '185.220.101.1', dstCountry: 'DE', dstAsn: 208294, threat: 'firehol_level1', level: Level.malicious, dport: 9001 }),
  flow({ src: '192.168.1.11', dst: '45.155.205.233', dstCountry: 'RU', dstAsn: 49505, threat: 'firehol_level1, abuseipdb', level: Level.malicious, dport: 22 }),
  flow({ src: '192.168.1.12', dst: '45.155.205.234', dstCountry: 'RU', dstAsn: 49505, threat: 'spamhaus_drop', level: Level.suspicious, dport: 23, endReason: 'rst' }),
  flow({ src: '192.168.1.13', dst: '8.8.4.4', threat: '', dport: 853, l7: { tlsSni: 'dns.google' }, dstAsn: 15169 }),
  flow({ agentId: 'web_3', src: '172.16.5.5', dst: '172.16.5.6', dstCountry: 'private', dstAsn: null, dport: 5432, endReason: 'active', durationMs: 120_000 }),
  flow({ agentId: 'webx3', src: '172.31.255.255', dst: '172.32.0.1', dstCountry: 'US', dport: 3306, endReason: 'evicted' }),
  flow({ agentId: 'webx3', src: '100.64.0.1', srcCountry: 'cgnat', dst: '100.127.255.254', dstCountry: 'cgnat', dstAsn: null, dport: 1023, vlan: 0 }),
  flow({ agentId: 'db-1', proto: 'gre', ipProto: 47, sport: 0, dport: 0, dst: '203.0.113.9', dstCountry: 'documentation', dstAsn: null }),
  flow({ agentId: 'db-1', proto: 'ip-253', ipProto: 253, sport: 0, dport: 0, dst: '198.51.100.7', dstCountry: 'documentation', dstAsn: null, endReason: 'end' }),
  flow({ proto: 'sctp', ipProto: 132, dport: 2905, dst: '81.2.69.142', dstCountry: 'GB', dstAsn: 20712, srcAsn: 64512 }),
  flow({ dport: 1024, bytes: 999_999, packets: 9, durationMs: 4999.5 }),
  flow({ dport: 1000, bytes: 1_000_000, packets: 10, durationMs: 5000 }),
  flow({ dport: 2000, bytes: 1_000_001, packets: 11, durationMs: 5000.5 }),
  flow({ dport: 65535, sport: 0, bytes: 60, packets: 1, durationMs: 0, endReason: 'rst', level: Level.suspicious }),
  flow({ src: '0.0.0.0', srcCountry: 'unspecified', dst: '255.255.255.255', dstCountry: 'reserved', dstAsn: null, proto: 'udp', ipProto: 17, sport: 68, dport: 67 }),
  flow({ srcCountry: null, dstCountry: null, srcAsn: null, dstAsn: null, dst: '31.13.64.35', l7: { httpHost: 'FaceBook.com:443' } }),
  flow({ agentId: 'web-2', dst: '10.20.30.40', dstCountry: 'private', dstAsn: null, l7: { httpHost: 'api.internal', tlsSni: 'api.internal' }, vlan: 4095 }),
  flow({ agentId: 'web-2', dst: '10.20.30.41', dstCountry: 'private', dstAsn: null, l7: { dnsQuery: 'under_score%pct.example' } }),
  flow({ agentId: 'web-1', src: '10.255.255.255', dst: '11.0.0.0', dstCountry: 'US', dstAsn: 749, level: Level.suspicious, threat: 'abuseipdb' }),
];
