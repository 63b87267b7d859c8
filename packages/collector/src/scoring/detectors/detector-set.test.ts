import { describe, expect, it } from 'vitest';
import type { AlertCandidate, StoredFlow } from '../../types.js';
import { asStoredFlow, inBatches, mixedTraffic, ordinaryTraffic, TEST_NETWORK, toStoredFlows } from '../test-traffic.js';
import type { Detector } from './detector.js';
import { createDetectorSet, DetectorSet } from './detector-set.js';
import { PortScanDetector } from './port-scan.js';

function runAll(set: DetectorSet, flows: readonly StoredFlow[], batchSize = 500): { alerts: AlertCandidate[]; flagged: Map<number, number> } {
  const alerts: AlertCandidate[] = [];
  const flagged = new Map<number, number>();
  inBatches(flows, batchSize).forEach((batch, b) => {
    const r = set.observe(batch);
    alerts.push(...r.alerts);
    for (const [i, level] of r.flagged) flagged.set(b * batchSize + i, level);
  });
  return { alerts, flagged };
}

describe('detector-set', () => {
  it('detector-set - flags every attacker with the right kind and subject, and nothing ordinary', () => {
    const labelled = mixedTraffic({ seed: 7 });
    const stored = toStoredFlows(labelled);
    const before = process.cpuUsage();
    const { alerts, flagged } = runAll(createDetectorSet(), stored);
    const used = process.cpuUsage(before);
    const cpuMs = (used.user + used.system) / 1000;
    console.log(`detector-set: ${stored.length} flows in ${cpuMs.toFixed(0)} ms CPU = ${Math.round((stored.length / cpuMs) * 1000)} flows/s (first pass, cold JIT)`);
    const A = TEST_NETWORK.attack;
    expect(alerts.map((a) => `${a.kind} ${a.subject} ${a.target ?? '-'}`).sort()).toEqual(
      [
        `port_scan ${A.verticalScanner} ${A.verticalVictim}`,
        `port_scan ${A.horizontalScanner} -`,
        `syn_flood ${A.floodVictim} ${A.floodVictim}`,
        `syn_flood ${A.singleFloodSource} ${A.floodVictim}`,
        `dns_tunnel ${A.tunnelClient} ${A.tunnelDomain}`,
        `dns_tunnel ${A.hexTunnelClient} ${A.hexTunnelDomain}`,
        `upload_volume ${A.exfilClient} ${A.exfilDestination}`,
      ].sort(),
    );
    for (const a of alerts) {
      expect(a.flowIds.length).toBeGreaterThan(0);
      expect(a.flowIds.length).toBeLessThanOrEqual(20);
      expect(a.firstSeenMs).toBeLessThanOrEqual(a.lastSeenMs);
      expect(JSON.parse(JSON.stringify(a.evidence))).toEqual(a.evidence);
    }
    // The alert's agent is the agent of one of the flows it is about.
    const agentsOfFlow = new Map(labelled.map((l) => [l.flow.flowId, l.agentId]));
    for (const a of alerts) expect(a.flowIds.map((id) => agentsOfFlow.get(id))).toContain(a.agentId);

    const flaggedOrdinary = [...flagged.keys()].filter((i) => labelled[i].label === 'ordinary');
    expect(flaggedOrdinary).toEqual([]);
    const attackFlows = labelled.filter((l) => l.label !== 'ordinary').length;
    expect(flagged.size / attackFlows).toBeGreaterThan(0.5);
  });

  it('detector-set - ordinary traffic of several days-worth of seeds raises no alert', () => {
    for (const seed of [1, 2, 3]) {
      const { alerts, flagged } = runAll(createDetectorSet(), toStoredFlows(ordinaryTraffic({ seed, durationMs: 900_000 })));
      expect(alerts).toEqual([]);
      expect(flagged.size).toBe(0);
    }
  });

  it('detector-set - a detector that throws is counted and the others still report', () => {
    const errors: string[] = [];
    const broken: Detector = {
      name: 'broken/1',
      observe: () => {
        throw new Error('bug');
      },
      stats: () => ({ trackedKeys: 0, evictedKeys: 0, alerts: 0 }),
    };
    const set = new DetectorSet([broken, new PortScanDetector()], (err, name) => errors.push(`${name}: ${(err as Error).message}`));
    const scan = toStoredFlows(mixedTraffic({ seed: 2 }).filter((l) => l.label === 'port_scan_vertical'));
    const r = set.observe(scan);
    expect(r.alerts.map((a) => a.kind)).toEqual(['port_scan']);
    expect(errors).toEqual(['broken/1: bug']);
    expect(set.stats()['broken/1'].errors).toBe(1);
    expect(set.stats()['port-scan/1'].errors).toBe(0);
  });

  it('detector-set - empty batches and absurd values neither throw nor alert', () => {
    const set = createDetectorSet({ currentModel: () => null });
    expect(set.observe([])).toEqual({ alerts: [], flagged: new Map() });
    const base = toStoredFlows(ordinaryTraffic({ seed: 1 }).slice(0, 1))[0];
    const weird: StoredFlow[] = [
      { ...base, bytes: Number.MAX_VALUE, bytesToDst: Number.MAX_VALUE, bytesToSrc: 0, dst: '8.8.8.8', lastSeenMs: Number.MAX_SAFE_INTEGER },
      { ...base, firstSeenMs: 0, lastSeenMs: 0, packetsToDst: Number.MAX_SAFE_INTEGER, tcpFlagsToDst: 255, tcpFlagsToSrc: 255 },
      asStoredFlow({ ...base, l7: { dnsQuery: `${'x'.repeat(63)}.${'.'.repeat(3)}` }, dport: 53 }),
      asStoredFlow({ ...base, l7: { dnsQuery: '.' }, sport: 53 }),
      { ...base, src: '::', dst: 'ff02::1', ipProto: 255, proto: 'ip-255' },
    ];
    expect(() => set.observe(weird)).not.toThrow();
    expect(Object.values(set.stats()).every((s) => s.errors === 0)).toBe(true);
  });
});
