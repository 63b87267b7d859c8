import type { AlertCandidate, StoredFlow } from '../../types.js';
import { Level } from '../../types.js';
import { BoundedMap } from './bounded-map.js';
import { Cooldown } from './cooldown.js';
import { addFlowId, batchTimeMs, emptyResult, raiseFlag, sampleWith, type Detector, type DetectorResult, type DetectorStats } from './detector.js';
import { formatBytes, formatDuration } from './format.js';
import { isInternalAddress } from './internal-address.js';

/**
 * Unusual upload volume: a source sending much data to one external destination.
 *
 * Per (agent, source, destination), bytes each way are summed over a sliding window (default
 * 10 min, in 1-min buckets; a flow counts in the bucket of its lastSeenMs, and long flows arrive
 * as active-timeout pieces, so a big transfer fills several buckets). It alerts when, within the
 * window, the source sent >= minBytes (default 50 MB), that is > 90% of the pair's bytes, and
 * more than `baselineMultiplier` (5) times what the source usually uploads to external
 * addresses in a window. The usual amount is a per-source moving average of external upload per
 * bucket (about an hour of memory), so a host that uploads that much all the time (a cloud backup,
 * a video uplink) alerts once when first seen and then stops.
 *
 * Destinations inside the organisation (private, loopback, link-local, CGNAT, multicast; or the
 * `isInternal` option) are not watched: a backup server copying hundreds of MB to an internal
 * storage host is normal and does not alert. Keys include the agent: each observer's totals are
 * its own, so one transfer seen by two agents is not counted twice.
 */
export interface UploadVolumeOptions {
  windowMs?: number;
  bucketMs?: number;
  minBytes?: number;
  minUploadShare?: number;
  baselineMultiplier?: number;
  /** Weight of each finished bucket in the per-source average (default 1/60). */
  baselineAlpha?: number;
  isInternal?: (address: string) => boolean;
  cooldownMs?: number;
  maxTrackedPairs?: number;
  maxTrackedSources?: number;
}

const DETECTOR = 'upload-volume/1';

/** Per-slot fields of the bucket ring, in one array per pair (one allocation). */
const SLOT_BUCKET = 0;
const SLOT_TO_DST = 1;
const SLOT_TO_SRC = 2;
const SLOT_FIRST_MS = 3;
const SLOT_FIELDS = 4;

interface PairState {
  /** Ring of buckets: bucket number, bytes to dst, bytes to src, earliest firstSeenMs. */
  slots: Float64Array;
  newestBucket: number;
  /** Sums over the buckets in the window, kept up to date as buckets enter and leave. */
  windowToDst: number;
  windowToSrc: number;
  lastMs: number;
  flowIds: string[];
}

interface SourceBaseline {
  bucket: number;
  bucketBytes: number;
  /** Moving average of external upload per bucket. */
  perBucket: number;
}

export class UploadVolumeDetector implements Detector {
  readonly name = DETECTOR;
  private readonly pairs: BoundedMap<string, PairState>;
  private readonly sources: BoundedMap<string, SourceBaseline>;
  private readonly cooldown: Cooldown;
  private readonly buckets: number;
  private readonly bucketMs: number;
  private readonly minBytes: number;
  private readonly minShare: number;
  private readonly multiplier: number;
  private readonly alpha: number;
  private readonly isInternal: (address: string) => boolean;
  private watermarkMs = 0;
  private alertCount = 0;

  constructor(opts: UploadVolumeOptions = {}) {
    this.bucketMs = opts.bucketMs ?? 60_000;
    this.buckets = Math.max(1, Math.round((opts.windowMs ?? 600_000) / this.bucketMs));
    this.minBytes = opts.minBytes ?? 50_000_000;
    this.minShare = opts.minUploadShare ?? 0.9;
    this.multiplier = opts.baselineMultiplier ?? 5;
    this.alpha = opts.baselineAlpha ?? 1 / 60;
    this.isInternal = opts.isInternal ?? isInternalAddress;
    this.pairs = new BoundedMap(opts.maxTrackedPairs ?? 20_000);
    this.sources = new BoundedMap(opts.maxTrackedSources ?? 20_000);
    this.cooldown = new Cooldown(opts.cooldownMs ?? 600_000);
  }

  get windowMs(): number {
    return this.buckets * this.bucketMs;
  }

  observe(flows: readonly StoredFlow[]): DetectorResult {
    const result = emptyResult();
    this.watermarkMs = Math.max(this.watermarkMs, batchTimeMs(flows, (f) => f.lastSeenMs));
    const crossed = new Map<string, { flow: StoredFlow; state: PairState; baseline: number }>();
    const keyOf: (string | undefined)[] = new Array<string | undefined>(flows.length);
    for (let i = 0; i < flows.length; i++) {
      const f = flows[i];
      if (f.bytesToDst <= 0 || this.isInternal(f.dst)) continue;
      const ms = f.lastSeenMs;
      const bucket = Math.floor(ms / this.bucketMs);
      const baseline = this.updateBaseline(f.src, bucket, f.bytesToDst);
      const key = `${f.agentId}|${f.src}|${f.dst}`;
      keyOf[i] = key;
      const state = this.pairs.upsert(key, () => this.newPair(bucket));
      if (!this.addToPair(state, bucket, f)) continue;
      addFlowId(state.flowIds, f.flowId);
      const toDst = state.windowToDst;
      const toSrc = state.windowToSrc;
      if (toDst < this.minBytes || toDst / (toDst + toSrc) <= this.minShare) continue;
      if (toDst < this.multiplier * baseline * this.buckets) continue;
      if (this.cooldown.tryStart(key, ms)) crossed.set(key, { flow: f, state, baseline });
    }
    const raised = new Map<string, AlertCandidate>();
    for (const [key, c] of crossed) raised.set(key, this.buildAlert(c.flow, c.state, c.baseline));
    if (this.cooldown.size > 0) {
      for (let i = 0; i < flows.length; i++) {
        const key = keyOf[i];
        if (key === undefined || !this.cooldown.active(key, flows[i].lastSeenMs)) continue;
        raiseFlag(result.flagged, i, Level.suspicious);
        const alert = raised.get(key);
        if (alert !== undefined) addFlowId(alert.flowIds, flows[i].flowId);
      }
    }
    const horizonMs = this.watermarkMs - this.windowMs;
    this.pairs.evictWhile((s) => s.lastMs < horizonMs);
    result.alerts.push(...raised.values());
    this.alertCount += raised.size;
    return result;
  }

  stats(): DetectorStats {
    return {
      trackedKeys: this.pairs.size + this.sources.size,
      evictedKeys: this.pairs.evictions + this.sources.evictions,
      alerts: this.alertCount,
    };
  }

  private newPair(bucket: number): PairState {
    const slots = new Float64Array(this.buckets * SLOT_FIELDS);
    for (let i = 0; i < this.buckets; i++) slots[i * SLOT_FIELDS + SLOT_BUCKET] = -1;
    return { slots, newestBucket: bucket, windowToDst: 0, windowToSrc: 0, lastMs: 0, flowIds: [] };
  }

  /** Adds a flow's bytes to its bucket; false when it is too late for the window. */
  private addToPair(s: PairState, bucket: number, f: StoredFlow): boolean {
    if (bucket <= s.newestBucket - this.buckets) return false;
    if (bucket > s.newestBucket) {
      // Buckets leaving the window (those <= bucket - buckets) take their bytes with them.
      const lastLeaving = Math.min(s.newestBucket, bucket - this.buckets);
      for (let b = s.newestBucket - this.buckets + 1; b <= lastLeaving; b++) this.clearSlot(s, b);
      s.newestBucket = bucket;
    }
    const at = (bucket % this.buckets) * SLOT_FIELDS;
    const slots = s.slots;
    if (slots[at + SLOT_BUCKET] !== bucket) {
      this.clearSlot(s, slots[at + SLOT_BUCKET]);
      slots[at + SLOT_BUCKET] = bucket;
      slots[at + SLOT_FIRST_MS] = f.firstSeenMs;
    }
    slots[at + SLOT_TO_DST] += f.bytesToDst;
    slots[at + SLOT_TO_SRC] += f.bytesToSrc;
    s.windowToDst += f.bytesToDst;
    s.windowToSrc += f.bytesToSrc;
    if (f.firstSeenMs < slots[at + SLOT_FIRST_MS]) slots[at + SLOT_FIRST_MS] = f.firstSeenMs;
    if (f.lastSeenMs > s.lastMs) s.lastMs = f.lastSeenMs;
    return true;
  }

  /** Empties the slot holding `bucket`, if it still does, and takes its bytes off the window sums. */
  private clearSlot(s: PairState, bucket: number): void {
    if (bucket < 0) return;
    const at = (bucket % this.buckets) * SLOT_FIELDS;
    if (s.slots[at + SLOT_BUCKET] !== bucket) return;
    s.windowToDst -= s.slots[at + SLOT_TO_DST];
    s.windowToSrc -= s.slots[at + SLOT_TO_SRC];
    s.slots[at + SLOT_BUCKET] = -1;
    s.slots[at + SLOT_TO_DST] = 0;
    s.slots[at + SLOT_TO_SRC] = 0;
  }

  private windowStartMs(s: PairState): number {
    let firstMs = Infinity;
    for (let at = 0; at < s.slots.length; at += SLOT_FIELDS) {
      if (s.slots[at + SLOT_BUCKET] > s.newestBucket - this.buckets && s.slots[at + SLOT_FIRST_MS] < firstMs) {
        firstMs = s.slots[at + SLOT_FIRST_MS];
      }
    }
    return firstMs;
  }

  /** Folds finished buckets into the source's average; returns the average as it was before this flow. */
  private updateBaseline(src: string, bucket: number, bytes: number): number {
    const b = this.sources.upsert(src, () => ({ bucket, bucketBytes: 0, perBucket: 0 }));
    if (bucket > b.bucket) {
      b.perBucket = b.perBucket * (1 - this.alpha) + this.alpha * b.bucketBytes;
      // Empty buckets in between pull the average down too.
      const gap = Math.min(bucket - b.bucket - 1, 10_000);
      if (gap > 0) b.perBucket *= (1 - this.alpha) ** gap;
      b.bucket = bucket;
      b.bucketBytes = 0;
    }
    const before = b.perBucket;
    b.bucketBytes += bytes;
    return before;
  }

  private buildAlert(f: StoredFlow, s: PairState, baselinePerBucket: number): AlertCandidate {
    const toDst = s.windowToDst;
    const toSrc = s.windowToSrc;
    const firstMs = this.windowStartMs(s);
    const usual = baselinePerBucket * this.buckets;
    const took = formatDuration(s.lastMs - firstMs);
    const usualText = usual >= 1 ? ` (usually ${formatBytes(usual)} per ${formatDuration(this.windowMs)})` : '';
    return {
      kind: 'upload_volume',
      level: 'suspicious',
      agentId: f.agentId,
      hostname: f.hostname,
      subject: f.src,
      target: f.dst,
      detector: DETECTOR,
      summary: `${f.src} sent ${formatBytes(toDst)} to ${f.dst} in ${took} and received ${formatBytes(toSrc)}${usualText}`,
      evidence: {
        bytesToDst: toDst,
        bytesToSrc: toSrc,
        uploadShare: Math.round((toDst / (toDst + toSrc)) * 1000) / 1000,
        usualBytesPerWindow: Math.round(usual),
        windowMs: this.windowMs,
        thresholds: { minBytes: this.minBytes, minUploadShare: this.minShare, baselineMultiplier: this.multiplier },
      },
      firstSeenMs: firstMs,
      lastSeenMs: s.lastMs,
      flowIds: sampleWith(s.flowIds, f.flowId),
    };
  }
}
