import type { FlowRecord } from '@nta/shared';
import { Level } from '../types.js';
import { calibrateThresholds, levelForScore, type CalibrationOptions } from './calibration.js';
import { FeatureReservoir } from './feature-reservoir.js';
import { buildFeatureProfile } from './feature-profile.js';
import { FEATURE_COUNT, FEATURE_NAMES, writeFeatureMatrix, writeFeatures } from './features.js';
import { forestFromJSON, trainForest, type IsolationForest } from './isolation-forest.js';
import { PersistedModel, type ActiveModel, type ModelStore } from './model-store.js';

/**
 * Owns the anomaly model: scores batches with the current one, keeps a reservoir sample of
 * recent feature rows, and retrains from it on a schedule, off the ingest path.
 *
 * Training runs in a setImmediate-scheduled task: growing 100 trees on 256 rows takes
 * milliseconds, and calibrating (scoring the whole reservoir) is done in chunks that yield to the
 * event loop between them, so consuming and storing flows go on while a model is made.
 * `scoreBatch` never trains. A new model replaces the old one atomically when it is complete.
 */
export interface ModelManagerOptions {
  store: ModelStore;
  /** Reservoir capacity in rows (default 50,000, 10 MB). */
  reservoirRows?: number;
  /** Rows needed before a model is trained (default 2,000). */
  minTrainingRows?: number;
  /** Time between trainings (default 10 min); the first one runs as soon as there are enough rows. */
  retrainIntervalMs?: number;
  trees?: number;
  sampleSize?: number;
  seed?: number;
  calibration?: CalibrationOptions;
  /** Reservoir rows scored per event-loop turn during calibration (default 8,192). */
  calibrationChunkRows?: number;
  /** Failures that cannot be thrown at anyone: a store that fails to load or save. */
  onError?: (err: unknown, during: 'load' | 'save' | 'train') => void;
}

export interface ScoredBatch {
  /** Isolation Forest score per flow, 0 before the first model. */
  scores: Float32Array;
  /** Level index per flow (see Level). */
  levels: Uint8Array;
  /** The model that scored them, null before the first. */
  model: ActiveModel | null;
}

export interface ModelManagerStats {
  modelVersion: number | null;
  reservoirRows: number;
  trainings: number;
  lastTrainingMs: number | null;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class ModelManager {
  private current: ActiveModel | null = null;
  private highestVersion = 0;
  private training: Promise<ActiveModel | null> | null = null;
  private trainings = 0;
  private lastTrainingMs: number | null = null;
  private readonly reservoir: FeatureReservoir;
  private scratch = new Float64Array(0);
  private scoreScratch = new Float64Array(0);
  private readonly minTrainingRows: number;
  private readonly retrainIntervalMs: number;

  constructor(private readonly opts: ModelManagerOptions) {
    this.reservoir = new FeatureReservoir(opts.reservoirRows ?? 50_000, FEATURE_COUNT, opts.seed ?? 1);
    this.minTrainingRows = Math.max(2, opts.minTrainingRows ?? 2_000);
    this.retrainIntervalMs = opts.retrainIntervalMs ?? 600_000;
  }

  /** Loads the latest stored model, if there is a usable one; versions continue after it either way. */
  async init(): Promise<ActiveModel | null> {
    let stored: PersistedModel | null;
    try {
      stored = await this.opts.store.loadLatest();
    } catch (err) {
      this.opts.onError?.(err, 'load');
      return null;
    }
    if (stored === null) return null;
    const parsed = PersistedModel.safeParse(stored);
    if (!parsed.success) {
      // Even a model we cannot use says which versions are taken.
      const version = (stored as { version?: unknown }).version;
      if (Number.isSafeInteger(version)) this.highestVersion = Math.max(this.highestVersion, version as number);
      this.opts.onError?.(new Error('stored model is not valid; training a new one'), 'load');
      return null;
    }
    const m = parsed.data;
    this.highestVersion = Math.max(this.highestVersion, m.version);
    const sameLayout = m.featureNames.length === FEATURE_COUNT && m.featureNames.every((n, i) => n === FEATURE_NAMES[i]);
    const forest = forestFromJSON(m.forest);
    if (!sameLayout || !forest.ok || forest.forest.cols !== FEATURE_COUNT) {
      const why = !sameLayout ? 'its features differ from this version' : forest.ok ? 'wrong width' : forest.reason;
      this.opts.onError?.(new Error(`stored model ${m.version} not used: ${why}`), 'load');
      return null;
    }
    if (this.current === null || this.current.version < m.version) {
      this.current = {
        version: m.version,
        trainedAtMs: m.trainedAtMs,
        rowsUsed: m.rowsUsed,
        thresholds: m.thresholds,
        profile: m.profile,
        forest: forest.forest,
      };
    }
    return this.current;
  }

  get model(): ActiveModel | null {
    return this.current;
  }

  stats(): ModelManagerStats {
    return {
      modelVersion: this.current?.version ?? null,
      reservoirRows: this.reservoir.rows,
      trainings: this.trainings,
      lastTrainingMs: this.lastTrainingMs,
    };
  }

  /**
   * Offers flows to the training reservoir. Flows given level malicious (by the model, a
   * detector or threat intel) are left out, so an attack in progress is not learnt as normal.
   */
  observe(flows: readonly FlowRecord[], levels?: ArrayLike<number>): void {
    const r = this.reservoir;
    for (let i = 0; i < flows.length; i++) {
      if (levels !== undefined && levels[i] === Level.malicious) continue;
      const offset = r.reserveRow();
      if (offset >= 0) writeFeatures(flows[i], r.data, offset);
    }
  }

  scoreBatch(flows: readonly FlowRecord[]): ScoredBatch {
    const n = flows.length;
    const scores = new Float32Array(n);
    const levels = new Uint8Array(n);
    const model = this.current;
    if (model === null || n === 0) return { scores, levels, model };
    if (this.scratch.length < n * FEATURE_COUNT) this.scratch = new Float64Array(n * FEATURE_COUNT * 2);
    if (this.scoreScratch.length < n) this.scoreScratch = new Float64Array(n * 2);
    const features = writeFeatureMatrix(flows, this.scratch);
    const raw = model.forest.scoreBatch(features, n, this.scoreScratch);
    for (let i = 0; i < n; i++) {
      scores[i] = raw[i];
      levels[i] = levelForScore(raw[i], model.thresholds);
    }
    return { scores, levels, model };
  }

  /**
   * Schedules a training when one is due: enough rows, none running, and none yet or the last one
   * at least `retrainIntervalMs` before `nowMs` (or after it: the clock went back, as in a replay).
   * Returns whether it scheduled one. Cheap: call it after every batch.
   */
  retrainIfDue(nowMs: number): boolean {
    if (this.training !== null || this.reservoir.rows < this.minTrainingRows) return false;
    const last = this.current?.trainedAtMs;
    if (last !== undefined && nowMs - last < this.retrainIntervalMs && nowMs >= last) return false;
    void this.trainNow(nowMs);
    return true;
  }

  /** Resolves when no training is running. */
  async waitForTraining(): Promise<void> {
    while (this.training !== null) await this.training;
  }

  /**
   * Trains a model now (in a setImmediate task) unless one is already training, in which case it
   * returns that one. Resolves to the new model, or null when there are too few rows. Never rejects:
   * a failed save is reported to onError and the model is used anyway; a failed training too.
   */
  trainNow(nowMs: number): Promise<ActiveModel | null> {
    if (this.training !== null) return this.training;
    const run = yieldToEventLoop()
      .then(() => this.train(nowMs))
      .catch((err: unknown) => {
        this.opts.onError?.(err, 'train');
        return null;
      })
      .finally(() => {
        this.training = null;
      });
    this.training = run;
    return run;
  }

  private async train(nowMs: number): Promise<ActiveModel | null> {
    if (this.reservoir.rows < this.minTrainingRows) return null;
    const startedMs = performance.now();
    const { data, rows } = this.reservoir.snapshot();
    this.reservoir.startEpoch();
    const version = this.highestVersion + 1;
    this.highestVersion = version;
    const forest = trainForest(data, rows, FEATURE_COUNT, {
      trees: this.opts.trees,
      sampleSize: this.opts.sampleSize,
      seed: (this.opts.seed ?? 1) * 1_000_003 + version,
    });
    const trainingScores = await this.scoreInChunks(forest, data, rows);
    const model: ActiveModel = {
      version,
      trainedAtMs: nowMs,
      rowsUsed: rows,
      thresholds: calibrateThresholds(trainingScores, this.opts.calibration),
      profile: buildFeatureProfile(data, rows, FEATURE_COUNT),
      forest,
    };
    this.current = model;
    this.trainings++;
    this.lastTrainingMs = performance.now() - startedMs;
    try {
      await this.opts.store.save(toPersisted(model));
    } catch (err) {
      this.opts.onError?.(err, 'save');
    }
    return model;
  }

  private async scoreInChunks(forest: IsolationForest, data: Float64Array, rows: number): Promise<Float64Array> {
    const chunk = Math.max(1, this.opts.calibrationChunkRows ?? 8_192);
    const scores = new Float64Array(rows);
    for (let start = 0; start < rows; start += chunk) {
      const n = Math.min(chunk, rows - start);
      const part = forest.scoreBatch(data.subarray(start * FEATURE_COUNT, (start + n) * FEATURE_COUNT), n);
      scores.set(part, start);
      if (start + n < rows) await yieldToEventLoop();
    }
    return scores;
  }
}

export function toPersisted(m: ActiveModel): PersistedModel {
  return {
    version: m.version,
    trainedAtMs: m.trainedAtMs,
    rowsUsed: m.rowsUsed,
    featureNames: [...FEATURE_NAMES],
    thresholds: m.thresholds,
    profile: m.profile,
    forest: m.forest.toJSON(),
  };
}
