import { describe, expect, it } from 'vitest';
import { FlowRecord, parseQuery } from '@nta/shared';
import type { StoredFlow } from '../types.js';
import { compileFilterPredicate } from './compile-predicate.js';
import { SAMPLE_FLOWS } from './sample-flows.js';

const lower = (text: string | null | undefined): string => (text ?? '').toLowerCase();
const feeds = (f: StoredFlow): string[] => (f.threat ?? '').split(',').map((feed) => feed.trim());
const inNet10 = (address: string): boolean => /^10\./.test(address);

/** Each filter next to the same rule written plainly, as someone checking by hand would. */
const CASES: Array<[query: string, rule: (f: StoredFlow) => boolean]> = [
  ['proto:udp', (f) => f.proto === 'udp'],
  ['proto:tcp,icmp', (f) => f.proto === 'tcp' || f.proto === 'icmp'],
  ['proto:6', (f) => f.ipProto === 6],
  ['proto:ip-253', (f) => f.ipProto === 253],
  ['src:10.0.0.0/8', (f) => inNet10(f.src)],
  ['src:10.0.0.5', (f) => f.src === '10.0.0.5'],
  ['dst:224.0.0.0/4', (f) => /^2(2[4-9]|3\d)\./.test(f.dst)],
  ['ip:10.0.0.0/8', (f) => inNet10(f.src) || inNet10(f.dst)],
  ['ip:172.16.0.0/12', (f) => [f.src, f.dst].some((a) => /^172\.(1[6-9]|2\d|3[01])\./.test(a))],
  ['ip:2001:db8::/32', (f) => [f.src, f.dst].some((a) => lower(a).startsWith('2001:db8:'))],
  ['src:2001:db8:0:0:1::20', (f) => lower(f.src) === '2001:db8:0:0:1::20'],
  ['ip:::1', (f) => f.src === '::1' || f.dst === '::1'],
  ['ip:fe80::/10', (f) => [f.src, f.dst].some((a) => /^fe[89ab]/i.test(a))],
  ['dport:53', (f) => f.dport === 53],
  ['port:53', (f) => f.sport === 53 || f.dport === 53],
  ['dport:1000-2000', (f) => f.dport >= 1000 && f.dport <= 2000],
  ['dport:22,23,80', (f) => [22, 23, 80].includes(f.dport)],
  ['dport<1024', (f) => f.dport < 1024],
  ['sport:>=40010', (f) => f.sport >= 40010],
  ['port:1-1023', (f) => (f.sport >= 1 && f.sport <= 1023) || (f.dport >= 1 && f.dport <= 1023)],
  ['host:web-2', (f) => f.agentId === 'web-2'],
  ['host:web-*', (f) => f.agentId.startsWith('web-') || f.hostname.startsWith('web-')],
  ['host:web_*', (f) => f.agentId.startsWith('web_') || f.hostname.startsWith('web_')],
  ['host:Web-*', (f) => f.hostname.startsWith('Web-')],
  ['host:lab%*', (f) => f.hostname.startsWith('lab%')],
  ['host:db-primary', (f) => f.hostname === 'db-primary'],
  ['level:normal', (f) => f.level === 0],
  ['level>=suspicious', (f) => f.level >= 1],
  ['not level:normal', (f) => f.level !== 0],
  ['country:DE', (f) => f.srcCountry === 'DE' || f.dstCountry === 'DE'],
  ['srccountry:private', (f) => f.srcCountry === 'private'],
  ['dstcountry:multicast,loopback', (f) => f.dstCountry === 'multicast' || f.dstCountry === 'loopback'],
  ['not country:US', (f) => f.srcCountry !== 'US' && f.dstCountry !== 'US'],
  ['asn:15169', (f) => f.srcAsn === 15169 || f.dstAsn === 15169],
  ['dstasn>20000', (f) => f.dstAsn !== null && f.dstAsn > 20000],
  ['not dstasn>20000', (f) => !(f.dstAsn !== null && f.dstAsn > 20000)],
  ['vlan:100', (f) => f.vlan === 100],
  ['vlan<200', (f) => f.vlan !== undefined && f.vlan < 200],
  ['not vlan:100', (f) => f.vlan !== 100],
  ['bytes>1M', (f) => f.bytes > 1_000_000],
  ['bytes>=1M', (f) => f.bytes >= 1_000_000],
  ['bytes>4GiB', (f) => f.bytes > 4 * 1024 ** 3],
  ['packets<10', (f) => f.packets < 10],
  ['duration>=5s', (f) => f.features.durationMs >= 5000],
  ['duration:0', (f) => f.features.durationMs === 0],
  ['dns:*.example.com', (f) => lower(f.l7?.dnsQuery).endsWith('.example.com')],
  ['dns:*tunnel*', (f) => lower(f.l7?.dnsQuery).includes('tunnel')],
  ['dns:under_score%pct.example', (f) => f.l7?.dnsQuery === 'under_score%pct.example'],
  ['sni:WWW.EXAMPLE.COM', (f) => lower(f.l7?.tlsSni) === 'www.example.com'],
  ['httphost:facebook.com*', (f) => lower(f.l7?.httpHost).startsWith('facebook.com')],
  ['threat:true', (f) => Boolean(f.threat)],
  ['threat:false', (f) => !f.threat],
  ['threat:firehol_level1', (f) => feeds(f).includes('firehol_level1')],
  ['threat:abuseipdb', (f) => feeds(f).includes('abuseipdb')],
  ['endreason:rst,idle', (f) => f.endReason === 'rst' || f.endReason === 'idle'],
  ['family:6', (f) => f.family === 6],
  ['proto:tcp and not (dport:443 or dport:80)', (f) => f.proto === 'tcp' && f.dport !== 443 && f.dport !== 80],
  ['proto:udp dport:53 or level:malicious', (f) => (f.proto === 'udp' && f.dport === 53) || f.level === 2],
  ['!(family:4) || threat:spamhaus_drop', (f) => f.family !== 4 || feeds(f).includes('spamhaus_drop')],
];

describe('compile-predicate - semantics', () => {
  it('the sample flows are valid flow records', () => {
    for (const flow of SAMPLE_FLOWS) {
      const result = FlowRecord.safeParse(flow);
      expect(result.error?.issues ?? [], flow.flowId).toEqual([]);
    }
  });

  it('accepts everything when there is no filter', () => {
    expect(SAMPLE_FLOWS.filter(compileFilterPredicate(null))).toHaveLength(SAMPLE_FLOWS.length);
  });

  it.each(CASES)('%s', (query, rule) => {
    const predicate = compileFilterPredicate(parseQuery(query));
    const expected = SAMPLE_FLOWS.filter(rule).map((f) => f.flowId);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(SAMPLE_FLOWS.length);
    expect(SAMPLE_FLOWS.filter(predicate).map((f) => f.flowId)).toEqual(expected);
  });

  it('treats a missing L7 hint, VLAN or country as no match, and its negation as a match', () => {
    const bare = SAMPLE_FLOWS.find((f) => f.l7?.dnsQuery === undefined && f.vlan === undefined && f.dstCountry === null && f.srcAsn === null);
    expect(bare).toBeDefined();
    const matches = (query: string): boolean => compileFilterPredicate(parseQuery(query))(bare as StoredFlow);
    for (const query of ['dns:*', 'vlan:0-4095', 'country:US', 'srcasn>0', 'asn:0-4294967295', 'threat:abuseipdb']) {
      expect(matches(query)).toBe(false);
      expect(matches(`not ${query}`)).toBe(true);
    }
  });
});
