import type { AlertCandidate, StoredFlow } from '../../types.js';
import { Level } from '../../types.js';
import { Cooldown } from './cooldown.js';
import { addFlowId, batchTimeMs, emptyResult, raiseFlag, sampleWith, type Detector, type DetectorResult, type DetectorStats } from './detector.js';
import { formatCount, formatDuration, formatEndpoint, formatPercent } from './format.js';
import { DistinctTable, type WindowedDistinct } from './windowed-distinct.js';

/**
 * SYN floods: many half-open TCP connections to one destination (address and port) within a
 * short window (default >= 200 in 10 s).
 *
 * Half-open: the initiator sent SYN and never an ACK, in a few packets. That holds whether the
 * victim answered SYN-ACK (the agent on the victim sees its answers go out to spoofed sources) or
 * not (overwhelmed, or the agent sits on the attacker's side); which of the two is kept as
 * evidence. Distinct (source, source port) pairs are counted, so a flow seen by the agents at
 * both ends counts once.
 *
 * The subject: when one source sent at least `dominantShare` (default half) of the half-open
 * connections, it is the attacker: subject = that source, target = the victim. Otherwise the
 * flood is distributed or spoofed and no single source is to blame: subject = the victim, with
 * the number of sources and the busiest few as evidence. One alert per victim address and port
 * per cooldown; while it lasts, half-open flows to it are flagged.
 */
export interface SynFloodOptions {
  windowMs?: number;
  minHalfOpen?: number;
  dominantShare?: number;
  /** Initiator packets at most, for a flow to count as half-open (SYN and its retransmissions). */
  maxPackets?: number;
  cooldownMs?: number;
  maxTrackedKeys?: number;
  maxTotalElements?: number;
}

const DETECTOR = 'syn-flood/1';
const TCP = 6;
const SYN = 0x02;
const ACK = 0x10;
const SYN_ACK = SYN | ACK;
const TOP_SOURCES = 5;

export class SynFloodDetector implements Detector {
  readonly name = DETECTOR;
  private readonly targets: DistinctTable;
  private readonly cooldown: Cooldown;
  private readonly windowMs: number;
  private readonly minHalfOpen: number;
  private readonly dominantShare: number;
  private readonly maxPackets: number;
  private watermarkMs = 0;
  private alertCount = 0;

  constructor(opts: SynFloodOptions = {}) {
    this.windowMs = opts.windowMs ?? 10_000;
    this.minHalfOpen = opts.minHalfOpen ?? 200;
    this.dominantShare = opts.dominantShare ?? 0.5;
    this.maxPackets = opts.maxPackets ?? 8;
    this.targets = new DistinctTable({
      windowMs: this.windowMs,
      maxKeys: opts.maxTrackedKeys ?? 20_000,
      maxElementsPerKey: 10 * this.minHalfOpen,
      maxTotalElements: opts.maxTotalElements ?? 200_000,
    });
    this.cooldown = new Cooldown(opts.cooldownMs ?? 300_000);
  }

  isHalfOpen(f: StoredFlow): boolean {
    return (
      f.ipProto === TCP && (f.tcpFlagsToDst & SYN) !== 0 && (f.tcpFlagsToDst & ACK) === 0 && f.packetsToDst <= this.maxPackets
    );
  }

  observe(flows: readonly StoredFlow[]): DetectorResult {
    const result = emptyResult();
    this.watermarkMs = Math.max(this.watermarkMs, batchTimeMs(flows, (f) => f.firstSeenMs));
    // Alerts are built after the whole batch is counted, so their numbers include all of it.
    const crossed = new Map<string, { flow: StoredFlow; set: WindowedDistinct }>();
    for (let i = 0; i < flows.length; i++) {
      const f = flows[i];
      if (!this.isHalfOpen(f)) continue;
      const ms = f.firstSeenMs;
      const key = `${f.dst}|${f.dport}`;
      const answered = (f.tcpFlagsToSrc & SYN_ACK) === SYN_ACK ? 1 : 0;
      const set = this.targets.add(key, `${f.src}|${f.sport}`, ms, answered, true);
      if (set === undefined) continue;
      addFlowId(set.flowIds, f.flowId);
      if (set.size >= this.minHalfOpen && this.cooldown.tryStart(key, ms)) crossed.set(key, { flow: f, set });
    }
    const raised = new Map<string, AlertCandidate>();
    for (const [key, { flow, set }] of crossed) raised.set(key, this.buildAlert(flow, set));
    if (this.cooldown.size > 0) {
      for (let i = 0; i < flows.length; i++) {
        const f = flows[i];
        if (!this.isHalfOpen(f)) continue;
        const key = `${f.dst}|${f.dport}`;
        if (!this.cooldown.active(key, f.firstSeenMs)) continue;
        raiseFlag(result.flagged, i, Level.malicious);
        const alert = raised.get(key);
        if (alert !== undefined) addFlowId(alert.flowIds, f.flowId);
      }
    }
    this.targets.expire(this.watermarkMs);
    result.alerts.push(...raised.values());
    this.alertCount += raised.size;
    return result;
  }

  stats(): DetectorStats {
    return { trackedKeys: this.targets.size, evictedKeys: this.targets.evictions, alerts: this.alertCount };
  }

  private buildAlert(f: StoredFlow, set: WindowedDistinct): AlertCandidate {
    const perSource = new Map<string, number>();
    for (const element of set.elements()) {
      const src = element.slice(0, element.lastIndexOf('|'));
      perSource.set(src, (perSource.get(src) ?? 0) + 1);
    }
    const ranked = [...perSource.entries()].sort((a, b) => b[1] - a[1]);
    const halfOpen = set.size;
    const [topSource, topCount] = ranked[0];
    const dominant = topCount / halfOpen >= this.dominantShare;
    const firstSeenMs = set.oldestMs();
    const lastSeenMs = Math.max(set.newestMs, f.lastSeenMs);
    const victim = formatEndpoint(f.dst, f.dport);
    const took = formatDuration(lastSeenMs - firstSeenMs);
    const atLeast = halfOpen >= 10 * this.minHalfOpen ? 'at least ' : '';
    const summary = dominant
      ? `${topSource} sent ${atLeast}${formatCount(topCount)} half-open connections (SYN, no handshake) to ${victim} in ${took}`
      : `${victim} got ${atLeast}${formatCount(halfOpen)} half-open connections from ` +
        `${formatCount(perSource.size)} sources in ${took} (SYN flood)`;
    return {
      kind: 'syn_flood',
      level: 'malicious',
      agentId: f.agentId,
      hostname: f.hostname,
      subject: dominant ? topSource : f.dst,
      target: f.dst,
      detector: DETECTOR,
      summary,
      evidence: {
        targetPort: f.dport,
        halfOpen,
        distinctSources: perSource.size,
        topSources: ranked.slice(0, TOP_SOURCES).map(([address, count]) => ({ address, count })),
        dominantSourceShare: Math.round((topCount / halfOpen) * 1000) / 1000,
        answeredWithSynAck: formatPercent(set.tagSum / halfOpen),
        windowMs: this.windowMs,
        threshold: this.minHalfOpen,
      },
      firstSeenMs,
      lastSeenMs,
      flowIds: sampleWith(set.flowIds, f.flowId),
    };
  }
}
