import { describe, expect, it } from 'vitest';
import { flattenRanges } from './range-flatten.js';
import type { Ranges } from './range-flatten.js';

/** Brute force: for each address, which input range wins (latest start; then narrowest; then last listed). */
function winnerAt(input: Ranges, addr: bigint): number | null {
  let best = -1;
  for (let i = 0; i < input.starts.length; i++) {
    if (input.starts[i] > addr || input.ends[i] < addr) continue;
    if (best < 0) {
      best = i;
      continue;
    }
    const later = input.starts[i] > input.starts[best];
    const sameStartNarrower = input.starts[i] === input.starts[best] && input.ends[i] <= input.ends[best];
    if (later || sameStartNarrower) best = i;
  }
  return best < 0 ? null : input.values[best];
}

function valueAt(flat: Ranges, addr: bigint): number | null {
  for (let i = 0; i < flat.starts.length; i++) if (flat.starts[i] <= addr && addr <= flat.ends[i]) return flat.values[i];
  return null;
}

/** Small deterministic PRNG so a failure can be replayed. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('range-flatten', () => {
  it('range-flatten - a nested range splits its parent, which resumes after it', () => {
    const flat = flattenRanges({ starts: [0n, 10n], ends: [100n, 20n], values: [1, 2] });
    expect(flat).toEqual({ starts: [0n, 10n, 21n], ends: [9n, 20n, 100n], values: [1, 2, 1] });
  });

  it('range-flatten - a partly overlapping later range takes the overlap', () => {
    const flat = flattenRanges({ starts: [0n, 50n], ends: [60n, 100n], values: [1, 2] });
    expect(flat).toEqual({ starts: [0n, 50n], ends: [49n, 100n], values: [1, 2] });
  });

  it('range-flatten - matches a brute-force reference on random overlapping ranges', () => {
    const random = lcg(42);
    for (let round = 0; round < 300; round++) {
      const n = 1 + Math.floor(random() * 8);
      const input: Ranges = { starts: [], ends: [], values: [] };
      for (let i = 0; i < n; i++) {
        const a = BigInt(Math.floor(random() * 64));
        const b = a + BigInt(Math.floor(random() * 20));
        input.starts.push(a);
        input.ends.push(b);
        input.values.push(i);
      }
      const flat = flattenRanges(input);
      for (let i = 1; i < flat.starts.length; i++) expect(flat.starts[i]).toBeGreaterThan(flat.ends[i - 1]);
      for (let addr = 0n; addr < 90n; addr++) expect(valueAt(flat, addr), `round ${round} addr ${addr}`).toBe(winnerAt(input, addr));
    }
  });
});
