import { AgentId, FlowRecord } from '@nta/shared';
import { describe, expect, it } from 'vitest';
import { attackTraffic, mixedTraffic, ordinaryTraffic, TEST_NETWORK, type TrafficLabel } from './test-traffic.js';

describe('test-traffic', () => {
  it('test-traffic - every flow passes the wire schema and comes with a valid agent', () => {
    for (const l of mixedTraffic({ seed: 3 })) {
      const parsed = FlowRecord.safeParse(l.flow);
      if (!parsed.success) throw new Error(`${l.label}: ${parsed.error.message}`);
      expect(AgentId.safeParse(l.agentId).success).toBe(true);
    }
  });

  it('test-traffic - is deterministic per seed and differs between seeds', () => {
    expect(JSON.stringify(ordinaryTraffic({ seed: 5, durationMs: 120_000 }))).toBe(JSON.stringify(ordinaryTraffic({ seed: 5, durationMs: 120_000 })));
    expect(JSON.stringify(ordinaryTraffic({ seed: 6, durationMs: 120_000 }))).not.toBe(JSON.stringify(ordinaryTraffic({ seed: 5, durationMs: 120_000 })));
  });

  it('test-traffic - flows come in emission order and a flow between two agents is reported by both', () => {
    const flows = mixedTraffic({ seed: 4 });
    for (let i = 1; i < flows.length; i++) expect(flows[i].flow.lastSeenMs).toBeGreaterThanOrEqual(flows[i - 1].flow.lastSeenMs);
    const query = flows.find((l) => l.flow.dport === 53 && l.flow.dst === TEST_NETWORK.resolver && l.label === 'ordinary');
    if (query === undefined) throw new Error('no DNS query to the resolver');
    const both = flows.filter((l) => l.flow.sport === query.flow.sport && l.flow.src === query.flow.src && l.flow.firstSeenMs === query.flow.firstSeenMs);
    expect(both.map((l) => l.agentId).sort()).toEqual(['dns-1', query.agentId].sort());
    expect(new Set(both.map((l) => l.flow.flowId)).size).toBe(2);
    expect(new Set(flows.map((l) => l.flow.flowId)).size).toBe(flows.length);
  });

  it('test-traffic - the attacks are there as documented', () => {
    const counts = new Map<TrafficLabel, number>();
    for (const l of attackTraffic({ seed: 1 })) counts.set(l.label, (counts.get(l.label) ?? 0) + 1);
    expect(Object.fromEntries(counts)).toEqual({
      port_scan_vertical: 250,
      port_scan_horizontal: 48, // 40 workstations + 8 servers, each seen by its own agent
      syn_flood_spoofed: 3000,
      syn_flood_single: 800,
      dns_tunnel_base32: 900, // 300 queries seen by client and resolver, 300 forwarded upstream
      dns_tunnel_hex: 450,
      exfiltration: 4,
    });
    const exfil = attackTraffic({ seed: 1 }).filter((l) => l.label === 'exfiltration');
    expect(exfil.reduce((s, l) => s + l.flow.bytesToDst, 0)).toBe(TEST_NETWORK.attack.exfilBytes);
  });
});
