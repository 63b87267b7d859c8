import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './circuit-breaker.js';
import { DAY_MS, MINUTE_MS, RateLimiter } from './rate-limiter.js';

describe('rate-limiter', () => {
  it('rate-limiter - the VirusTotal public quota: 4 a minute, and no more than 500 a day', () => {
    let now = 0;
    const limiter = new RateLimiter([{ requests: 4, perMs: MINUTE_MS }, { requests: 500, perMs: DAY_MS }]);
    let granted = 0;
    // Ask every second for a day; a bucket that starts full would grant about 1,000.
    for (; now < DAY_MS; now += 1_000) if (limiter.tryTake(now) === 0) granted++;
    expect(granted).toBe(500);
    // The 500 went out at 4 a minute, so the first is 125 minutes old: the day window frees it then.
    expect(limiter.tryTake(now)).toBe(0);
    const perMinute = new RateLimiter([{ requests: 4, perMs: MINUTE_MS }]);
    const grantedAt = Array.from({ length: 180 }, (_, s) => s * 1_000).filter((t) => perMinute.tryTake(t) === 0);
    expect(grantedAt).toEqual([0, 1_000, 2_000, 3_000, 60_000, 61_000, 62_000, 63_000, 120_000, 121_000, 122_000, 123_000]);
  });

  it('rate-limiter - says how long until the next token and grants it then', () => {
    const limiter = new RateLimiter([{ requests: 1, perMs: 10_000 }]);
    expect(limiter.tryTake(0)).toBe(0);
    const wait = limiter.tryTake(1_000);
    expect(wait).toBe(9_000);
    expect(limiter.tryTake(1_000 + wait - 1)).toBeGreaterThan(0);
    expect(limiter.tryTake(1_000 + wait)).toBe(0);
  });
});

describe('circuit-breaker', () => {
  it('circuit-breaker - opens after the threshold, half-opens after the cooldown, doubles it on a failed trial', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2, openMs: 1_000, maxOpenMs: 3_000 });
    breaker.recordFailure(0);
    expect(breaker.state(0)).toBe('closed');
    breaker.recordFailure(0);
    expect(breaker.state(0)).toBe('open');
    expect(breaker.waitMs(400)).toBe(600);
    expect(breaker.state(1_000)).toBe('half-open');
    breaker.recordFailure(1_000);
    expect(breaker.waitMs(1_000)).toBe(2_000);
    breaker.recordFailure(3_000);
    expect(breaker.waitMs(3_000)).toBe(3_000);
    breaker.recordSuccess();
    expect(breaker.state(3_000)).toBe('closed');
  });
});
