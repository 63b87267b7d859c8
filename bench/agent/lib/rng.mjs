// Deterministic pseudo-random numbers (sfc32): the same seed gives the same capture on
// every machine and every Node version, which Math.random cannot promise.

export class Rng {
  /** @param {number} seed */
  constructor(seed) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.u32();
  }

  /** @returns {number} uniform in [0, 2^32) */
  u32() {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** @returns {number} uniform in [0, 1) */
  float() {
    return this.u32() / 4294967296;
  }

  /** @param {number} n @returns {number} integer in [0, n) */
  int(n) {
    return Math.floor(this.float() * n);
  }

  /** @param {number} lo @param {number} hi @returns {number} integer in [lo, hi] */
  range(lo, hi) {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  /** @param {number} p @returns {boolean} true with probability p */
  chance(p) {
    return this.float() < p;
  }

  /** @template T @param {readonly T[]} items @returns {T} */
  pick(items) {
    return items[Math.floor(this.float() * items.length)];
  }

  /** @param {number} mean @returns {number} exponentially distributed */
  exp(mean) {
    return -Math.log(1 - this.float()) * mean;
  }

  /**
   * Pareto-distributed value (heavy tail: most small, a few very large), capped.
   * @param {number} min @param {number} alpha @param {number} max
   */
  pareto(min, alpha, max) {
    return Math.min(max, min / Math.pow(1 - this.float(), 1 / alpha));
  }

  /** @param {Uint8Array} out @returns {Uint8Array} `out`, filled with random bytes */
  fill(out) {
    let i = 0;
    for (; i + 4 <= out.length; i += 4) {
      const v = this.u32();
      out[i] = v >>> 24;
      out[i + 1] = v >>> 16;
      out[i + 2] = v >>> 8;
      out[i + 3] = v;
    }
    for (; i < out.length; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

/**
 * Picks among weighted choices in O(log n).
 * @template T
 */
export class Weighted {
  /** @param {ReadonlyArray<readonly [T, number]>} entries value and weight */
  constructor(entries) {
    /** @type {T[]} */
    this.values = entries.map((e) => e[0]);
    let total = 0;
    this.cumulative = Float64Array.from(entries, (e) => (total += e[1]));
    this.total = total;
  }

  /** @param {Rng} rng @returns {T} */
  pick(rng) {
    const x = rng.float() * this.total;
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cumulative[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return this.values[lo];
  }
}
