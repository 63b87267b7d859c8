import { randomBytes } from 'node:crypto';

/** MurmurHash3-style mixing of 32-bit words: fast, allocation-free, well distributed. */
export function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

export function finalize(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A seed no one outside the process knows: crafted packets cannot aim at one bucket. */
export function randomSeed(): number {
  return randomBytes(4).readUInt32LE(0);
}

export function hash2(seed: number, a: number, b: number, ports: number, proto: number): number {
  return finalize(mix(mix(mix(mix(seed, a), b), ports), proto));
}

export function hash8(
  seed: number,
  a0: number, a1: number, a2: number, a3: number,
  b0: number, b1: number, b2: number, b3: number,
  ports: number, proto: number,
): number {
  let h = mix(seed, a0);
  h = mix(h, a1);
  h = mix(h, a2);
  h = mix(h, a3);
  h = mix(h, b0);
  h = mix(h, b1);
  h = mix(h, b2);
  h = mix(h, b3);
  h = mix(h, ports);
  return finalize(mix(h, proto));
}
