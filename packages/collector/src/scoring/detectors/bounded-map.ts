/**
 * A Map with a size cap and least-recently-updated eviction. `upsert` moves a key to the young
 * end, so iteration order is roughly event-time order and `evictWhile` can drop expired keys from
 * the old end without scanning the rest. Evictions are counted, never silent.
 */
export class BoundedMap<K, V> {
  private map = new Map<K, V>();
  evictions = 0;
  /** Entries removed from the old end since the map was last rebuilt (see compactIfNeeded). */
  private removedSinceRebuild = 0;

  constructor(
    readonly capacity: number,
    private readonly onEvict?: (key: K, value: V) => void,
  ) {
    if (!(capacity >= 1)) throw new RangeError('BoundedMap: capacity must be >= 1');
  }

  get size(): number {
    return this.map.size;
  }

  /** Looks a key up without refreshing it. */
  peek(key: K): V | undefined {
    return this.map.get(key);
  }

  /** Returns the value (refreshed) or, with `create`, a new one; evicts the oldest when over the cap. */
  upsert(key: K, create: () => V): V;
  upsert(key: K, create?: () => V): V | undefined;
  upsert(key: K, create?: () => V): V | undefined {
    const had = this.map.get(key);
    if (had !== undefined) {
      this.map.delete(key);
      this.map.set(key, had);
      return had;
    }
    if (create === undefined) return undefined;
    const value = create();
    this.map.set(key, value);
    if (this.map.size > this.capacity) this.evictOldest();
    return value;
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.capacity) this.evictOldest();
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  /** Drops the oldest entries as long as `expired` says so; stops at the first live one. */
  evictWhile(expired: (value: V, key: K) => boolean): void {
    for (const [key, value] of this.map) {
      if (!expired(value, key)) break;
      this.map.delete(key);
      this.removedSinceRebuild++;
      this.onEvict?.(key, value);
    }
    this.compactIfNeeded();
  }

  evictOldest(): void {
    const first = this.map.entries().next();
    if (first.done === true) return;
    const [key, value] = first.value;
    this.map.delete(key);
    this.evictions++;
    this.removedSinceRebuild++;
    this.onEvict?.(key, value);
    this.compactIfNeeded();
  }

  /**
   * V8's Map keeps deleted entries as holes at the front of its table until it rehashes,
   * and every walk from the old end steps over them: evicting one key at a time from a
   * full map became linear in the holes (6% of ingest time). Rebuilding every ~10·√n
   * removals balances the walk over holes against the cost of a rebuild.
   */
  private compactIfNeeded(): void {
    if (this.removedSinceRebuild < Math.max(256, 10 * Math.sqrt(this.map.size))) return;
    this.map = new Map(this.map);
    this.removedSinceRebuild = 0;
  }

  values(): IterableIterator<V> {
    return this.map.values();
  }
}
