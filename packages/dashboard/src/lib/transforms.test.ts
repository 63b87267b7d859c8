import { describe, expect, it } from 'vitest';
import {
  collectBadAddresses,
  fleetHealth,
  dropShare,
  levelCounts,
  liveProtocolSlices,
  liveRates,
  newerAlert,
  pivotQuery,
  protocolSlices,
  splitGeo,
  sumCounts,
  talkerRows,
  term,
  timelineRates,
  trafficIntensity,
} from './transforms.js';
import type { Agent, Alert, Flow, LiveCounters, LiveSecond } from './api-types.js';

const range = { from: '2026-11-30T10:00:00.000Z', to: '2026-11-30T11:00:00.000Z', hosts: null };

function counters(tcp: number, udp: number, icmp = 0, other = 0): LiveCounters {
  const pb = (n: number) => ({ packets: n, bytes: n * 100 });
  return { packets: tcp + udp + icmp + other, bytes: (tcp + udp + icmp + other) * 100, flows: 1, protocols: { tcp: pb(tcp), udp: pb(udp), icmp: pb(icmp), other: pb(other) } };
}
function second(t: number, fleet: LiveCounters, hosts: Record<string, LiveCounters> = {}): LiveSecond {
  return { t, fleet: { ...fleet, topTalkers: [] }, hosts };
}

describe('protocol transforms', () => {
  it('groups REST protocols into TCP/UDP/ICMP/other with shares that sum to 1', () => {
    const slices = protocolSlices(
      {
        range,
        protocols: [
          { proto: 'tcp', flows: 10, packets: 100, bytes: 6000 },
          { proto: 'udp', flows: 5, packets: 50, bytes: 2000 },
          { proto: 'icmp', flows: 1, packets: 4, bytes: 400 },
          { proto: 'icmpv6', flows: 1, packets: 6, bytes: 600 },
          { proto: 'gre', flows: 2, packets: 10, bytes: 1000 },
          { proto: 'ip-253', flows: 1, packets: 1, bytes: 0 },
        ],
      },
      'bytes',
    );
    expect(slices.map((s) => [s.proto, s.packets, s.bytes, s.flows])).toEqual([
      ['tcp', 100, 6000, 10],
      ['udp', 50, 2000, 5],
      ['icmp', 10, 1000, 2],
      ['other', 11, 1000, 3],
    ]);
    expect(slices.reduce((s, x) => s + x.share, 0)).toBeCloseTo(1, 10);
    expect(slices[0]!.share).toBeCloseTo(0.6, 10);
  });

  it('gives zero shares, not NaN, when there is no traffic', () => {
    const slices = protocolSlices({ range, protocols: [] }, 'packets');
    expect(slices.every((s) => s.share === 0 && s.packets === 0)).toBe(true);
  });

  it('sums live counters inside the window only, for the fleet or one host', () => {
    const seconds = [
      second(1000, counters(1, 1), { a: counters(1, 0) }),
      second(2000, counters(2, 3, 1), { a: counters(2, 0), b: counters(0, 3, 1) }),
      second(3000, counters(5, 5), { b: counters(5, 5) }),
    ];
    const fleet = liveProtocolSlices(seconds, null, 2000, 4000, 'packets');
    expect(fleet.map((s) => s.packets)).toEqual([7, 8, 1, 0]);
    const b = liveProtocolSlices(seconds, 'b', 0, 4000, 'packets');
    expect(b.map((s) => s.packets)).toEqual([5, 8, 1, 0]);
    expect(b.every((s) => s.flows === null)).toBe(true);
  });
});

describe('rate transforms', () => {
  it('turns REST buckets into per-second rates, keeps the bucket totals and zero-fills empty buckets', () => {
    const r = { from: '2026-11-30T10:00:00.000Z', to: '2026-11-30T10:05:00.000Z', hosts: null };
    const pts = timelineRates({ range: r, stepMs: 60_000, points: [{ t: '2026-11-30T10:00:00.000Z', flows: 60, packets: 600, bytes: 60_000 }, { t: '2026-11-30T10:03:00.000Z', flows: 6, packets: 6, bytes: 6 }] });
    expect(pts.map((p) => [new Date(p.t).toISOString().slice(11, 16), p.packets])).toEqual([
      ['10:00', 600],
      ['10:01', 0],
      ['10:02', 0],
      ['10:03', 6],
      ['10:04', 0],
    ]);
    expect(pts[0]).toEqual({ t: Date.parse('2026-11-30T10:00:00.000Z'), flows: 60, packets: 600, bytes: 60_000, flowsPerS: 1, packetsPerS: 10, bytesPerS: 1000 });
  });

  it('divides a bucket cut by the range edge by the part inside the range', () => {
    const r = { from: '2026-11-30T10:00:30.000Z', to: '2026-11-30T10:01:15.000Z', hosts: null };
    const pts = timelineRates({ range: r, stepMs: 60_000, points: [{ t: '2026-11-30T10:00:00.000Z', flows: 0, packets: 300, bytes: 0 }, { t: '2026-11-30T10:01:00.000Z', flows: 0, packets: 150, bytes: 0 }] });
    expect(pts.map((p) => p.packetsPerS)).toEqual([10, 10]);
  });

  it('draws points off the epoch grid as given, without inventing zeros', () => {
    const r = { from: '2026-11-30T10:00:00.000Z', to: '2026-11-30T10:05:00.000Z', hosts: null };
    const pts = timelineRates({ range: r, stepMs: 60_000, points: [{ t: '2026-11-30T10:00:10.000Z', flows: 0, packets: 60, bytes: 0 }] });
    expect(pts.map((p) => p.packetsPerS)).toEqual([1]);
  });

  it('zero-fills live seconds without reports and ignores other hosts', () => {
    const seconds = [second(10_000, counters(3, 0), { a: counters(3, 0) }), second(13_000, counters(0, 2), { b: counters(0, 2) })];
    const fleet = liveRates(seconds, null, 10_000, 14_000);
    expect(fleet.map((p) => [p.t, p.packetsPerS])).toEqual([
      [10_000, 3],
      [11_000, 0],
      [12_000, 0],
      [13_000, 2],
    ]);
    expect(liveRates(seconds, 'a', 10_000, 14_000).map((p) => p.packets)).toEqual([3, 0, 0, 0]);
    // A window that starts mid-second begins at the next whole second.
    expect(liveRates(seconds, null, 10_500, 12_000).map((p) => p.t)).toEqual([11_000]);
  });
});

describe('talkers, geo, fleet', () => {
  it('labels talker rows by address or by pair', () => {
    expect(talkerRows({ range, by: 'src', metric: 'bytes', talkers: [{ addr: '10.0.0.1', flows: 1, packets: 2, bytes: 3 }] })[0]).toEqual({ addr: '10.0.0.1', flows: 1, packets: 2, bytes: 3 });
    expect(talkerRows({ range, by: 'pair', metric: 'bytes', talkers: [{ src: '10.0.0.1', dst: '2001:db8::1', flows: 1, packets: 2, bytes: 3 }] })[0]!.addr).toBe('10.0.0.1 → 2001:db8::1');
    expect(sumCounts([{ flows: 1, packets: 2, bytes: 3 }, { flows: 4, packets: 5, bytes: 6 }])).toEqual({ flows: 5, packets: 7, bytes: 9 });
  });

  it('separates countries from scopes and unknown, and scales intensity by log', () => {
    const g = splitGeo([
      { country: 'DE', flows: 1, packets: 1, bytes: 1_000_000, addresses: 1, threatFlows: 1 },
      { country: 'us', flows: 1, packets: 1, bytes: 1000, addresses: 1, threatFlows: 0 },
      { country: 'private', flows: 9, packets: 9, bytes: 9_000_000, addresses: 3, threatFlows: 0 },
      { country: null, flows: 1, packets: 1, bytes: 5, addresses: 1, threatFlows: 0 },
    ]);
    expect([...g.countries.keys()]).toEqual(['DE', 'US']);
    expect(g.scopes.map((s) => s.country)).toEqual(['private']);
    expect(g.unknown?.bytes).toBe(5);
    // Private traffic does not set the scale of the map.
    expect(g.maxBytes).toBe(1_000_000);
    expect(trafficIntensity(1_000_000, g.maxBytes)).toBe(1);
    const small = trafficIntensity(1000, g.maxBytes);
    expect(small).toBeGreaterThan(0.4);
    expect(small).toBeLessThan(0.6);
    expect(trafficIntensity(0, g.maxBytes)).toBe(0);
  });

  it('counts agents online, stale and with drops, and sums online rates', () => {
    const agent = (id: string, status: 'online' | 'stale', dropped: number, pps: number): Agent => ({
      agentId: id,
      hostname: id,
      version: '0.1.0',
      mode: 'capture',
      firstSeen: '',
      lastSeen: '',
      status,
      heartbeatIntervalMs: 5000,
      rates: { packetsPerS: pps, bytesPerS: pps * 100, flowsPerS: 1 },
      totals: { packets: 0, bytes: 0, flows: 0 },
      capture: { received: 1000, dropped, ifDropped: 0 },
      interfaces: [],
      spool: {},
    });
    const agents = [agent('a', 'online', 0, 10), agent('b', 'online', 10, 20), agent('c', 'stale', 0, 999)];
    expect(fleetHealth(agents)).toEqual({ online: 2, stale: 1, withDrops: 1, packetsPerS: 30, bytesPerS: 3000, flowsPerS: 2 });
    expect(dropShare(agents[1]!)).toBeCloseTo(10 / 1010, 10);
    expect(levelCounts({ malicious: 2 })).toEqual([
      { level: 'normal', count: 0 },
      { level: 'suspicious', count: 0 },
      { level: 'malicious', count: 2 },
    ]);
  });
});

describe('known-bad addresses', () => {
  const alert = (over: Partial<Alert>): Alert => ({
    id: 1,
    kind: 'threat_intel',
    level: 'malicious',
    agentId: 'a',
    hostname: 'a',
    subject: '185.220.101.1',
    target: null,
    detector: 'intel',
    summary: '185.220.101.1 is on the firehol list',
    evidence: {},
    firstSeen: '',
    lastSeen: '',
    occurrences: 1,
    flowIds: [],
    acknowledgedAt: null,
    acknowledgedBy: null,
    ...over,
  });
  const flow = (_unused: object): Flow => ({ src: '10.0.0.1', dst: '45.155.205.233', srcCountry: 'private', dstCountry: 'RU', threat: 'spamhaus_drop' }) as Flow;

  it('takes threat-intel alert subjects and the listed (public) end of feed-matched flows, not victims of other alerts', () => {
    const bad = collectBadAddresses(
      [alert({}), alert({ id: 2, kind: 'syn_flood', subject: '10.0.0.80', summary: 'SYN flood against 10.0.0.80' }), alert({ id: 3, kind: 'port_scan', level: 'suspicious', subject: '198.51.100.1' })],
      [flow({}), { ...flow({}), src: '8.8.8.8', dst: '10.0.0.2', srcCountry: 'US', dstCountry: 'private' } as Flow, { ...flow({}), threat: null, dst: '1.1.1.1' } as Flow],
    );
    expect(bad.get('185.220.101.1')).toContain('firehol');
    expect(bad.has('10.0.0.80')).toBe(false);
    expect(bad.has('198.51.100.1')).toBe(false);
    expect(bad.get('45.155.205.233')).toBe('listed by spamhaus_drop');
    expect(bad.has('10.0.0.1')).toBe(false);
    expect(bad.has('8.8.8.8')).toBe(true);
    expect(bad.has('10.0.0.2')).toBe(false);
    expect(bad.has('1.1.1.1')).toBe(false);
  });

  it('prefers the later state of an alert: more activity, then an acknowledgement', () => {
    const base = alert({ lastSeen: '2026-11-30T10:00:00Z', occurrences: 2 });
    expect(newerAlert(alert({ lastSeen: '2026-11-30T10:00:05Z', occurrences: 2 }), base)).toBe(true);
    expect(newerAlert(base, alert({ lastSeen: '2026-11-30T10:00:05Z' }))).toBe(false);
    expect(newerAlert(alert({ lastSeen: '2026-11-30T10:00:00Z', occurrences: 3 }), base)).toBe(true);
    expect(newerAlert(alert({ lastSeen: '2026-11-30T10:00:00Z', occurrences: 2, acknowledgedAt: '2026-11-30T10:01:00Z' }), base)).toBe(true);
    expect(newerAlert(base, alert({ lastSeen: '2026-11-30T10:00:00Z', occurrences: 2, acknowledgedAt: '2026-11-30T10:01:00Z' }))).toBe(false);
    expect(newerAlert(base, base)).toBe(false);
  });

  it('does not blame the other end of a flow whose listed end is already known', () => {
    const bad = collectBadAddresses([alert({ subject: '10.9.9.9' })], [{ src: '10.9.9.9', dst: '93.184.216.34', srcCountry: 'private', dstCountry: 'US', threat: 'x' } as Flow]);
    expect(bad.has('93.184.216.34')).toBe(false);
  });
});

describe('pivots', () => {
  it('adds a term with and, parenthesises a top-level or (by the parser), and never adds a required term twice', () => {
    expect(pivotQuery('', 'ip:10.0.0.1')).toBe('ip:10.0.0.1');
    expect(pivotQuery('proto:tcp', 'dport:443')).toBe('proto:tcp and dport:443');
    expect(pivotQuery('proto:tcp or proto:udp', 'ip:10.0.0.1')).toBe('(proto:tcp or proto:udp) and ip:10.0.0.1');
    expect(pivotQuery('(proto:tcp or proto:udp)', 'ip:10.0.0.1')).toBe('(proto:tcp or proto:udp) and ip:10.0.0.1');
    // Starts and ends with a parenthesis, but its top level is still an or.
    expect(pivotQuery('(proto:tcp) or (proto:udp)', 'ip:10.0.0.1')).toBe('((proto:tcp) or (proto:udp)) and ip:10.0.0.1');
    expect(pivotQuery('proto:tcp and dport:443', 'dport:443')).toBe('proto:tcp and dport:443');
    expect(pivotQuery('proto:tcp && dport:443', 'dport:443')).toBe('proto:tcp && dport:443');
    // A negated term is not the same requirement.
    expect(pivotQuery('not ip:10.0.0.1', 'ip:10.0.0.1')).toBe('not ip:10.0.0.1 and ip:10.0.0.1');
  });

  it('quotes values the filter language would split', () => {
    expect(term('ip', '2001:db8::1')).toBe('ip:2001:db8::1');
    expect(term('host', 'web-1')).toBe('host:web-1');
    expect(term('host', 'my host "x"')).toBe('host:"my host \\"x\\""');
    expect(term('dport', 443)).toBe('dport:443');
  });
});
