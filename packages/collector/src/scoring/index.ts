/**
 * Anomaly scoring for the collector: features, the Isolation Forest and its manager, the
 * explicit detectors, and the labelled test-traffic generator (for tests only).
 *
 * Wiring, per consumed batch of validated flows (StoredFlow[] once enriched):
 *   const scored = models.scoreBatch(flows);            // scores + levels, never trains
 *   flows[i].score = scored.scores[i]; flows[i].level = scored.levels[i];
 *   const { alerts, flagged } = detectors.observe(flows);   // raise levels: max(level, flagged)
 *   models.observe(flows, levels);                       // feed the reservoir (malicious left out)
 *   models.retrainIfDue(Date.now());                     // schedules training off the ingest path
 * with `models = new ModelManager({ store })`, `await models.init()`, and
 * `detectors = createDetectorSet({ currentModel: () => models.model })`.
 */
export { FEATURE_NAMES, FEATURE_COUNT, writeFeatures, writeFeatureMatrix, type FeatureName } from './features.js';
export {
  trainForest,
  forestFromJSON,
  averagePathLength,
  ForestJSON,
  type IsolationForest,
  type ForestOptions,
  type ForestParseResult,
} from './isolation-forest.js';
export { calibrateThresholds, levelForScore, Thresholds, type CalibrationOptions } from './calibration.js';
export { FeatureReservoir } from './feature-reservoir.js';
export { buildFeatureProfile, topDeviations, type FeatureProfile, type FeatureDeviation } from './feature-profile.js';
export { ModelManager, toPersisted, type ModelManagerOptions, type ScoredBatch, type ModelManagerStats } from './model-manager.js';
export { PersistedModel, InMemoryModelStore, type ModelStore, type ActiveModel } from './model-store.js';
export { createDetectorSet, DetectorSet, type DetectorSetOptions } from './detectors/detector-set.js';
export { MAX_ALERT_FLOW_IDS, type Detector, type DetectorResult, type DetectorStats } from './detectors/detector.js';
export { PortScanDetector, type PortScanOptions } from './detectors/port-scan.js';
export { SynFloodDetector, type SynFloodOptions } from './detectors/syn-flood.js';
export { DnsTunnelDetector, DEFAULT_IGNORED_DNS_DOMAINS, type DnsTunnelOptions } from './detectors/dns-tunnel.js';
export { UploadVolumeDetector, type UploadVolumeOptions } from './detectors/upload-volume.js';
export { AnomalyDetector, type AnomalyDetectorOptions } from './detectors/anomaly.js';
export { isInternalAddress } from './detectors/internal-address.js';
