/**
 * Token buckets for a service's quotas, e.g. VirusTotal's public API: 4 requests a minute and
 * 500 a day. A request needs a token from every bucket; each bucket starts full and refills
 * continuously at requests/perMs. Time is passed in, so tests drive it.
 */

export interface RateLimit {
  requests: number;
  perMs: number;
}

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

interface Bucket {
  capacity: number;
  tokens: number;
  refillPerMs: number;
}

export class RateLimiter {
  private readonly buckets: Bucket[];
  private lastRefillMs: number;

  constructor(limits: readonly RateLimit[], nowMs: number) {
    this.buckets = limits.map((l) => ({ capacity: l.requests, tokens: l.requests, refillPerMs: l.requests / l.perMs }));
    this.lastRefillMs = nowMs;
  }

  /** Takes a token from every bucket and returns 0, or takes nothing and returns the ms until it could. */
  tryTake(nowMs: number): number {
    const elapsed = Math.max(0, nowMs - this.lastRefillMs);
    this.lastRefillMs = nowMs;
    let waitMs = 0;
    for (const b of this.buckets) {
      b.tokens = Math.min(b.capacity, b.tokens + elapsed * b.refillPerMs);
      // The epsilon absorbs float error so a bucket refilled for exactly 1/rate ms has its token.
      if (b.tokens < 1 - 1e-9) waitMs = Math.max(waitMs, Math.ceil((1 - b.tokens) / b.refillPerMs));
    }
    if (waitMs > 0) return waitMs;
    for (const b of this.buckets) b.tokens = Math.max(0, b.tokens - 1);
    return 0;
  }
}
