import type { AlertCandidate, Level, StoredFlow } from '../../types.js';
import type { ActiveModel } from '../model-store.js';
import { AnomalyDetector, type AnomalyDetectorOptions } from './anomaly.js';
import { raiseFlag, type Detector, type DetectorResult, type DetectorStats } from './detector.js';
import { DnsTunnelDetector, type DnsTunnelOptions } from './dns-tunnel.js';
import { PortScanDetector, type PortScanOptions } from './port-scan.js';
import { SynFloodDetector, type SynFloodOptions } from './syn-flood.js';
import { UploadVolumeDetector, type UploadVolumeOptions } from './upload-volume.js';

/**
 * Runs every detector over a batch and merges what they say: all alerts, and per flow the
 * highest level any detector raised it to. A detector that throws is counted and skipped for
 * that batch; the others still run, and nothing escapes to the ingest loop.
 */
export class DetectorSet {
  private readonly errors = new Map<string, number>();

  constructor(
    readonly detectors: readonly Detector[],
    private readonly onError?: (err: unknown, detector: string) => void,
  ) {}

  observe(flows: readonly StoredFlow[]): DetectorResult {
    const alerts: AlertCandidate[] = [];
    const flagged = new Map<number, Level>();
    if (flows.length === 0) return { alerts, flagged };
    for (const d of this.detectors) {
      try {
        const r = d.observe(flows);
        alerts.push(...r.alerts);
        for (const [index, level] of r.flagged) raiseFlag(flagged, index, level);
      } catch (err) {
        this.errors.set(d.name, (this.errors.get(d.name) ?? 0) + 1);
        this.onError?.(err, d.name);
      }
    }
    return { alerts, flagged };
  }

  stats(): Record<string, DetectorStats & { errors: number }> {
    const out: Record<string, DetectorStats & { errors: number }> = {};
    for (const d of this.detectors) out[d.name] = { ...d.stats(), errors: this.errors.get(d.name) ?? 0 };
    return out;
  }
}

export interface DetectorSetOptions {
  /** The model to grade anomaly alerts with (usually `() => modelManager.model`); no anomaly alerts without it. */
  currentModel?: () => ActiveModel | null;
  portScan?: PortScanOptions;
  synFlood?: SynFloodOptions;
  dnsTunnel?: DnsTunnelOptions;
  uploadVolume?: UploadVolumeOptions;
  anomaly?: AnomalyDetectorOptions;
  onError?: (err: unknown, detector: string) => void;
}

/** The standard set: port scan, SYN flood, DNS tunnelling, upload volume, and model anomalies. */
export function createDetectorSet(opts: DetectorSetOptions = {}): DetectorSet {
  const detectors: Detector[] = [
    new PortScanDetector(opts.portScan),
    new SynFloodDetector(opts.synFlood),
    new DnsTunnelDetector(opts.dnsTunnel),
    new UploadVolumeDetector(opts.uploadVolume),
  ];
  if (opts.currentModel !== undefined) detectors.push(new AnomalyDetector(opts.currentModel, opts.anomaly));
  return new DetectorSet(detectors, opts.onError);
}
