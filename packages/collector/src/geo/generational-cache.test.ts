import { describe, expect, it } from 'vitest';
import { GenerationalCache } from './generational-cache.js';

describe('generational-cache', () => {
  it('generational-cache - never holds more than its capacity', () => {
    const cache = new GenerationalCache<string, number>(100);
    for (let i = 0; i < 10_000; i++) {
      cache.set(`k${i}`, i);
      expect(cache.size).toBeLessThanOrEqual(100);
    }
    expect(cache.size).toBeGreaterThanOrEqual(50);
  });

  it('generational-cache - keeps a key that keeps being read while others stream past', () => {
    const cache = new GenerationalCache<string, number>(64);
    cache.set('hot', 1);
    for (let i = 0; i < 5_000; i++) {
      cache.set(`cold${i}`, i);
      expect(cache.get('hot')).toBe(1);
    }
    expect(cache.get('cold0')).toBeUndefined();
    expect(cache.get('cold4999')).toBe(4999);
  });

  it('generational-cache - counts hits and misses, and clear empties it', () => {
    const cache = new GenerationalCache<number, string>(10);
    cache.set(1, 'a');
    cache.get(1);
    cache.get(2);
    expect(cache.stats()).toEqual({ size: 1, capacity: 10, hits: 1, misses: 1 });
    cache.clear();
    expect(cache.get(1)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('generational-cache - refuses a capacity it cannot honour', () => {
    expect(() => new GenerationalCache(1)).toThrow(RangeError);
    expect(() => new GenerationalCache(Number.NaN)).toThrow(RangeError);
  });
});
