import { z } from 'zod';
import { Level } from '../types.js';

/**
 * Score thresholds for the three levels, derived from the scores the model gives its own
 * training rows (recent ordinary traffic, mostly):
 *
 *   suspicious = max(q(0.995), minSuspicious)
 *   malicious  = max(q(0.9995) + maliciousMargin, suspicious + minGap, minMalicious)
 *
 * where q(p) is the p-quantile of the training scores. So about 1 flow in 200 of what the model
 * was trained on would be called suspicious, and calling one malicious takes more than being in
 * the top 0.05%: it must also clear that quantile by a fixed margin, which keeps the ordinary
 * tail (the few odd but harmless flows every network has) below it. The floors stop a very
 * uniform training set, whose quantiles sit barely above 0.5, from turning tiny score wobbles
 * into alerts. Thresholds are stored with the model, so a restored model grades flows as the
 * original did.
 */
export const Thresholds = z.object({
  suspicious: z.number().min(0).max(1),
  malicious: z.number().min(0).max(1),
  /** The quantiles they came from, kept for the record (evidence, console). */
  q995: z.number(),
  q9995: z.number(),
});
export type Thresholds = z.infer<typeof Thresholds>;

export interface CalibrationOptions {
  suspiciousQuantile?: number;
  maliciousQuantile?: number;
  /** Added to the malicious quantile (default 0.01). */
  maliciousMargin?: number;
  /** Least distance between the two thresholds (default 0.02). */
  minGap?: number;
  /** Floors (defaults 0.55 and 0.6; 0.5 is an average row). */
  minSuspicious?: number;
  minMalicious?: number;
}

/** Sorts a copy, so the caller's scores keep their order. Quantile by nearest rank. */
function quantileOfSorted(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[rank];
}

export function calibrateThresholds(trainingScores: Float64Array, opts: CalibrationOptions = {}): Thresholds {
  const sorted = Float64Array.from(trainingScores).sort();
  const q995 = quantileOfSorted(sorted, opts.suspiciousQuantile ?? 0.995);
  const q9995 = quantileOfSorted(sorted, opts.maliciousQuantile ?? 0.9995);
  const suspicious = Math.min(1, Math.max(q995, opts.minSuspicious ?? 0.55));
  const malicious = Math.min(
    1,
    Math.max(q9995 + (opts.maliciousMargin ?? 0.01), suspicious + (opts.minGap ?? 0.02), opts.minMalicious ?? 0.6),
  );
  return { suspicious, malicious, q995, q9995 };
}

export function levelForScore(score: number, t: Thresholds): Level {
  if (score >= t.malicious) return Level.malicious;
  if (score >= t.suspicious) return Level.suspicious;
  return Level.normal;
}
