import { describe, expect, it } from 'vitest';
import type { AlertCandidate, StoredFlow } from '../../types.js';
import { asStoredFlow, buildFlow, dnsTunnel, inBatches, ordinaryTraffic, seededRandom, TEST_NETWORK, toStoredFlows } from '../test-traffic.js';
import { isUnderZone, longestLabel, shannonEntropy, splitRegisteredDomain } from './dns-names.js';
import { DnsTunnelDetector } from './dns-tunnel.js';

const T0 = Date.UTC(2026, 0, 5, 9);
const rng = seededRandom(41);
const A = TEST_NETWORK.attack;
const agentFor = (address: string) => ({ agentId: `agent-${address}`, hostname: `${address}.corp.example` });

function query(client: string, name: string, startMs: number, server = '10.0.0.2'): StoredFlow {
  return asStoredFlow(buildFlow({
    src: client, dst: server, sport: 40_000, dport: 53, proto: 'udp', startMs, durationMs: 20,
    packetsToDst: 1, packetsToSrc: 1, bytesToDst: 80, bytesToSrc: 160, l7: { dnsQuery: name, dnsQueryType: 1 },
  }, rng), agentFor(client));
}

function run(d: DnsTunnelDetector, flows: readonly StoredFlow[]): AlertCandidate[] {
  return inBatches(flows, 400).flatMap((b) => d.observe(b).alerts);
}

describe('dns-names', () => {
  it('dns-names - finds the registered domain, two-label suffixes included', () => {
    expect(splitRegisteredDomain('www.example.com')).toEqual({ domain: 'example.com', subdomain: 'www' });
    expect(splitRegisteredDomain('a.b.news.bbc.co.uk')).toEqual({ domain: 'bbc.co.uk', subdomain: 'a.b.news' });
    expect(splitRegisteredDomain('example.com.')).toEqual({ domain: 'example.com', subdomain: '' });
    expect(splitRegisteredDomain('co.uk')).toBeNull();
    expect(splitRegisteredDomain('localhost')).toBeNull();
    expect(isUnderZone('x.in-addr.arpa', 'arpa')).toBe(true);
    expect(isUnderZone('notarpa', 'arpa')).toBe(false);
  });

  it('dns-names - entropy separates words from encoded data', () => {
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('abcd')).toBeCloseTo(2, 10);
    expect(shannonEntropy('firefox.settings.services')).toBeLessThan(3.5);
    expect(shannonEntropy('4f9a1c0b7e2d8a6f3b5c9e1d7a2f4b8c')).toBeGreaterThan(3.5);
    expect(longestLabel('abc.defgh.ij')).toBe(5);
  });
});

describe('dns-tunnel', () => {
  it('dns-tunnel - base32 and hex tunnels through the resolver blame the clients, not the resolver', () => {
    const flows = [
      ...dnsTunnel(rng, T0, { encoding: 'base32', queries: 300, spanMs: 60_000 }),
      ...dnsTunnel(rng, T0 + 60_000, { encoding: 'hex', queries: 150, spanMs: 90_000 }),
    ].map((f) => asStoredFlow(f, agentFor(f.src)));
    const d = new DnsTunnelDetector();
    const alerts = run(d, flows);
    expect(alerts.map((a) => [a.subject, a.target]).sort()).toEqual([
      [A.tunnelClient, A.tunnelDomain],
      [A.hexTunnelClient, A.hexTunnelDomain],
    ]);
    const b32 = alerts.find((a) => a.subject === A.tunnelClient) as AlertCandidate;
    expect(b32).toMatchObject({ kind: 'dns_tunnel', level: 'malicious', detector: 'dns-tunnel/1', agentId: `agent-${A.tunnelClient}` });
    expect(b32.evidence).toMatchObject({ domain: 'cdn-sync.example', dnsServer: '10.0.0.2', reason: 'encoded-names', longestLabel: 52 });
    expect(b32.evidence.maxEntropyBitsPerChar as number).toBeGreaterThan(4);
    expect((b32.evidence.sampleNames as string[]).every((n) => n.endsWith('.cdn-sync.example'))).toBe(true);
    expect(b32.summary).toMatch(/^10\.0\.0\.124 looked up \d+ distinct names under cdn-sync\.example in \d+ s; \d+ look encoded \(labels up to 52 characters, entropy up to 4\.\d bits\/char\)$/);
    const hex = alerts.find((a) => a.subject === A.hexTunnelClient) as AlertCandidate;
    expect(hex.evidence.longestLabel).toBe(30);
    expect(d.stats().relayedKeys).toBe(2);
  });

  it('dns-tunnel - with blameResolvers the relaying resolver is named too', () => {
    const flows = dnsTunnel(rng, T0, { encoding: 'base32', queries: 100, spanMs: 30_000 }).map((f) => asStoredFlow(f, agentFor(f.src)));
    const subjects = run(new DnsTunnelDetector({ blameResolvers: true }), flows).map((a) => a.subject).sort();
    expect(subjects).toEqual([TEST_NETWORK.resolver, A.tunnelClient].sort());
  });

  it('dns-tunnel - a burst of plain distinct names under one domain alerts as a burst', () => {
    const words = ['alpha', 'bravo', 'delta', 'echo', 'golf', 'hotel', 'india', 'kilo', 'lima', 'mike'];
    const flows = Array.from({ length: 120 }, (_, i) => query('10.0.0.150', `${words[i % 10]}${Math.floor(i / 10)}.files.example.net`, T0 + i * 300));
    const alerts = run(new DnsTunnelDetector(), flows);
    expect(alerts).toHaveLength(1);
    expect(alerts[0].evidence).toMatchObject({ reason: 'burst', encodedNames: 0, domain: 'example.net' });
    // The alert is built after the whole batch (all 120 queries) is counted.
    expect(alerts[0].summary).toBe('10.0.0.150 looked up 120 distinct names under example.net in 36 s');
  });

  it('dns-tunnel - ordinary lookups, a busy resolver, reverse DNS and a few odd names stay quiet', () => {
    const ordinary = toStoredFlows(ordinaryTraffic({ seed: 4 }));
    expect(run(new DnsTunnelDetector(), ordinary)).toEqual([]);
    // Nine encoded names under one domain (antivirus-style hash lookups): below the threshold.
    const odd = Array.from({ length: 9 }, (_, i) => query('10.0.0.151', `${'0123456789abcdef'.repeat(2).slice(i)}x${i}.avqs.example.com`, T0 + i * 1000));
    // Reverse lookups and in-CDN names: many distinct names, in ignored zones.
    const ptr = Array.from({ length: 300 }, (_, i) => query('10.0.0.2', `${i & 255}.${i >> 8}.51.198.in-addr.arpa`, T0 + i * 100, '9.9.9.9'));
    const cdn = Array.from({ length: 150 }, (_, i) => query('10.0.0.2', `e${1000 + i}.a.akamaiedge.net`, T0 + i * 100, '9.9.9.9'));
    expect(run(new DnsTunnelDetector(), [...odd, ...ptr, ...cdn])).toEqual([]);
    // Without the ignore list the reverse lookups would have been a burst.
    expect(run(new DnsTunnelDetector({ ignoreDomains: [] }), ptr)).toHaveLength(1);
  });

  it('dns-tunnel - 100k distinct clients and names cost bounded state', () => {
    const d = new DnsTunnelDetector({ maxTrackedKeys: 5_000, maxTotalElements: 20_000 });
    const base = query('10.0.0.1', 'x.example.com', T0);
    const flows: StoredFlow[] = Array.from({ length: 100_000 }, (_, i) => ({
      ...base,
      src: `100.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      firstSeenMs: T0 + i,
      l7: { dnsQuery: `${i.toString(36)}${'q'.repeat(45)}.d${i % 7000}.example` },
    }));
    for (const b of inBatches(flows, 10_000)) d.observe(b);
    expect(d.stats().trackedKeys).toBeLessThanOrEqual(5_000 + 4_096);
    expect(d.stats().evictedKeys).toBeGreaterThan(0);
  });
});
