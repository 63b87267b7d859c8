/**
 * From validated wire batches to stored flows: GeoIP labels, threat-intel hits, model
 * scores, detector verdicts and the alerts they raise. Pure given its lookups.
 */
import type { FlowBatch, FlowRecord } from '@nta/shared';
import type { AlertCandidate, StoredFlow } from '../types.js';
import { Level } from '../types.js';

export interface GeoLookup {
  /** ISO country for public addresses, the scope label otherwise, null if unknown. */
  countryLabel(ip: string): string | null;
  asn(ip: string): number | null;
}

export interface ThreatLookup {
  /** Feed or service names that list this address (empty when none). */
  match(ip: string): readonly string[];
}

export interface FlowScorer {
  scoreBatch(flows: readonly FlowRecord[]): { scores: ArrayLike<number>; levels: ArrayLike<number> };
}

/** The explicit detectors and the model's anomaly alerts. */
export interface FlowDetectors {
  observe(flows: readonly StoredFlow[]): { alerts: AlertCandidate[]; flagged: Map<number, Level> };
}

export interface Enrichment {
  geo?: GeoLookup;
  threats?: ThreatLookup;
  scorer?: FlowScorer;
  detectors?: FlowDetectors;
}

export interface Enriched {
  flows: StoredFlow[];
  alerts: AlertCandidate[];
}

const MAX_THREAT_ALERT_FLOWS = 20;

const toMicros = (ms: number): number => (Number.isInteger(ms) ? ms : Math.round(ms * 1000) / 1000);

export function enrichBatches(batches: readonly FlowBatch[], e: Enrichment): Enriched {
  const flows: StoredFlow[] = [];
  /** For flows with a threat hit: the listed address (the destination when both are). */
  const listed = new Map<number, string>();
  for (const b of batches) {
    const scored = e.scorer?.scoreBatch(b.flows);
    for (let i = 0; i < b.flows.length; i++) {
      const f = b.flows[i]!;
      const srcThreats = e.threats?.match(f.src) ?? [];
      const dstThreats = e.threats?.match(f.dst) ?? [];
      let threat: string | null = null;
      if (srcThreats.length + dstThreats.length > 0) {
        threat = [...new Set([...srcThreats, ...dstThreats])].join(',');
        listed.set(flows.length, dstThreats.length > 0 ? f.dst : f.src);
      }
      // Every field written out in one order: one object shape for all flows keeps the
      // property reads downstream (detectors, COPY encoding, live view) monomorphic.
      flows.push({
        flowId: f.flowId,
        // Rounded to the microsecond PostgreSQL keeps, so the hour and day derived from
        // these are the ones the stored timestamps fall in.
        firstSeenMs: toMicros(f.firstSeenMs),
        lastSeenMs: toMicros(f.lastSeenMs),
        family: f.family,
        ipProto: f.ipProto,
        proto: f.proto,
        src: f.src,
        dst: f.dst,
        sport: f.sport,
        dport: f.dport,
        vlan: f.vlan,
        packetsToDst: f.packetsToDst,
        packetsToSrc: f.packetsToSrc,
        bytesToDst: f.bytesToDst,
        bytesToSrc: f.bytesToSrc,
        packets: f.packets,
        bytes: f.bytes,
        tcpFlagsToDst: f.tcpFlagsToDst,
        tcpFlagsToSrc: f.tcpFlagsToSrc,
        endReason: f.endReason,
        l7: f.l7,
        features: f.features,
        agentId: b.agentId,
        hostname: b.hostname,
        srcCountry: e.geo?.countryLabel(f.src) ?? null,
        dstCountry: e.geo?.countryLabel(f.dst) ?? null,
        srcAsn: e.geo?.asn(f.src) ?? null,
        dstAsn: e.geo?.asn(f.dst) ?? null,
        score: scored ? Number(scored.scores[i]) : 0,
        level: (threat ? Level.malicious : scored ? Number(scored.levels[i]) : Level.normal) as Level,
        threat,
      });
    }
  }
  const alerts: AlertCandidate[] = [];
  if (e.detectors) {
    const verdict = e.detectors.observe(flows);
    for (const [index, level] of verdict.flagged) {
      const f = flows[index];
      if (f && level > f.level) f.level = level;
    }
    alerts.push(...verdict.alerts);
  }
  alerts.push(...threatAlerts(flows, listed));
  return { flows, alerts };
}

/** One threat_intel alert per listed address (and agent) per batch; the store merges repeats. */
function threatAlerts(flows: readonly StoredFlow[], listed: ReadonlyMap<number, string>): AlertCandidate[] {
  const byKey = new Map<string, AlertCandidate & { evidence: { feeds: string[]; flows: number; bytes: number; peers: string[] } }>();
  for (const [index, subject] of listed) {
    const f = flows[index]!;
    const peer = subject === f.dst ? f.src : f.dst;
    const key = `${f.agentId}|${subject}`;
    let a = byKey.get(key);
    if (!a) {
      a = {
        kind: 'threat_intel',
        level: 'malicious',
        agentId: f.agentId,
        hostname: f.hostname,
        subject,
        target: peer,
        detector: 'threat-intel/1',
        summary: '',
        evidence: { feeds: [], flows: 0, bytes: 0, peers: [] },
        firstSeenMs: f.firstSeenMs,
        lastSeenMs: f.lastSeenMs,
        flowIds: [],
      };
      byKey.set(key, a);
    }
    const ev = a.evidence;
    ev.flows++;
    ev.bytes += f.bytes;
    if (ev.peers.length < 10 && !ev.peers.includes(peer)) ev.peers.push(peer);
    for (const feed of f.threat!.split(',')) if (!ev.feeds.includes(feed)) ev.feeds.push(feed);
    a.firstSeenMs = Math.min(a.firstSeenMs, f.firstSeenMs);
    a.lastSeenMs = Math.max(a.lastSeenMs, f.lastSeenMs);
    if (a.flowIds.length < MAX_THREAT_ALERT_FLOWS) a.flowIds.push(f.flowId);
    a.summary = `${subject} is on the ${ev.feeds.join(', ')} list; ${ev.flows} flow${ev.flows === 1 ? '' : 's'} with ${ev.peers.join(', ')}`;
  }
  return [...byKey.values()];
}
