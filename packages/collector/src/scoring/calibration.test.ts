import { describe, expect, it } from 'vitest';
import { Level } from '../types.js';
import { calibrateThresholds, levelForScore } from './calibration.js';

/** n scores spread evenly over [lo, hi]. */
function even(n: number, lo: number, hi: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
}

describe('calibration', () => {
  it('calibration - puts suspicious at the 99.5th percentile and malicious above the 99.95th', () => {
    // 99.5% of scores in [0.4, 0.6], a thin tail up to 0.8: like an ordinary training set.
    const scores = Float64Array.from([...even(19_900, 0.4, 0.6), ...even(100, 0.6, 0.8)]);
    const t = calibrateThresholds(scores);
    expect(t.q995).toBeCloseTo(0.6, 2);
    expect(t.q9995).toBeCloseTo(0.78, 2);
    expect(t.suspicious).toBe(t.q995);
    expect(t.malicious).toBeCloseTo(t.q9995 + 0.01, 9);
    const above = (x: number): number => scores.filter((s) => s >= x).length / scores.length;
    expect(above(t.suspicious)).toBeCloseTo(0.005, 3);
    expect(above(t.malicious)).toBeLessThan(0.0005);
  });

  it('calibration - keeps floors and a gap when training scores are uniform', () => {
    const t = calibrateThresholds(new Float64Array(5_000).fill(0.45));
    expect(t.suspicious).toBe(0.55);
    expect(t.malicious).toBe(0.6);
    const tight = calibrateThresholds(new Float64Array(5_000).fill(0.7));
    expect(tight.malicious - tight.suspicious).toBeCloseTo(0.02, 9);
  });

  it('calibration - does not reorder the caller scores and copes with an empty set', () => {
    const scores = Float64Array.from([0.9, 0.1, 0.5]);
    calibrateThresholds(scores);
    expect(Array.from(scores)).toEqual([0.9, 0.1, 0.5]);
    const empty = calibrateThresholds(new Float64Array(0));
    expect(empty.suspicious).toBeLessThan(empty.malicious);
  });

  it('calibration - options move the thresholds and nothing exceeds 1', () => {
    const t = calibrateThresholds(even(1_000, 0.9, 1), { suspiciousQuantile: 0.9, maliciousMargin: 0.5 });
    expect(t.suspicious).toBeCloseTo(0.99, 2);
    expect(t.malicious).toBe(1);
  });

  it('calibration - grades scores against the thresholds', () => {
    const t = { suspicious: 0.6, malicious: 0.7, q995: 0.6, q9995: 0.69 };
    expect([0.2, 0.59, 0.6, 0.69, 0.7, 0.99].map((s) => levelForScore(s, t))).toEqual([
      Level.normal,
      Level.normal,
      Level.suspicious,
      Level.suspicious,
      Level.malicious,
      Level.malicious,
    ]);
  });
});
