import { seededRandom, type SeededRandom } from './seeded-random.js';

/**
 * A bounded uniform sample of feature rows (reservoir sampling, Vitter's algorithm R), the
 * training set of the next model.
 *
 * Plain algorithm R samples the whole history evenly, which would let last week outvote the
 * last ten minutes. `startEpoch()` (called when a model is trained) makes the rows held so far
 * count as only `capacity` rows of history, so after N more rows about capacity / (capacity + N)
 * of the sample is older than the last training: at high rates the sample is almost all recent,
 * at low rates it keeps enough older rows to train on.
 *
 * The caller writes a row only when the reservoir takes it (`reserveRow`), so a full reservoir
 * at high rates costs one random draw per row and no feature extraction.
 */
export class FeatureReservoir {
  readonly data: Float64Array;
  private size = 0;
  private seen = 0;
  private readonly rng: SeededRandom;

  constructor(
    readonly capacityRows: number,
    readonly cols: number,
    seed = 1,
  ) {
    if (!(capacityRows >= 1) || !(cols >= 1)) throw new RangeError('FeatureReservoir: capacity and cols must be >= 1');
    this.data = new Float64Array(capacityRows * cols);
    this.rng = seededRandom(seed);
  }

  get rows(): number {
    return this.size;
  }

  /** Rows offered since the reservoir was made (or since the last epoch, plus the carried weight). */
  get offered(): number {
    return this.seen;
  }

  /** Offers one row: returns the offset in `data` to write it at, or -1 when it is not kept. */
  reserveRow(): number {
    this.seen++;
    if (this.size < this.capacityRows) return this.size++ * this.cols;
    const j = this.rng.int(this.seen);
    return j < this.capacityRows ? j * this.cols : -1;
  }

  /** Called after a training: what is held now weighs as `capacity` rows against what comes next. */
  startEpoch(): void {
    this.seen = Math.min(this.seen, this.capacityRows);
  }

  /** A copy of the rows held, row-major. */
  snapshot(): { data: Float64Array; rows: number } {
    return { data: this.data.slice(0, this.size * this.cols), rows: this.size };
  }
}
