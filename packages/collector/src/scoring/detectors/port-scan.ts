import type { AlertCandidate, StoredFlow } from '../../types.js';
import { Level } from '../../types.js';
import { Cooldown } from './cooldown.js';
import { addFlowId, batchTimeMs, emptyResult, raiseFlag, sampleWith, type Detector, type DetectorResult, type DetectorStats } from './detector.js';
import { formatCount, formatDuration, formatPercent } from './format.js';
import { DistinctTable, type WindowedDistinct } from './windowed-distinct.js';

/**
 * Port scans: one source touching many distinct (host, port) pairs within a window, mostly
 * without an answer.
 *
 * - vertical: >= minPortsPerHost distinct ports on one host;
 * - horizontal: >= minHostsPerPort distinct hosts on one port (ICMP echo counts as a port,
 *   so ping sweeps are caught too);
 * and in both cases at least minFailureRatio of those pairs failed. A TCP probe failed when no
 * SYN-ACK came back (silence or RST); a UDP or ICMP probe failed when nothing came back at all.
 * TCP flows that start mid-connection (ACK without SYN: the later pieces of long flows) are not
 * probes and are ignored; FIN/NULL/Xmas probes are counted.
 *
 * Keys span agents: a horizontal scan of 40 hosts shows up as one probe on each host's agent, and
 * only the collector sees all of them. Counting distinct pairs means a flow seen by both ends'
 * agents counts once. The busy-but-benign cases (a browser opening 40 HTTPS servers, a monitoring
 * server scraping 50 hosts) are answered, so the failure ratio keeps them quiet.
 *
 * A key is created only by a failed probe, so ordinary answered traffic costs no state and cannot
 * push a scan's key out of the table (answered probes before the first failure are not counted).
 * One alert per source and kind of scan per cooldown; while it lasts, that source's failed
 * probes are flagged.
 */
export interface PortScanOptions {
  windowMs?: number;
  minPortsPerHost?: number;
  minHostsPerPort?: number;
  minFailureRatio?: number;
  cooldownMs?: number;
  level?: 'suspicious' | 'malicious';
  maxTrackedKeys?: number;
  /** Distinct ports (or hosts) remembered per key; counts stop there ("at least"). */
  maxElementsPerKey?: number;
  maxTotalElements?: number;
}

const DETECTOR = 'port-scan/1';
const TCP = 6;
const UDP = 17;
const ICMP = 1;
const ICMPV6 = 58;
const SYN = 0x02;
const ACK = 0x10;
const SYN_ACK = SYN | ACK;
const ICMP_ECHO_REQUEST = 8;
const ICMPV6_ECHO_REQUEST = 128;
const MAX_SAMPLES = 20;

type Outcome = 'failed' | 'answered' | null;
type ScanKind = 'vertical' | 'horizontal';
interface Crossing {
  flow: StoredFlow;
  kind: ScanKind;
  set: WindowedDistinct;
}

/** Whether a flow is a probe, and whether it failed; null when it is not a probe. */
export function probeOutcome(f: StoredFlow): Outcome {
  if (f.ipProto === TCP) {
    // Mid-connection pieces of long flows have ACK but no SYN from the initiator.
    if ((f.tcpFlagsToDst & ACK) !== 0 && (f.tcpFlagsToDst & SYN) === 0) return null;
    return (f.tcpFlagsToSrc & SYN_ACK) === SYN_ACK ? 'answered' : 'failed';
  }
  if (f.ipProto === UDP) return f.packetsToSrc === 0 ? 'failed' : 'answered';
  if ((f.ipProto === ICMP && f.sport === ICMP_ECHO_REQUEST) || (f.ipProto === ICMPV6 && f.sport === ICMPV6_ECHO_REQUEST)) {
    return f.packetsToSrc === 0 ? 'failed' : 'answered';
  }
  return null;
}

function portLabel(f: StoredFlow): string {
  if (f.ipProto === TCP) return `${f.dport}/tcp`;
  if (f.ipProto === UDP) return `${f.dport}/udp`;
  return 'icmp-echo';
}

export class PortScanDetector implements Detector {
  readonly name = DETECTOR;
  private readonly vertical: DistinctTable;
  private readonly horizontal: DistinctTable;
  private readonly cooldown: Cooldown;
  private readonly windowMs: number;
  private readonly minPorts: number;
  private readonly minHosts: number;
  private readonly minFailureRatio: number;
  private readonly level: Level;
  private readonly maxElements: number;
  private watermarkMs = 0;
  private alertCount = 0;

  constructor(opts: PortScanOptions = {}) {
    this.windowMs = opts.windowMs ?? 60_000;
    this.minPorts = opts.minPortsPerHost ?? 50;
    this.minHosts = opts.minHostsPerPort ?? 30;
    this.minFailureRatio = opts.minFailureRatio ?? 0.5;
    this.level = Level[opts.level ?? 'suspicious'];
    this.maxElements = Math.max(opts.maxElementsPerKey ?? 1024, this.minPorts, this.minHosts);
    const table = {
      windowMs: this.windowMs,
      maxKeys: opts.maxTrackedKeys ?? 20_000,
      maxElementsPerKey: this.maxElements,
      maxTotalElements: opts.maxTotalElements ?? 200_000,
    };
    this.vertical = new DistinctTable(table);
    this.horizontal = new DistinctTable(table);
    this.cooldown = new Cooldown(opts.cooldownMs ?? 300_000);
  }

  observe(flows: readonly StoredFlow[]): DetectorResult {
    const result = emptyResult();
    this.watermarkMs = Math.max(this.watermarkMs, batchTimeMs(flows, (f) => f.firstSeenMs));
    // Alerts are built after the whole batch is counted, so their numbers include all of it.
    const crossed = new Map<string, Crossing>();
    for (let i = 0; i < flows.length; i++) {
      const f = flows[i];
      const outcome = probeOutcome(f);
      if (outcome === null) continue;
      const ms = f.firstSeenMs;
      const failed = outcome === 'failed';
      const port = portLabel(f);
      const v = this.vertical.add(`${f.src}>${f.dst}`, port, ms, failed ? 1 : 0, failed);
      const h = this.horizontal.add(`${f.src}>${port}`, f.dst, ms, failed ? 1 : 0, failed);
      if (v !== undefined) this.check(f, failed, 'vertical', v, this.minPorts, crossed);
      if (h !== undefined) this.check(f, failed, 'horizontal', h, this.minHosts, crossed);
    }
    const raised = new Map<string, AlertCandidate>();
    for (const [key, c] of crossed) raised.set(key, this.buildAlert(c.flow, c.kind, c.set));
    if (this.cooldown.size > 0) this.flagProbesOfScanners(flows, result, raised);
    this.vertical.expire(this.watermarkMs);
    this.horizontal.expire(this.watermarkMs);
    result.alerts.push(...raised.values());
    this.alertCount += raised.size;
    return result;
  }

  /** Failed probes from a source under an alert are flagged, earlier ones in the batch too. */
  private flagProbesOfScanners(flows: readonly StoredFlow[], result: DetectorResult, raised: Map<string, AlertCandidate>): void {
    for (let i = 0; i < flows.length; i++) {
      const f = flows[i];
      if (probeOutcome(f) !== 'failed') continue;
      for (const kind of ['vertical', 'horizontal'] as const) {
        const key = `${f.src}|${kind}`;
        if (!this.cooldown.active(key, f.firstSeenMs)) continue;
        raiseFlag(result.flagged, i, this.level);
        const alert = raised.get(key);
        if (alert !== undefined) addFlowId(alert.flowIds, f.flowId);
      }
    }
  }

  stats(): DetectorStats {
    return {
      trackedKeys: this.vertical.size + this.horizontal.size,
      evictedKeys: this.vertical.evictions + this.horizontal.evictions,
      alerts: this.alertCount,
    };
  }

  private check(
    f: StoredFlow,
    failed: boolean,
    kind: ScanKind,
    set: WindowedDistinct,
    threshold: number,
    crossed: Map<string, Crossing>,
  ): void {
    if (failed) addFlowId(set.flowIds, f.flowId);
    if (set.size < threshold || set.tagSum / set.size < this.minFailureRatio) return;
    const cooldownKey = `${f.src}|${kind}`;
    if (!this.cooldown.tryStart(cooldownKey, f.firstSeenMs)) return;
    crossed.set(cooldownKey, { flow: f, kind, set });
  }

  private buildAlert(f: StoredFlow, kind: ScanKind, set: WindowedDistinct): AlertCandidate {
    const distinct = set.size;
    const failureRatio = set.tagSum / distinct;
    const firstSeenMs = set.oldestMs();
    const lastSeenMs = Math.max(set.newestMs, f.lastSeenMs);
    const took = formatDuration(lastSeenMs - firstSeenMs);
    const count = `${distinct >= this.maxElements ? 'at least ' : ''}${formatCount(distinct)}`;
    const samples = [...set.elements()].slice(0, MAX_SAMPLES);
    const port = portLabel(f);
    const what = kind === 'vertical' ? `${count} ports on ${f.dst}` : `${port === 'icmp-echo' ? 'with ICMP echo' : `port ${port} on`} ${count} hosts`;
    const summary = `${f.src} probed ${what} in ${took}; ${formatPercent(failureRatio)} got no answer`;
    return {
      kind: 'port_scan',
      level: this.level === Level.malicious ? 'malicious' : 'suspicious',
      agentId: f.agentId,
      hostname: f.hostname,
      subject: f.src,
      ...(kind === 'vertical' ? { target: f.dst } : {}),
      detector: DETECTOR,
      summary,
      evidence: {
        scan: kind,
        ...(kind === 'vertical'
          ? { distinctPorts: distinct, samplePorts: samples }
          : { port, distinctHosts: distinct, sampleHosts: samples }),
        failureRatio: Math.round(failureRatio * 1000) / 1000,
        windowMs: this.windowMs,
        threshold: kind === 'vertical' ? this.minPorts : this.minHosts,
      },
      firstSeenMs,
      lastSeenMs,
      flowIds: sampleWith(set.flowIds, f.flowId),
    };
  }
}
