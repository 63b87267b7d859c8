import type { FlowRecord } from '@nta/shared';
import type { StoredFlow } from '../types.js';
import { Level } from '../types.js';
import { seededRandom, type SeededRandom } from './seeded-random.js';
import { dnsTunnel, exfiltration, horizontalScan, plantedOutliers, synFlood, verticalScan } from './test-traffic/attacks.js';
import { seededUuid } from './test-traffic/flow-builder.js';
import { TEST_NETWORK, observers, serverAddresses, workstationAddress, type Agent } from './test-traffic/network.js';
import { ordinaryFlows } from './test-traffic/ordinary.js';

/**
 * Labelled synthetic traffic for tests (unit here, end-to-end for the collector): an office
 * network (TEST_NETWORK: a resolver, servers, 40 workstations, an agent on each) producing
 * ordinary traffic, plus attacks with known attackers and victims. Deterministic per seed.
 *
 * Each flow is reported by the agent at each end that runs one, as the real fleet would (a
 * workstation's DNS query appears twice: from the workstation's agent and the resolver's, with
 * different flow ids). Flows come sorted by lastSeenMs, the order agents emit them in.
 *
 * Usage:
 *   const flows = mixedTraffic({ seed: 7 });              // ordinary + every attack
 *   const stored = toStoredFlows(flows);                 // StoredFlow with neutral enrichment
 *   for (const batch of inBatches(stored, 500)) detectors.observe(batch);
 *   // or publish: group `flows` by agentId into FlowBatch messages.
 */
export { TEST_NETWORK, workstationAddress } from './test-traffic/network.js';
export { buildFlow, type FlowSpec, type TcpShape } from './test-traffic/flow-builder.js';
export { seededRandom } from './seeded-random.js';
export { dnsTunnel, exfiltration, horizontalScan, plantedOutliers, synFlood, verticalScan } from './test-traffic/attacks.js';
export type { Agent } from './test-traffic/network.js';

export type TrafficLabel =
  | 'ordinary'
  | 'port_scan_vertical'
  | 'port_scan_horizontal'
  | 'syn_flood_spoofed'
  | 'syn_flood_single'
  | 'dns_tunnel_base32'
  | 'dns_tunnel_hex'
  | 'exfiltration'
  | 'outlier';

export interface LabelledFlow extends Agent {
  flow: FlowRecord;
  label: TrafficLabel;
}

export interface TrafficOptions {
  seed?: number;
  /** Default 2026-01-05T09:00:00Z. */
  startMs?: number;
  /** Default 10 minutes. */
  durationMs?: number;
  /** Default 40 (at least 33: attackers live among them). */
  workstations?: number;
}

export const DEFAULT_TRAFFIC_START_MS = Date.UTC(2026, 0, 5, 9, 0, 0);

interface Resolved {
  rng: SeededRandom;
  startMs: number;
  durationMs: number;
  workstations: number;
}

function resolve(opts: TrafficOptions, salt: number): Resolved {
  return {
    rng: seededRandom((opts.seed ?? 1) * 7919 + salt),
    startMs: opts.startMs ?? DEFAULT_TRAFFIC_START_MS,
    durationMs: opts.durationMs ?? 600_000,
    workstations: Math.max(33, opts.workstations ?? 40),
  };
}

function label(flows: readonly FlowRecord[], l: TrafficLabel, r: Resolved): LabelledFlow[] {
  const out: LabelledFlow[] = [];
  for (const flow of flows) {
    observers(flow, r.workstations).forEach((agent, i) => {
      // The second observer's agent gives the same flow its own id.
      out.push({ flow: i === 0 ? flow : { ...flow, flowId: seededUuid(r.rng) }, label: l, ...agent });
    });
  }
  return out;
}

function byEmission(flows: LabelledFlow[]): LabelledFlow[] {
  return flows.sort((a, b) => a.flow.lastSeenMs - b.flow.lastSeenMs || a.flow.firstSeenMs - b.flow.firstSeenMs);
}

/** Ordinary traffic only: what no detector may alert on. */
export function ordinaryTraffic(opts: TrafficOptions = {}): LabelledFlow[] {
  const r = resolve(opts, 1);
  return byEmission(label(ordinaryFlows(r.rng, r), 'ordinary', r));
}

/**
 * Every attack once, at fixed offsets from the start: vertical scan (+60 s, 250 ports on
 * 10.0.0.10 from 10.0.0.66), horizontal scan (+120 s, port 22 on every host from 10.0.0.67),
 * spoofed SYN flood (+180 s, 3,000 to 10.0.0.80:443 in 8 s), single-source SYN flood (+200 s,
 * 800 from 203.0.113.66 to 10.0.0.80:80 in 5 s), base32 DNS tunnel (+240 s, 300 queries from
 * 10.0.0.124 in 60 s), hex DNS tunnel (+300 s, 150 queries from 10.0.0.125 in 90 s), and a
 * 200 MB exfiltration (+330 s, 10.0.0.132 to 198.51.100.77 over 4 min).
 */
export function attackTraffic(opts: TrafficOptions = {}): LabelledFlow[] {
  const r = resolve(opts, 2);
  const { rng, startMs: t } = r;
  const A = TEST_NETWORK.attack;
  const fleet = [...Array.from({ length: r.workstations }, (_, i) => workstationAddress(i)), ...serverAddresses()];
  return byEmission([
    ...label(verticalScan(rng, t + 60_000), 'port_scan_vertical', r),
    ...label(horizontalScan(rng, t + 120_000, fleet, TEST_NETWORK.sshServers), 'port_scan_horizontal', r),
    ...label(synFlood(rng, t + 180_000, { spoofed: true, count: 3000, spanMs: 8000 }), 'syn_flood_spoofed', r),
    ...label(synFlood(rng, t + 200_000, { spoofed: false, count: 800, spanMs: 5000, source: A.singleFloodSource }), 'syn_flood_single', r),
    ...label(dnsTunnel(rng, t + 240_000, { encoding: 'base32', queries: 300, spanMs: 60_000 }), 'dns_tunnel_base32', r),
    ...label(dnsTunnel(rng, t + 300_000, { encoding: 'hex', queries: 150, spanMs: 90_000 }), 'dns_tunnel_hex', r),
    ...label(exfiltration(rng, t + 330_000), 'exfiltration', r),
  ]);
}

/** Flows unlike ordinary traffic, for testing the model (label 'outlier'). */
export function outlierTraffic(count: number, opts: TrafficOptions = {}): LabelledFlow[] {
  const r = resolve(opts, 3);
  return byEmission(label(plantedOutliers(r.rng, r.startMs + 30_000, count), 'outlier', r));
}

/** Ordinary traffic with every attack mixed in, in emission order. */
export function mixedTraffic(opts: TrafficOptions = {}): LabelledFlow[] {
  return byEmission([...ordinaryTraffic(opts), ...attackTraffic(opts)]);
}

/** StoredFlows as the collector would hold them before scoring: no geo, score 0, level normal. */
export function toStoredFlows(flows: readonly LabelledFlow[]): StoredFlow[] {
  return flows.map((l) => asStoredFlow(l.flow, l));
}

/** One FlowRecord as a StoredFlow seen by `agent` (default `test-agent`). */
export function asStoredFlow(flow: FlowRecord, agent: Agent = { agentId: 'test-agent', hostname: 'test-agent.corp.example' }): StoredFlow {
  return {
    ...flow,
    agentId: agent.agentId,
    hostname: agent.hostname,
    srcCountry: null,
    dstCountry: null,
    srcAsn: null,
    dstAsn: null,
    score: 0,
    level: Level.normal,
    threat: null,
  };
}

export function inBatches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
