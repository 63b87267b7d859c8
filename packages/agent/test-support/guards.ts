/** A view of `bytes` that throws when a parser reads an index outside [off, end). */
export function guarded(bytes: Uint8Array, off: number, end: number): Uint8Array {
  return new Proxy(bytes, {
    get(target, key) {
      if (typeof key === 'string') {
        const i = Number(key);
        if (key !== '' && Number.isInteger(i) && (i < off || i >= end)) throw new Error(`read at ${i} outside [${off}, ${end})`);
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Deterministic PRNG (mulberry32), so a fuzz failure reproduces. */
export function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
