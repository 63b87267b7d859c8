/**
 * A bounded cache with near-LRU behaviour at plain-Map cost: entries live in a young and
 * an old generation; when the young one fills half the capacity it becomes the old one and
 * the previous old generation is dropped whole. A hit in the old generation moves the entry
 * back to the young one, so addresses seen again and again survive every rotation, while a
 * hit in the young generation costs a single Map lookup (a true LRU reorders on every hit).
 */
export class GenerationalCache<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
  private readonly generationSize: number;
  private hitCount = 0;
  private missCount = 0;

  /** `capacity` bounds the entries held at once (both generations together). */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 2) throw new RangeError(`cache capacity must be an integer >= 2, got ${capacity}`);
    this.generationSize = Math.floor(capacity / 2);
  }

  get(key: K): V | undefined {
    let value = this.young.get(key);
    if (value !== undefined) {
      this.hitCount++;
      return value;
    }
    value = this.old.get(key);
    if (value !== undefined) {
      this.hitCount++;
      this.old.delete(key);
      this.set(key, value);
      return value;
    }
    this.missCount++;
    return undefined;
  }

  set(key: K, value: V): void {
    if (this.young.size >= this.generationSize && !this.young.has(key)) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }

  clear(): void {
    this.young = new Map();
    this.old = new Map();
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  stats(): { size: number; capacity: number; hits: number; misses: number } {
    return { size: this.size, capacity: this.capacity, hits: this.hitCount, misses: this.missCount };
  }
}
