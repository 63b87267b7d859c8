/** The IntelCache kept in process memory: for tests and for running without a database. */
import { LruCache } from './lru-cache.js';
import type { IntelCache, Verdict, VerdictSource } from './types.js';

export class InMemoryIntelCache implements IntelCache {
  private readonly verdicts: LruCache<Verdict>;
  private readonly now: () => number;

  constructor(options: { maxEntries?: number; now?: () => number } = {}) {
    this.verdicts = new LruCache(options.maxEntries ?? 100_000);
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.verdicts.size;
  }

  async get(source: VerdictSource, ip: string): Promise<Verdict | undefined> {
    return this.verdicts.get(`${source}|${ip}`, this.now());
  }

  async put(verdict: Verdict, ttlMs: number): Promise<void> {
    this.verdicts.set(`${verdict.source}|${verdict.ip}`, verdict, this.now() + ttlMs);
  }
}
