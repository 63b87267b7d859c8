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
 * Layout: every tree is a complete binary heap of 2^(maxDepth+1) - 1 slots (children of i are
 * 2i+1 and 2i+2). `feature[i]` is the split feature, or -1 at a leaf; `value[i]` is the split
 * threshold (go left when x < value), or at a leaf the finished path length depth + c(size).
 * Thresholds are float32 from the start, so a model restored from JSON scores bit-for-bit the
 * same. Scoring walks one tree over the whole batch before the next, keeping it in cache.
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
  sampleSize: z.number().int().min(1).max(1 << 20),
  maxDepth: z.number().int().min(0).max(20),
  /** Int8Array of split features (-1 = leaf), base64. */
  feature: z.string(),
  /** Float32Array of thresholds / leaf path lengths, base64. */
  value: z.string(),
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

function nodesPerTree(maxDepth: number): number {
  return 2 ** (maxDepth + 1) - 1;
}

class FlatForest implements IsolationForest {
  private readonly nodes: number;
  private readonly normalizer: number;

  constructor(
    readonly trees: number,
    readonly cols: number,
    readonly sampleSize: number,
    readonly maxDepth: number,
    private readonly feature: Int8Array,
    private readonly value: Float32Array,
  ) {
    this.nodes = nodesPerTree(maxDepth);
    // A forest grown on a single row has c = 0; any positive normalizer gives the same answer (1).
    this.normalizer = averagePathLength(sampleSize) || 1;
  }

  scoreBatch(data: Float64Array, rows: number, out?: Float64Array): Float64Array {
    const sums = out !== undefined && out.length >= rows ? out : new Float64Array(rows);
    sums.fill(0, 0, rows);
    const { feature, value, cols, nodes } = this;
    for (let t = 0; t < this.trees; t++) {
      const base = t * nodes;
      const rootFeature = feature[base];
      for (let r = 0, rowOff = 0; r < rows; r++, rowOff += cols) {
        let node = 0;
        let f = rootFeature;
        while (f >= 0) {
          node = 2 * node + (data[rowOff + f] < value[base + node] ? 1 : 2);
          f = feature[base + node];
        }
        sums[r] += value[base + node];
      }
    }
    const scale = -1 / (this.trees * this.normalizer);
    for (let r = 0; r < rows; r++) sums[r] = 2 ** (sums[r] * scale);
    return sums;
  }

  toJSON(): ForestJSON {
    return {
      format: 'nta-iforest/1',
      trees: this.trees,
      cols: this.cols,
      sampleSize: this.sampleSize,
      maxDepth: this.maxDepth,
      feature: typedArrayToBase64(this.feature),
      value: typedArrayToBase64(this.value),
    };
  }
}

/** Grows one tree in the heap slots starting at `base`, over the row indexes idx[lo, hi). */
class TreeBuilder {
  constructor(
    private readonly data: Float64Array,
    private readonly cols: number,
    private readonly maxDepth: number,
    private readonly feature: Int8Array,
    private readonly value: Float32Array,
    private readonly idx: Int32Array,
    private readonly rng: SeededRandom,
  ) {}

  build(base: number, node: number, lo: number, hi: number, depth: number): void {
    const size = hi - lo;
    if (depth < this.maxDepth && size > 1) {
      // A feature constant over this node cannot split it; try others before giving up.
      for (let attempt = 0; attempt < this.cols; attempt++) {
        const f = this.rng.int(this.cols);
        const mid = this.trySplit(f, lo, hi, base + node);
        if (mid > lo && mid < hi) {
          this.feature[base + node] = f;
          this.build(base, 2 * node + 1, lo, mid, depth + 1);
          this.build(base, 2 * node + 2, mid, hi, depth + 1);
          return;
        }
      }
    }
    this.feature[base + node] = -1;
    this.value[base + node] = depth + averagePathLength(size);
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
    this.value[slot] = threshold;
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
  const nodes = nodesPerTree(maxDepth);
  const feature = new Int8Array(trees * nodes).fill(-1);
  const value = new Float32Array(trees * nodes);
  const rng = seededRandom(opts.seed ?? 1);
  // A partial Fisher-Yates shuffle per tree; the permutation carries over, which keeps each
  // tree's sample uniform without re-initialising `order`.
  const order = new Int32Array(rows);
  for (let i = 0; i < rows; i++) order[i] = i;
  const sample = new Int32Array(sampleSize);
  const builder = new TreeBuilder(data, cols, maxDepth, feature, value, sample, rng);
  for (let t = 0; t < trees; t++) {
    for (let i = 0; i < sampleSize; i++) {
      const j = i + rng.int(rows - i);
      const tmp = order[i];
      order[i] = order[j];
      order[j] = tmp;
      sample[i] = order[i];
    }
    builder.build(t * nodes, 0, 0, sampleSize, 0);
  }
  return new FlatForest(trees, cols, sampleSize, maxDepth, feature, value);
}

/** Restores a forest from `toJSON()` output; a corrupt or foreign document is an error value. */
export function forestFromJSON(json: unknown): ForestParseResult {
  const parsed = ForestJSON.safeParse(json);
  if (!parsed.success) return { ok: false, reason: `not a forest: ${z.prettifyError(parsed.error)}` };
  const { trees, cols, sampleSize, maxDepth } = parsed.data;
  if (maxDepth !== Math.ceil(Math.log2(sampleSize))) return { ok: false, reason: 'maxDepth does not match sampleSize' };
  const length = trees * nodesPerTree(maxDepth);
  const feature = int8FromBase64(parsed.data.feature, length);
  const value = float32FromBase64(parsed.data.value, length);
  if (feature === null || value === null) return { ok: false, reason: 'node arrays do not match the forest shape' };
  for (let i = 0; i < length; i++) {
    if (feature[i] >= cols) return { ok: false, reason: `split feature ${feature[i]} out of range` };
  }
  // A split whose children lie beyond the heap would walk off the tree.
  const nodes = nodesPerTree(maxDepth);
  const firstLeafLevel = 2 ** maxDepth - 1;
  for (let t = 0; t < trees; t++) {
    for (let n = firstLeafLevel; n < nodes; n++) {
      if (feature[t * nodes + n] >= 0) return { ok: false, reason: 'split below the maximum depth' };
    }
  }
  for (let i = 0; i < length; i++) {
    if (!Number.isFinite(value[i])) return { ok: false, reason: 'non-finite node value' };
  }
  return { ok: true, forest: new FlatForest(trees, cols, sampleSize, maxDepth, feature, value) };
}
