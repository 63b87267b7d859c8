import type { AlertCandidate, StoredFlow } from '../../types.js';
import { Level } from '../../types.js';
import { topDeviations } from '../feature-profile.js';
import { FEATURE_COUNT, FEATURE_NAMES, writeFeatures } from '../features.js';
import type { ActiveModel } from '../model-store.js';
import { Cooldown } from './cooldown.js';
import { addFlowId, emptyResult, raiseFlag, type Detector, type DetectorResult, type DetectorStats } from './detector.js';
import { formatEndpoint } from './format.js';

/**
 * Anomaly alerts from the Isolation Forest: a flow whose score (StoredFlow.score, set from
 * ModelManager.scoreBatch) reaches the current model's malicious threshold raises an `anomaly`
 * alert about its source, once per source per cooldown (default 10 min). The evidence says why:
 * the score, the thresholds, and the three features furthest from the training median (in robust
 * spreads). If the model was replaced between scoring and this check, the new thresholds apply.
 */
export interface AnomalyDetectorOptions {
  cooldownMs?: number;
  topFeatures?: number;
}

export class AnomalyDetector implements Detector {
  readonly name = 'iforest';
  private readonly cooldown: Cooldown;
  private readonly topFeatures: number;
  private readonly row = new Float64Array(FEATURE_COUNT);
  private alertCount = 0;

  constructor(
    private readonly currentModel: () => ActiveModel | null,
    opts: AnomalyDetectorOptions = {},
  ) {
    this.cooldown = new Cooldown(opts.cooldownMs ?? 600_000);
    this.topFeatures = opts.topFeatures ?? 3;
  }

  observe(flows: readonly StoredFlow[]): DetectorResult {
    const result = emptyResult();
    const model = this.currentModel();
    if (model === null) return result;
    const raised = new Map<string, AlertCandidate>();
    for (let i = 0; i < flows.length; i++) {
      const f = flows[i];
      if (!(f.score >= model.thresholds.malicious)) continue;
      raiseFlag(result.flagged, i, Level.malicious);
      const already = raised.get(f.src);
      if (already !== undefined) {
        addFlowId(already.flowIds, f.flowId);
        continue;
      }
      if (this.cooldown.tryStart(f.src, f.firstSeenMs)) raised.set(f.src, this.buildAlert(f, model));
    }
    result.alerts.push(...raised.values());
    this.alertCount += raised.size;
    return result;
  }

  stats(): DetectorStats {
    return { trackedKeys: this.cooldown.size, evictedKeys: 0, alerts: this.alertCount };
  }

  private buildAlert(f: StoredFlow, model: ActiveModel): AlertCandidate {
    writeFeatures(f, this.row, 0);
    const top = topDeviations(this.row, 0, model.profile, FEATURE_NAMES, this.topFeatures);
    const round = (x: number): number => Math.round(x * 1000) / 1000;
    const why = top.map((d) => `${d.name} ${round(d.value)} (usually ${round(d.median)})`).join(', ');
    const { suspicious, malicious } = model.thresholds;
    return {
      kind: 'anomaly',
      level: 'malicious',
      agentId: f.agentId,
      hostname: f.hostname,
      subject: f.src,
      target: f.dst,
      detector: `iforest/${model.version}`,
      summary:
        `${f.src} -> ${formatEndpoint(f.dst, f.dport)}/${f.proto} scored ${f.score.toFixed(2)} ` +
        `(malicious from ${malicious.toFixed(2)}); most unusual: ${why}`,
      evidence: {
        score: round(f.score),
        thresholds: { suspicious: round(suspicious), malicious: round(malicious) },
        modelVersion: model.version,
        topFeatures: top.map((d) => ({ name: d.name, value: round(d.value), median: round(d.median), deviation: round(d.deviation) })),
      },
      firstSeenMs: f.firstSeenMs,
      lastSeenMs: f.lastSeenMs,
      flowIds: [f.flowId],
    };
  }
}
