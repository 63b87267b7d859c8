import { z } from 'zod';
import { seededRandom, type SeededRandom } from './seeded-random.js';
import { float32FromBase64, int8FromBase64, typedArrayToBase64 } from './typed-array-codec.js';

/**
 * Isolation Forest (Liu, Ting and Zhou, 2008), textbook version, flattened into typed arrays.
 *
 * Each tree is grown on a random subsample of `sampleSize` rows (256) without replacement, to a
 * depth of ceil(log2(sampleSize)) (8); a node splits on a random feature at a uniform random
 * value between that feature's min and max in the node. The score of a row is
 * 2^(-E[h] / c(sampleSize)), where h is the depth of the leaf the row reaches plus c(leaf size),
 * the expected depth still needed to isolate a row among the leaf's training rows. Scores are in
 * [0, 1]; about 0.5 is ordinary, near 1 is isolated quickly (anomalous).
 *
 * Layout, chosen for scoring speed: every tree is a complete binary tree of depth maxDepth in
 * heap order (children of i are 2i+1 and 2i+2). The 2^D - 1 inner slots hold a split feature and
 * threshold (go left when x < threshold); the 2^D bottom slots hold path lengths. A leaf reached
 * early, at depth d, becomes a pass-through subtree whose bottom slots all hold its path length
 * (d + c(size)), so either way down gives the same answer. Every row then takes exactly D steps,
 * with no leaf test: the loop has a fixed trip count (unrolled for D = 8), which measured ~1.6x
 * faster than stopping at the leaf. Thresholds are float32 from the start, so a model restored
 * from JSON scores bit-for-bit the same. Scoring walks one tree over the whole batch before the
 * next, keeping the tree in L1.
 */
export interface ForestOptions {
  /** Number of trees (default 100). */
  trees?: number;
  /** Rows per tree (default 256; fewer when there are fewer rows). */
  sampleSize?: number;
  /** Seed of the random choices; the same data and seed give the same forest (default 1). */
  seed?: number;
}

export interface IsolationForest {
  readonly trees: number;
  readonly cols: number;
  readonly sampleSize: number;
  readonly maxDepth: number;
  /** Anomaly scores of `rows` row-major rows of `cols` features, in [0, 1]. */
  scoreBatch(data: Float64Array, rows: number, out?: Float64Array): Float64Array;
  toJSON(): ForestJSON;
}

export const ForestJSON = z.object({
  format: z.literal('nta-iforest/1'),
  trees: z.number().int().min(1).max(10_000),
  cols: z.number().int().min(1).max(127),
  sampleSize: z.number().int().min(1).max(1 << 16),
  maxDepth: z.number().int().min(0).max(16),
  /** Int8Array of split features of the inner slots, base64. */
  feature: z.string(),
  /** Float32Array of thresholds of the inner slots, base64. */
  threshold: z.string(),
  /** Float32Array of path lengths of the bottom slots, base64. */
  pathLength: z.string(),
});
export type ForestJSON = z.infer<typeof ForestJSON>;

export type ForestParseResult = { ok: true; forest: IsolationForest } | { ok: false; reason: string };

const EULER_GAMMA = 0.5772156649015329;
const DEFAULT_TREES = 100;
const DEFAULT_SAMPLE_SIZE = 256;
/** Feature indexes are stored as Int8. */
const MAX_COLS = 127;

/** c(n): average path length of an unsuccessful binary-search-tree lookup among n items. */
export function averagePathLength(n: number): number {
  if (n > 2) return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
  return n === 2 ? 1 : 0;
}

class FlatForest implements IsolationForest {
  private readonly inner: number;
  private readonly normalizer: number;

  constructor(
    readonly trees: number,
    readonly cols: number,
    readonly sampleSize: number,
    readonly maxDepth: number,
    private readonly feature: Int8Array,
    private readonly threshold: Float32Array,
    private readonly pathLength: Float32Array,
  ) {
    this.inner = 2 ** maxDepth - 1;
    // A forest grown on a single row has c = 0; any positive normalizer gives the same answer (1).
    this.normalizer = averagePathLength(sampleSize) || 1;
  }

  scoreBatch(data: Float64Array, rows: number, out?: Float64Array): Float64Array {
    const sums = out !== undefined && out.length >= rows ? out : new Float64Array(rows);
    sums.fill(0, 0, rows);
    if (this.maxDepth === 8) this.walkDepth8(data, rows, sums);
    else this.walk(data, rows, sums);
    const scale = -1 / (this.trees * this.normalizer);
    for (let r = 0; r < rows; r++) sums[r] = 2 ** (sums[r] * scale);
    return sums;
  }

  private walk(data: Float64Array, rows: number, sums: Float64Array): void {
    const { feature: f, threshold: v, pathLength, cols, inner, maxDepth } = this;
    for (let t = 0; t < this.trees; t++) {
      const base = t * inner;
      const leafBase = t * (inner + 1) - inner;
      for (let r = 0, o = 0; r < rows; r++, o += cols) {
        let n = 0;
        for (let d = 0; d < maxDepth; d++) n = 2 * n + (data[o + f[base + n]] < v[base + n] ? 1 : 2);
        sums[r] += pathLength[leafBase + n];
      }
    }
  }

  /** `walk` unrolled for the default depth. */
  private walkDepth8(data: Float64Array, rows: number, sums: Float64Array): void {
    const { feature: f, threshold: v, pathLength, cols, inner } = this;
    for (let t = 0; t < this.trees; t++) {
      const b = t * inner;
      const leafBase = t * (inner + 1) - inner;
      for (let r = 0, o = 0; r < rows; r++, o += cols) {
        let n = data[o + f[b]] < v[b] ? 1 : 2;
        n = 2 * n + (data[o + f[b + n]] < v[b + n] ? 1 : 2);
        n = 2 * n + (data[o + f[b + n]] < v[b + n] ? 1 : 2);
        n = 2 * n + (data[o + f[b + n]] < v[b + n] ? 1 : 2);
        n = 2 * n + (data[o + f[b + n]] < v[b + n] ? 1 : 2);
        n = 2 * n + (data[o + f[b + n]] < v[b + n] ? 1 : 2);
        n = 2 * n + (data[o + f[b + n]] < v[b + n] ? 1 : 2);
        n = 2 * n + (data[o + f[b + n]] < v[b + n] ? 1 : 2);
        sums[r] += pathLength[leafBase + n];
      }
    }
  }

  toJSON(): ForestJSON {
    return {
      format: 'nta-iforest/1',
      trees: this.trees,
      cols: this.cols,
      sampleSize: this.sampleSize,
      maxDepth: this.maxDepth,
      feature: typedArrayToBase64(this.feature),
      threshold: typedArrayToBase64(this.threshold),
      pathLength: typedArrayToBase64(this.pathLength),
    };
  }
}

/** Grows one tree into the slots of tree `t`, over the row indexes idx[lo, hi). */
class TreeBuilder {
  private readonly inner: number;

  constructor(
    private readonly data: Float64Array,
    private readonly cols: number,
    private readonly maxDepth: number,
    private readonly feature: Int8Array,
    private readonly threshold: Float32Array,
    private readonly pathLength: Float32Array,
    private readonly idx: Int32Array,
    private readonly rng: SeededRandom,
  ) {
    this.inner = 2 ** maxDepth - 1;
  }

  build(t: number, node: number, lo: number, hi: number, depth: number): void {
    const size = hi - lo;
    if (depth < this.maxDepth && size > 1) {
      // A feature constant over this node cannot split it; try others before giving up.
      for (let attempt = 0; attempt < this.cols; attempt++) {
        const f = this.rng.int(this.cols);
        const mid = this.trySplit(f, lo, hi, t * this.inner + node);
        if (mid > lo && mid < hi) {
          this.feature[t * this.inner + node] = f;
          this.build(t, 2 * node + 1, lo, mid, depth + 1);
          this.build(t, 2 * node + 2, mid, hi, depth + 1);
          return;
        }
      }
    }
    this.fillLeaf(t, node, depth + averagePathLength(size));
  }

  /** Makes `node` a leaf: a pass-through subtree whose bottom slots all hold the path length. */
  private fillLeaf(t: number, node: number, length: number): void {
    if (node >= this.inner) {
      this.pathLength[t * (this.inner + 1) + node - this.inner] = length;
      return;
    }
    this.feature[t * this.inner + node] = 0;
    this.threshold[t * this.inner + node] = 0;
    this.fillLeaf(t, 2 * node + 1, length);
    this.fillLeaf(t, 2 * node + 2, length);
  }

  /** Picks a threshold on feature f and partitions idx[lo, hi) around it; returns the first right index. */
  private trySplit(f: number, lo: number, hi: number, slot: number): number {
    const { data, cols, idx } = this;
    let min = Infinity;
    let max = -Infinity;
    for (let i = lo; i < hi; i++) {
      const x = data[idx[i] * cols + f];
      if (x < min) min = x;
      if (x > max) max = x;
    }
    if (!(max > min)) return lo;
    // float32 now, so the stored model compares exactly as the trained one did.
    const threshold = Math.fround(min + this.rng.next() * (max - min));
    this.threshold[slot] = threshold;
    let left = lo;
    for (let i = lo; i < hi; i++) {
      const row = idx[i];
      if (data[row * cols + f] < threshold) {
        idx[i] = idx[left];
        idx[left] = row;
        left++;
      }
    }
    return left;
  }
}

/**
 * Trains a forest on `rows` row-major rows of `cols` features. Deterministic for a given seed.
 * Throws only on programmer errors (shapes that do not fit).
 */
export function trainForest(data: Float64Array, rows: number, cols: number, opts: ForestOptions = {}): IsolationForest {
  if (!(rows >= 1) || !(cols >= 1) || cols > MAX_COLS || data.length < rows * cols) {
    throw new RangeError(`trainForest: bad shape rows=${rows} cols=${cols} data.length=${data.length}`);
  }
  const trees = opts.trees ?? DEFAULT_TREES;
  const sampleSize = Math.min(opts.sampleSize ?? DEFAULT_SAMPLE_SIZE, rows);
  const maxDepth = Math.ceil(Math.log2(sampleSize));
  const inner = 2 ** maxDepth - 1;
  const feature = new Int8Array(trees * inner);
  const threshold = new Float32Array(trees * inner);
  const pathLength = new Float32Array(trees * (inner + 1));
  const rng = seededRandom(opts.seed ?? 1);
  // A partial Fisher-Yates shuffle per tree; the permutation carries over, which keeps each
  // tree's sample uniform without re-initialising `order`.
  const order = new Int32Array(rows);
  for (let i = 0; i < rows; i++) order[i] = i;
  const sample = new Int32Array(sampleSize);
  const builder = new TreeBuilder(data, cols, maxDepth, feature, threshold, pathLength, sample, rng);
  for (let t = 0; t < trees; t++) {
    for (let i = 0; i < sampleSize; i++) {
      const j = i + rng.int(rows - i);
      const tmp = order[i];
      order[i] = order[j];
      order[j] = tmp;
      sample[i] = order[i];
    }
    builder.build(t, 0, 0, sampleSize, 0);
  }
  return new FlatForest(trees, cols, sampleSize, maxDepth, feature, threshold, pathLength);
}

/** Restores a forest from `toJSON()` output; a corrupt or foreign document is an error value. */
export function forestFromJSON(json: unknown): ForestParseResult {
  const parsed = ForestJSON.safeParse(json);
  if (!parsed.success) return { ok: false, reason: `not a forest: ${z.prettifyError(parsed.error)}` };
  const { trees, cols, sampleSize, maxDepth } = parsed.data;
  if (maxDepth !== Math.ceil(Math.log2(sampleSize))) return { ok: false, reason: 'maxDepth does not match sampleSize' };
  const inner = 2 ** maxDepth - 1;
  const feature = int8FromBase64(parsed.data.feature, trees * inner);
  const threshold = float32FromBase64(parsed.data.threshold, trees * inner);
  const pathLength = float32FromBase64(parsed.data.pathLength, trees * (inner + 1));
  if (feature === null || threshold === null || pathLength === null) {
    return { ok: false, reason: 'node arrays do not match the forest shape' };
  }
  for (let i = 0; i < feature.length; i++) {
    if (feature[i] < 0 || feature[i] >= cols) return { ok: false, reason: `split feature ${feature[i]} out of range` };
  }
  for (let i = 0; i < pathLength.length; i++) {
    if (!(pathLength[i] >= 0 && pathLength[i] <= 64)) return { ok: false, reason: 'path length out of range' };
  }
  return { ok: true, forest: new FlatForest(trees, cols, sampleSize, maxDepth, feature, threshold, pathLength) };
}
