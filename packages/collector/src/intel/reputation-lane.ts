/**
 * One reputation service's queue and worker: a bounded, de-duplicated queue of addresses drained
 * one request at a time, within the service's rate limits, pausing for Retry-After on 429 and
 * behind a circuit breaker when the service keeps failing. Results go to the memory callback,
 * the durable IntelCache and the verdict callback. Nothing here rejects or throws to its caller.
 */
import { CircuitBreaker } from './circuit-breaker.js';
import type { CircuitBreakerOptions } from './circuit-breaker.js';
import { RateLimiter } from './rate-limiter.js';
import type { RateLimit } from './rate-limiter.js';
import type { IntelCache, IntelLogger, LookupFailureKind, ReputationClient, Verdict } from './types.js';

export type VerdictOrigin = 'api' | 'cache';

export type LaneErrorKind = 'timeout' | 'network' | 'server' | 'malformed' | 'tooLarge' | 'auth' | 'badRequest' | 'cache';

export interface LaneStats {
  /** Addresses waiting, including the one being looked up. */
  queued: number;
  /** Addresses refused because the queue was full. */
  dropped: number;
  requests: number;
  verdicts: number;
  /** Answers found in the durable IntelCache, costing no request. */
  persistentCacheHits: number;
  /** 429 answers. */
  rateLimited: number;
  /** Times the worker waited because its own rate limit was used up. */
  throttled: number;
  errors: Record<LaneErrorKind, number>;
  circuit: 'closed' | 'open' | 'half-open';
  /** Until when a 429 or an auth failure pauses this service; null when not paused. */
  pausedUntilMs: number | null;
}

export interface LaneTimings {
  verdictTtlMs: number;
  /** How long "the service knows nothing" is believed (cached as a normal verdict). */
  notFoundTtlMs: number;
  /** An address whose lookup failed is not retried sooner than this. */
  errorRetryMs: number;
  /** Pause after a 429 without a usable Retry-After. */
  defaultRetryAfterMs: number;
  /** Pause after 401/403. */
  authPauseMs: number;
  /** Longest wait for the durable cache before treating it as a miss. */
  cacheTimeoutMs: number;
}

export interface LaneOptions {
  client: ReputationClient;
  limits: readonly RateLimit[];
  maxQueue: number;
  circuit: CircuitBreakerOptions;
  cache: IntelCache;
  timings: LaneTimings;
  /** Store in the service's memory: a verdict, or undefined for "do not ask again before expiry". */
  remember: (ip: string, verdict: Verdict | undefined, expiresAtMs: number) => void;
  deliver: (verdict: Verdict, origin: VerdictOrigin) => void;
  log: IntelLogger;
  now: () => number;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
}

const FAILURE_STAT: Record<Exclude<LookupFailureKind, 'aborted' | 'rate-limited'>, LaneErrorKind> = {
  timeout: 'timeout',
  network: 'network',
  server: 'server',
  malformed: 'malformed',
  'too-large': 'tooLarge',
  auth: 'auth',
  'bad-request': 'badRequest',
};

export class ReputationLane {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly limiter: RateLimiter;
  private readonly breaker: CircuitBreaker;
  private readonly stopping = new AbortController();
  private pausedUntilMs = 0;
  private wake: (() => void) | undefined;
  private readonly counters = { dropped: 0, requests: 0, verdicts: 0, persistentCacheHits: 0, rateLimited: 0, throttled: 0 };
  private readonly errors: Record<LaneErrorKind, number> = { timeout: 0, network: 0, server: 0, malformed: 0, tooLarge: 0, auth: 0, badRequest: 0, cache: 0 };

  constructor(private readonly options: LaneOptions) {
    this.limiter = new RateLimiter(options.limits);
    this.breaker = new CircuitBreaker(options.circuit);
  }

  get source(): ReputationClient['source'] {
    return this.options.client.source;
  }

  /** Queues `ip` unless it is already queued; counts it as dropped when the queue is full. */
  enqueue(ip: string): void {
    if (this.queued.has(ip) || this.stopping.signal.aborted) return;
    if (this.queued.size >= this.options.maxQueue) {
      this.counters.dropped++;
      return;
    }
    this.queued.add(ip);
    this.queue.push(ip);
    this.wake?.();
  }

  stats(): LaneStats {
    const now = this.options.now();
    return {
      queued: this.queued.size,
      ...this.counters,
      errors: { ...this.errors },
      circuit: this.breaker.state(now),
      pausedUntilMs: this.pausedUntilMs > now ? this.pausedUntilMs : null,
    };
  }

  stop(): void {
    this.stopping.abort();
    this.wake?.();
  }

  /** The worker loop; resolves after stop(). */
  async run(): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      const ip = this.queue[0];
      if (ip === undefined) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      let done = true;
      try {
        done = await this.process(ip);
      } catch (err) {
        // Defensive: process() turns every failure into a value; this keeps the loop alive regardless.
        this.options.log.error({ source: this.source, err }, 'reputation worker error');
      }
      if (done) {
        this.queue.shift();
        this.queued.delete(ip);
      }
    }
  }

  /** Returns false when the address must be tried again (rate limited, paused, stopping). */
  private async process(ip: string): Promise<boolean> {
    const cached = await this.fromDurableCache(ip);
    if (cached) {
      this.counters.persistentCacheHits++;
      const ttl = cached.details.notFound === true ? this.options.timings.notFoundTtlMs : this.options.timings.verdictTtlMs;
      this.options.remember(ip, cached, cached.fetchedAtMs + ttl);
      this.options.deliver(cached, 'cache');
      return true;
    }
    if (!(await this.waitForTurn())) return false;

    this.counters.requests++;
    const outcome = await this.options.client.check(ip, this.stopping.signal);
    const { timings, now } = this.options;
    switch (outcome.kind) {
      case 'verdict':
        this.breaker.recordSuccess();
        this.accept(outcome.verdict, timings.verdictTtlMs);
        return true;
      case 'not-found':
        this.breaker.recordSuccess();
        this.accept(this.notFoundVerdict(ip), timings.notFoundTtlMs);
        return true;
      case 'aborted':
        return false;
      case 'rate-limited':
        this.counters.rateLimited++;
        this.pause(outcome.retryAfterMs ?? timings.defaultRetryAfterMs, 'warn', 'rate limited (429); pausing', outcome.message);
        return false;
      case 'auth':
        this.errors.auth++;
        this.pause(timings.authPauseMs, 'error', 'API key rejected; pausing', outcome.message);
        return false;
      case 'bad-request':
        this.errors.badRequest++;
        this.options.remember(ip, undefined, now() + timings.errorRetryMs);
        return true;
      default: {
        this.errors[FAILURE_STAT[outcome.kind]]++;
        const wasClosed = this.breaker.state(now()) !== 'open';
        this.breaker.recordFailure(now());
        if (wasClosed && this.breaker.state(now()) === 'open') {
          this.options.log.warn({ source: this.source, reason: outcome.kind, err: outcome.message, retryInMs: this.breaker.waitMs(now()) }, 'reputation service failing; circuit open');
        }
        this.options.remember(ip, undefined, now() + timings.errorRetryMs);
        return true;
      }
    }
  }

  private accept(verdict: Verdict, ttlMs: number): void {
    this.counters.verdicts++;
    this.options.remember(verdict.ip, verdict, this.options.now() + ttlMs);
    try {
      this.options.cache.put(verdict, ttlMs).catch(() => this.errors.cache++);
    } catch {
      this.errors.cache++;
    }
    this.options.deliver(verdict, 'api');
  }

  private notFoundVerdict(ip: string): Verdict {
    return { source: this.source, ip, level: 'normal', score: 0, summary: `${this.source}: no data for this address`, details: { notFound: true }, fetchedAtMs: this.options.now() };
  }

  private pause(ms: number, level: 'warn' | 'error', message: string, detail: string): void {
    this.pausedUntilMs = this.options.now() + ms;
    this.options.log[level]({ source: this.source, pauseMs: ms, detail }, `reputation service ${message}`);
  }

  /** Waits for the pause, the circuit and the rate limit. False when stopping. */
  private async waitForTurn(): Promise<boolean> {
    const { now, sleep } = this.options;
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      const t = now();
      let waitMs = Math.max(this.pausedUntilMs - t, this.breaker.waitMs(t), 0);
      if (waitMs === 0) {
        waitMs = this.limiter.tryTake(t);
        if (waitMs === 0) return true;
        this.counters.throttled++;
      }
      await sleep(waitMs, signal);
    }
    return false;
  }

  private async fromDurableCache(ip: string): Promise<Verdict | undefined> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => {
          this.errors.cache++;
          resolve(undefined);
        }, this.options.timings.cacheTimeoutMs);
      });
      return await Promise.race([this.options.cache.get(this.source, ip), timeout]);
    } catch {
      this.errors.cache++;
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}
