import { BoundedMap } from './bounded-map.js';

interface Entry {
  ms: number;
  tag: number;
}

/**
 * The distinct elements (ports, hosts, names) one key touched within a sliding event-time
 * window, each with a small numeric tag (a detector's 0/1 mark, e.g. "got no answer") whose sum is kept. Entries sit in
 * recency order, so expiry drops from the front. At most `maxElements`; past that the oldest goes.
 */
export class WindowedDistinct {
  private readonly entries = new Map<string, Entry>();
  /** Sum of the tags of the entries held. */
  tagSum = 0;
  newestMs = -Infinity;
  readonly flowIds: string[] = [];

  constructor(private readonly maxElements: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** Adds or refreshes an element; returns the change in element count (+1, 0, or 0 with an eviction). */
  add(element: string, ms: number, tag: number): number {
    if (ms > this.newestMs) this.newestMs = ms;
    const had = this.entries.get(element);
    if (had !== undefined) {
      this.entries.delete(element);
      this.tagSum += tag - had.tag;
      had.tag = tag;
      if (ms > had.ms) had.ms = ms;
      this.entries.set(element, had);
      return 0;
    }
    this.entries.set(element, { ms, tag });
    this.tagSum += tag;
    if (this.entries.size > this.maxElements) {
      this.removeOldest();
      return 0;
    }
    return 1;
  }

  /** Drops elements last seen before `cutoffMs`; returns how many. */
  expireBefore(cutoffMs: number): number {
    let removed = 0;
    for (const [element, e] of this.entries) {
      if (e.ms >= cutoffMs) break;
      this.entries.delete(element);
      this.tagSum -= e.tag;
      removed++;
    }
    return removed;
  }

  /** Event time of the oldest element held. */
  oldestMs(): number {
    const first = this.entries.values().next();
    return first.done === true ? this.newestMs : first.value.ms;
  }

  elements(): IterableIterator<string> {
    return this.entries.keys();
  }

  /** Elements with their tags, oldest first. */
  *tagged(): IterableIterator<[string, number]> {
    for (const [element, e] of this.entries) yield [element, e.tag];
  }

  private removeOldest(): void {
    const first = this.entries.entries().next();
    if (first.done === true) return;
    const [element, e] = first.value;
    this.entries.delete(element);
    this.tagSum -= e.tag;
  }
}

export interface DistinctTableOptions {
  windowMs: number;
  maxKeys: number;
  maxElementsPerKey: number;
  /** Budget over all keys together; the least recently updated keys go first when it is exceeded. */
  maxTotalElements: number;
}

/**
 * Many WindowedDistinct sets by key, within a key cap and a total element budget, so hostile
 * traffic (100k sources, each touching many ports) costs bounded memory.
 */
export class DistinctTable {
  private readonly keys: BoundedMap<string, WindowedDistinct>;
  private totalElements = 0;

  constructor(private readonly opts: DistinctTableOptions) {
    this.keys = new BoundedMap(opts.maxKeys, (_key, set) => {
      this.totalElements -= set.size;
    });
  }

  get size(): number {
    return this.keys.size;
  }

  get evictions(): number {
    return this.keys.evictions;
  }

  get elementCount(): number {
    return this.totalElements;
  }

  get(key: string): WindowedDistinct | undefined {
    return this.keys.peek(key);
  }

  /**
   * Records `element` for `key` at `ms` (creating the key only when `create`), expires what fell
   * out of the key's window, and returns the key's set (undefined when absent and not created).
   */
  add(key: string, element: string, ms: number, tag: number, create: boolean): WindowedDistinct | undefined {
    const set = create
      ? this.keys.upsert(key, () => new WindowedDistinct(this.opts.maxElementsPerKey))
      : this.keys.upsert(key);
    if (set === undefined) return undefined;
    // Elements older than the window are late arrivals: they cannot make the key's window.
    if (ms < set.newestMs - this.opts.windowMs) return set;
    this.totalElements += set.add(element, ms, tag);
    this.totalElements -= set.expireBefore(set.newestMs - this.opts.windowMs);
    while (this.totalElements > this.opts.maxTotalElements && this.keys.size > 1) this.keys.evictOldest();
    return set;
  }

  /** Drops keys whose newest element is older than a window before `watermarkMs`. */
  expire(watermarkMs: number): void {
    this.keys.evictWhile((set) => set.newestMs < watermarkMs - this.opts.windowMs);
  }
}
