import { z } from 'zod';
import { Thresholds } from './calibration.js';
import type { FeatureProfile } from './feature-profile.js';
import { ForestJSON, type IsolationForest } from './isolation-forest.js';

/** A model as it is stored: plain JSON (the forest's node arrays as base64), about 350 kB. */
export const PersistedModel = z.object({
  version: z.number().int().positive(),
  trainedAtMs: z.number().nonnegative(),
  /** Training rows (reservoir size) the forest and thresholds came from. */
  rowsUsed: z.number().int().nonnegative(),
  /** The feature layout the forest was grown on; a model for another layout is not loaded. */
  featureNames: z.array(z.string()),
  thresholds: Thresholds,
  profile: z.object({ medians: z.array(z.number()), scales: z.array(z.number()) }),
  forest: ForestJSON,
});
export type PersistedModel = z.infer<typeof PersistedModel>;

/** Where models live between runs. The collector's is PostgreSQL; tests use the in-memory one. */
export interface ModelStore {
  loadLatest(): Promise<PersistedModel | null>;
  save(m: PersistedModel): Promise<void>;
}

/** A model ready to score. */
export interface ActiveModel {
  version: number;
  trainedAtMs: number;
  rowsUsed: number;
  thresholds: Thresholds;
  profile: FeatureProfile;
  forest: IsolationForest;
}

/** Keeps saved models in memory (JSON round trip, so nothing is shared with the caller). */
export class InMemoryModelStore implements ModelStore {
  private readonly saved: string[] = [];

  async loadLatest(): Promise<PersistedModel | null> {
    const last = this.saved.at(-1);
    return last === undefined ? null : (JSON.parse(last) as PersistedModel);
  }

  async save(m: PersistedModel): Promise<void> {
    this.saved.push(JSON.stringify(m));
  }

  /** Versions saved, oldest first. */
  versions(): number[] {
    return this.saved.map((s) => (JSON.parse(s) as PersistedModel).version);
  }
}
