/**
 * What an ordinary flow looks like, feature by feature: the median and a robust spread of each
 * feature over the training rows. An anomaly alert names the features where the flow lies
 * furthest from the median, measured in spreads, so people see why it stood out.
 */
export interface FeatureProfile {
  medians: number[];
  /** 1.4826 x MAD (a standard deviation for normal data); falls back when that is 0. */
  scales: number[];
}

export interface FeatureDeviation {
  name: string;
  value: number;
  median: number;
  /** |value - median| / scale. */
  deviation: number;
}

/** Rows used for the profile: a strided subsample is plenty for medians and keeps sorting cheap. */
const MAX_PROFILE_ROWS = 4096;

/** The spread of a feature that is constant in training: any departure counts one unit per unit. */
const CONSTANT_FEATURE_SCALE = 1;

function median(sorted: Float64Array): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function buildFeatureProfile(data: Float64Array, rows: number, cols: number): FeatureProfile {
  const stride = Math.max(1, Math.ceil(rows / MAX_PROFILE_ROWS));
  const n = Math.ceil(rows / stride);
  const column = new Float64Array(n);
  const deviations = new Float64Array(n);
  const medians: number[] = [];
  const scales: number[] = [];
  for (let f = 0; f < cols; f++) {
    for (let i = 0, r = 0; i < n; i++, r += stride) column[i] = data[r * cols + f];
    column.sort();
    const m = median(column);
    let absSum = 0;
    for (let i = 0; i < n; i++) {
      deviations[i] = Math.abs(column[i] - m);
      absSum += deviations[i];
    }
    deviations.sort();
    const mad = 1.4826 * median(deviations);
    // Mostly-constant features (flags, one-hot protocol) have MAD 0; the mean absolute
    // deviation still says how much they vary.
    const meanAbs = n > 0 ? (1.2533 * absSum) / n : 0;
    medians.push(m);
    scales.push(mad > 0 ? mad : meanAbs > 0 ? meanAbs : CONSTANT_FEATURE_SCALE);
  }
  return { medians, scales };
}

/** The `count` features of one row furthest from the profile's medians, largest first. */
export function topDeviations(
  row: Float64Array,
  offset: number,
  profile: FeatureProfile,
  names: readonly string[],
  count: number,
): FeatureDeviation[] {
  const all: FeatureDeviation[] = [];
  for (let f = 0; f < names.length; f++) {
    const value = row[offset + f];
    const median = profile.medians[f] ?? 0;
    const scale = profile.scales[f] || CONSTANT_FEATURE_SCALE;
    all.push({ name: names[f], value, median, deviation: Math.abs(value - median) / scale });
  }
  all.sort((a, b) => b.deviation - a.deviation);
  return all.slice(0, count);
}
