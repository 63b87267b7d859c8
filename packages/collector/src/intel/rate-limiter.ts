/**
 * A service's quotas as sliding windows, e.g. VirusTotal's public API: 4 requests a minute and
 * 500 a day. A request is allowed when, for every limit, fewer than `requests` were made in the
 * last `perMs`. Unlike a token bucket that starts full (which lets twice the daily quota through
 * in the first 24 hours), this never exceeds a quota over any window, whether the service counts
 * by sliding window or resets at a fixed hour. Time is passed in, so tests drive it.
 */

export interface RateLimit {
  requests: number;
  perMs: number;
}

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

/** The times of the last `requests` grants, oldest at `head` once full. */
interface Window {
  limit: RateLimit;
  grants: number[];
  head: number;
}

export class RateLimiter {
  private readonly windows: Window[];

  constructor(limits: readonly RateLimit[]) {
    this.windows = limits.filter((l) => l.requests > 0).map((limit) => ({ limit, grants: [], head: 0 }));
  }

  /** Records a request and returns 0, or records nothing and returns the ms until one is allowed. */
  tryTake(nowMs: number): number {
    let waitMs = 0;
    for (const w of this.windows) {
      if (w.grants.length < w.limit.requests) continue;
      const oldest = w.grants[w.head];
      waitMs = Math.max(waitMs, oldest + w.limit.perMs - nowMs);
    }
    if (waitMs > 0) return waitMs;
    for (const w of this.windows) {
      if (w.grants.length < w.limit.requests) {
        w.grants.push(nowMs);
      } else {
        w.grants[w.head] = nowMs;
        w.head = (w.head + 1) % w.limit.requests;
      }
    }
    return 0;
  }
}
