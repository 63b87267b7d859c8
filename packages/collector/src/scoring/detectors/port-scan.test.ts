import { describe, expect, it } from 'vitest';
import type { StoredFlow } from '../../types.js';
import { Level } from '../../types.js';
import { asStoredFlow, buildFlow, horizontalScan, seededRandom, TEST_NETWORK, verticalScan, type TcpShape } from '../test-traffic.js';
import { PortScanDetector, probeOutcome } from './port-scan.js';

const T0 = Date.UTC(2026, 0, 5, 9);
const rng = seededRandom(21);
const agent = (id: string) => ({ agentId: id, hostname: `${id}.corp.example` });

function probe(src: string, dst: string, dport: number, startMs: number, shape: TcpShape | 'udp-silent' | 'icmp-silent'): StoredFlow {
  if (shape === 'udp-silent' || shape === 'icmp-silent') {
    const icmp = shape === 'icmp-silent';
    return asStoredFlow(buildFlow({
      src, dst, sport: icmp ? 8 : 40_000, dport: icmp ? 0 : dport, proto: icmp ? 'icmp' : 'udp', startMs, durationMs: 0,
      packetsToDst: 1, packetsToSrc: 0, bytesToDst: 60, bytesToSrc: 0,
    }, rng));
  }
  const answered = shape !== 'syn-unanswered';
  return asStoredFlow(buildFlow({
    src, dst, sport: 40_000 + (dport % 1000), dport, proto: 'tcp', startMs, durationMs: 1,
    packetsToDst: 3, packetsToSrc: answered ? 3 : 0, bytesToDst: 300, bytesToSrc: answered ? 3000 : 0, tcp: shape,
  }, rng));
}

describe('port-scan', () => {
  it('port-scan - tells probes from other flows and failed probes from answered ones', () => {
    expect(probeOutcome(probe('10.0.0.1', '10.0.0.2', 80, T0, 'syn-rst'))).toBe('failed');
    expect(probeOutcome(probe('10.0.0.1', '10.0.0.2', 80, T0, 'syn-unanswered'))).toBe('failed');
    expect(probeOutcome(probe('10.0.0.1', '10.0.0.2', 80, T0, 'complete'))).toBe('answered');
    expect(probeOutcome(probe('10.0.0.1', '10.0.0.2', 80, T0, 'syn-synack-rst'))).toBe('answered');
    expect(probeOutcome(probe('10.0.0.1', '10.0.0.2', 80, T0, 'midstream'))).toBeNull();
    expect(probeOutcome(probe('10.0.0.1', '10.0.0.2', 161, T0, 'udp-silent'))).toBe('failed');
    expect(probeOutcome(probe('10.0.0.1', '10.0.0.2', 0, T0, 'icmp-silent'))).toBe('failed');
  });

  it('port-scan - a vertical scan raises one alert naming scanner, victim and why', () => {
    const A = TEST_NETWORK.attack;
    const flows = verticalScan(rng, T0).map((f) => asStoredFlow(f, agent('srv-10')));
    const d = new PortScanDetector();
    const r = d.observe(flows);
    expect(r.alerts).toHaveLength(1);
    const a = r.alerts[0];
    expect(a).toMatchObject({ kind: 'port_scan', level: 'suspicious', subject: A.verticalScanner, target: A.verticalVictim, agentId: 'srv-10', detector: 'port-scan/1' });
    expect(a.evidence).toMatchObject({ scan: 'vertical', distinctPorts: 250 });
    expect(a.evidence.failureRatio as number).toBeGreaterThan(0.9);
    expect((a.evidence.samplePorts as string[]).length).toBe(20);
    expect(a.summary).toMatch(/^10\.0\.0\.66 probed 250 ports on 10\.0\.0\.10 in 12 s; 9\d% got no answer$/);
    expect(a.flowIds.length).toBe(20);
    const ids = new Set(flows.map((f) => f.flowId));
    expect(a.flowIds.every((id) => ids.has(id))).toBe(true);
    // Every failed probe of the batch is flagged, the three answered ones are not.
    const failed = flows.filter((f) => probeOutcome(f) === 'failed').length;
    expect(r.flagged.size).toBe(failed);
    expect([...r.flagged.values()].every((l) => l === Level.suspicious)).toBe(true);
  });

  it('port-scan - a horizontal scan seen one probe per agent across the fleet is one alert', () => {
    const hosts = Array.from({ length: 45 }, (_, i) => `10.0.0.${100 + i}`);
    const flows = horizontalScan(rng, T0, hosts, hosts.slice(-3)).map((f) => asStoredFlow(f, agent(`ws-${f.dst}`)));
    const d = new PortScanDetector();
    const alerts = [...d.observe(flows.slice(0, 20)).alerts, ...d.observe(flows.slice(20)).alerts];
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ subject: '10.0.0.67', evidence: { scan: 'horizontal', port: '22/tcp', distinctHosts: 45 } });
    expect(alerts[0].target).toBeUndefined();
    expect(alerts[0].summary).toMatch(/^10\.0\.0\.67 probed port 22\/tcp on 45 hosts in 22 s; 93% got no answer$/);
  });

  it('port-scan - UDP scans and ping sweeps without answers count too', () => {
    const udp = Array.from({ length: 60 }, (_, i) => probe('10.0.0.9', '10.0.0.20', 100 + i, T0 + i * 100, 'udp-silent'));
    const sweep = Array.from({ length: 35 }, (_, i) => probe('10.0.0.9', `10.0.1.${i + 1}`, 0, T0 + i * 100, 'icmp-silent'));
    const alerts = new PortScanDetector().observe([...udp, ...sweep]).alerts;
    expect(alerts.map((a) => a.evidence.scan).sort()).toEqual(['horizontal', 'vertical']);
    expect(alerts.find((a) => a.evidence.scan === 'horizontal')?.summary).toMatch(/probed with ICMP echo 35 hosts/);
  });

  it('port-scan - busy but answered fan-out, slow probing and short scans stay quiet', () => {
    const d = new PortScanDetector();
    // A browser opening 60 HTTPS servers and a monitoring server scraping 50 hosts (3 closed).
    const browsing = Array.from({ length: 60 }, (_, i) => probe('10.0.0.101', `151.101.${i}.7`, 443, T0 + i * 50, 'complete'));
    const scrape = Array.from({ length: 50 }, (_, i) => probe('10.0.0.50', `10.0.0.${100 + i}`, 9100, T0 + i * 10, i % 17 === 5 ? 'syn-rst' : 'complete'));
    // 49 closed ports: one short of the threshold.
    const short = Array.from({ length: 49 }, (_, i) => probe('10.0.0.77', '10.0.0.11', 1000 + i, T0 + i * 100, 'syn-rst'));
    // 60 ports, one every 10 s: never 50 within a minute.
    const slow = Array.from({ length: 60 }, (_, i) => probe('10.0.0.78', '10.0.0.12', 2000 + i, T0 + i * 10_000, 'syn-rst'));
    expect(d.observe([...browsing, ...scrape]).alerts).toEqual([]);
    // Answered flows create no state: only the three closed exporters (3 host keys, 1 port key) are tracked.
    expect(d.stats().trackedKeys).toBe(4);
    expect(d.observe(short).alerts).toEqual([]);
    expect(d.observe(slow).alerts).toEqual([]);
  });

  it('port-scan - alerts once per scanner per cooldown, then again when the scan goes on', () => {
    const d = new PortScanDetector({ cooldownMs: 300_000 });
    const wave = (startMs: number, firstPort: number) =>
      Array.from({ length: 100 }, (_, i) => probe('10.0.0.66', '10.0.0.10', firstPort + i, startMs + i * 100, 'syn-rst'));
    expect(d.observe(wave(T0, 1)).alerts).toHaveLength(1);
    expect(d.observe(wave(T0 + 60_000, 200)).alerts).toHaveLength(0);
    const later = d.observe(wave(T0 + 400_000, 400));
    expect(later.alerts).toHaveLength(1);
    expect(later.flagged.size).toBe(100);
  });

  it('port-scan - a flow with an absurd timestamp does not wipe a scan in progress', () => {
    const d = new PortScanDetector();
    const ports = (from: number, n: number, t: number) => Array.from({ length: n }, (_, i) => probe('10.0.0.66', '10.0.0.10', from + i, t + i * 100, 'syn-rst'));
    expect(d.observe(ports(1, 40, T0)).alerts).toEqual([]);
    const noise = Array.from({ length: 20 }, (_, i) => probe('10.0.0.101', `151.101.${i}.7`, 443, T0 + 5_000 + i, 'complete'));
    expect(d.observe([...noise, { ...probe('10.0.0.9', '10.0.0.8', 1, 0, 'syn-rst'), firstSeenMs: Number.MAX_SAFE_INTEGER }]).alerts).toEqual([]);
    expect(d.observe(ports(100, 20, T0 + 6_000)).alerts).toHaveLength(1);
  });

  it('port-scan - 100k distinct sources cost bounded state', () => {
    const d = new PortScanDetector({ maxTrackedKeys: 5_000, maxTotalElements: 20_000 });
    const base = probe('10.0.0.1', '10.0.0.2', 22, T0, 'syn-unanswered');
    for (let b = 0; b < 10; b++) {
      const batch: StoredFlow[] = [];
      for (let i = 0; i < 10_000; i++) {
        const n = b * 10_000 + i;
        batch.push({ ...base, src: `100.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`, dst: `10.1.${(n >> 8) & 255}.${n & 255}`, dport: 1 + (n % 60_000), firstSeenMs: T0 + n });
      }
      expect(d.observe(batch).alerts).toEqual([]);
    }
    const s = d.stats();
    expect(s.trackedKeys).toBeLessThanOrEqual(10_000);
    expect(s.evictedKeys).toBeGreaterThan(0);
  });
});
