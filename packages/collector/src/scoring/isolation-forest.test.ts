import { IsolationForest as ReferenceForest } from 'ml-isolation-forest';
import { describe, expect, it } from 'vitest';
import { FEATURE_COUNT, writeFeatureMatrix } from './features.js';
import { averagePathLength, forestFromJSON, trainForest, type IsolationForest } from './isolation-forest.js';
import { seededRandom } from './seeded-random.js';
import { ordinaryTraffic, outlierTraffic } from './test-traffic.js';

/** A 2-D cluster of normal points plus points far from it. */
function clusterWithOutliers(normal: number, outliers: number): { data: Float64Array; rows: number } {
  const rng = seededRandom(42);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  const rows = normal + outliers;
  const data = new Float64Array(rows * 2);
  for (let i = 0; i < normal; i++) {
    data[2 * i] = gauss();
    data[2 * i + 1] = gauss();
  }
  for (let i = normal; i < rows; i++) {
    data[2 * i] = 8 + rng.next() * 4;
    data[2 * i + 1] = -8 - rng.next() * 4;
  }
  return { data, rows };
}

function ranks(a: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: a.length }, (_, i) => i).sort((x, y) => a[x] - a[y]);
  const r = new Float64Array(a.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && a[order[j + 1]] === a[order[i]]) j++;
    for (let k = i; k <= j; k++) r[order[k]] = (i + j) / 2;
    i = j + 1;
  }
  return r;
}

function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ra = ranks(a);
  const rb = ranks(b);
  const n = a.length;
  const mean = (n - 1) / 2;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < n; i++) {
    cov += (ra[i] - mean) * (rb[i] - mean);
    va += (ra[i] - mean) ** 2;
    vb += (rb[i] - mean) ** 2;
  }
  return cov / Math.sqrt(va * vb);
}

/** How many of the rows from `first` on score in the top 2% of the rows before it. */
function flaggedInTop2Percent(scores: ArrayLike<number>, first: number): number {
  const ordinary = Float64Array.from(Array.from(scores).slice(0, first)).sort();
  const p98 = ordinary[Math.floor(ordinary.length * 0.98)];
  return Array.from(scores).slice(first).filter((s) => s > p98).length;
}

describe('isolation-forest', () => {
  it('isolation-forest - c(n) is the textbook average path length', () => {
    expect(averagePathLength(1)).toBe(0);
    expect(averagePathLength(2)).toBe(1);
    // 2 H(255) - 2 * 255 / 256, with H(i) ~ ln(i) + gamma
    expect(averagePathLength(256)).toBeCloseTo(2 * (Math.log(255) + 0.5772156649) - (2 * 255) / 256, 10);
  });

  it('isolation-forest - isolates planted outliers: they outscore every clustered point', () => {
    const { data, rows } = clusterWithOutliers(2_000, 10);
    const scores = trainForest(data, rows, 2, { seed: 7 }).scoreBatch(data, rows);
    const maxNormal = Math.max(...Array.from(scores).slice(0, 2_000));
    const outlierScores = Array.from(scores).slice(2_000);
    for (const s of outlierScores) expect(s).toBeGreaterThan(maxNormal);
    for (const s of scores) expect(s >= 0 && s <= 1).toBe(true);
  });

  it('isolation-forest - is deterministic for a seed and differs across seeds', () => {
    const { data, rows } = clusterWithOutliers(500, 5);
    const a = trainForest(data, rows, 2, { seed: 1 }).scoreBatch(data, rows);
    const b = trainForest(data, rows, 2, { seed: 1 }).scoreBatch(data, rows);
    const c = trainForest(data, rows, 2, { seed: 2 }).scoreBatch(data, rows);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('isolation-forest - uses fewer rows and a shallower tree when the data is small', () => {
    const { data, rows } = clusterWithOutliers(40, 2);
    const forest = trainForest(data, rows, 2, { trees: 10 });
    expect([forest.sampleSize, forest.maxDepth, forest.trees]).toEqual([42, 6, 10]);
    const one = trainForest(new Float64Array([3, 4]), 1, 2);
    expect(Array.from(one.scoreBatch(new Float64Array([3, 4, 100, -100]), 2))).toEqual([1, 1]);
  });

  it('isolation-forest - a JSON round trip gives identical scores and stays compact', () => {
    const { data, rows } = clusterWithOutliers(1_000, 10);
    const forest = trainForest(data, rows, 2, { seed: 3 });
    const text = JSON.stringify(forest.toJSON());
    const restored = forestFromJSON(JSON.parse(text));
    if (!restored.ok) throw new Error(restored.reason);
    expect(Array.from(restored.forest.scoreBatch(data, rows))).toEqual(Array.from(forest.scoreBatch(data, rows)));
    // 100 trees x (255 x 5 + 256 x 4) bytes, as base64.
    expect(text.length).toBeLessThan(320_000);
  });

  it('isolation-forest - rejects corrupt documents with a reason instead of throwing', () => {
    const { data, rows } = clusterWithOutliers(300, 3);
    const good = trainForest(data, rows, 2, { trees: 5 }).toJSON();
    const badFeature = Buffer.from(good.feature, 'base64');
    badFeature[0] = 99;
    const badLengths = Buffer.from(good.pathLength, 'base64');
    badLengths.writeFloatLE(Number.NaN, 0);
    const cases: unknown[] = [
      null,
      'forest',
      { ...good, format: 'other/1' },
      { ...good, feature: good.feature.slice(0, 20) },
      { ...good, maxDepth: 3 },
      { ...good, feature: badFeature.toString('base64') },
      { ...good, pathLength: badLengths.toString('base64') },
    ];
    for (const doc of cases) {
      const r = forestFromJSON(doc);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
    }
  });

  it('isolation-forest - ranks flows like ml-isolation-forest and both flag the planted outliers', () => {
    // Every 10th ordinary flow (about 2,800) keeps the reference library, which trains every tree on all rows, quick.
    const ordinary = ordinaryTraffic({ seed: 5 }).filter((_, i) => i % 10 === 0).map((l) => l.flow);
    const outliers = outlierTraffic(20, { seed: 5 }).map((l) => l.flow);
    const flows = [...ordinary, ...outliers];
    const data = writeFeatureMatrix(flows);
    const rows = flows.length;
    const ours = trainForest(data, rows, FEATURE_COUNT, { seed: 11 }).scoreBatch(data, rows);
    const table: number[][] = [];
    for (let r = 0; r < rows; r++) table.push(Array.from(data.subarray(r * FEATURE_COUNT, (r + 1) * FEATURE_COUNT)));
    const reference = new ReferenceForest({ nEstimators: 100 });
    reference.train(table);
    const theirs = reference.predict(table);

    const rho = spearman(ours, theirs);
    console.log(`isolation-forest: Spearman rank correlation with ml-isolation-forest = ${rho.toFixed(3)} over ${rows} flows`);
    expect(rho).toBeGreaterThan(0.8);
    // The library draws from Math.random, so its scores vary run to run; the top 2% leaves it room.
    expect(flaggedInTop2Percent(ours, ordinary.length)).toBeGreaterThanOrEqual(19);
    expect(flaggedInTop2Percent(theirs, ordinary.length)).toBeGreaterThanOrEqual(19);
  });

  it('isolation-forest - scores a 28k-flow batch in range (throughput logged, not asserted)', () => {
    const flows = ordinaryTraffic({ seed: 9 }).map((l) => l.flow);
    const data = writeFeatureMatrix(flows);
    const forest: IsolationForest = trainForest(data, flows.length, FEATURE_COUNT);
    forest.scoreBatch(data, flows.length); // warm-up
    let bestCpuMs = Infinity;
    let scores: Float64Array = new Float64Array(0);
    for (let rep = 0; rep < 3; rep++) {
      const before = process.cpuUsage();
      scores = forest.scoreBatch(data, flows.length);
      const used = process.cpuUsage(before);
      bestCpuMs = Math.min(bestCpuMs, (used.user + used.system) / 1000);
    }
    const perSecond = Math.round((flows.length / bestCpuMs) * 1000);
    console.log(`isolation-forest: scored ${flows.length} flows in ${bestCpuMs.toFixed(1)} ms of CPU = ${perSecond} flows/s on one core`);
    expect(scores.every((s) => s > 0 && s < 1)).toBe(true);
  });
});
