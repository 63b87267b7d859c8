/**
 * Reputation lookups (AbuseIPDB, VirusTotal) for the flow path, which must never wait on the
 * internet: `lookup(ip)` answers from memory at once, or queues the address and answers
 * undefined; a worker per service fetches within its quotas, and each verdict reaches the
 * memory cache, the durable IntelCache and the `onVerdict` callback (where the collector raises
 * threat_intel alerts). Only public addresses are looked up. Nothing here throws to the caller.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';
import { canonicalIp } from '@nta/shared';
import type { CircuitBreakerOptions } from './circuit-breaker.js';
import { LruCache } from './lru-cache.js';
import { InMemoryIntelCache } from './memory-intel-cache.js';
import { isPublicAddress } from './public-address.js';
import { DAY_MS, MINUTE_MS } from './rate-limiter.js';
import type { RateLimit } from './rate-limiter.js';
import { ReputationLane } from './reputation-lane.js';
import type { LaneErrorKind, LaneStats, LaneTimings, VerdictOrigin } from './reputation-lane.js';
import { silentLogger } from './types.js';
import type { IntelCache, IntelLogger, ReputationClient, Verdict, VerdictLevel, VerdictSource } from './types.js';

export type { VerdictOrigin } from './reputation-lane.js';

/** Free AbuseIPDB: 1,000 checks a day. Public VirusTotal: 4 requests a minute, 500 a day. */
export const DEFAULT_RATE_LIMITS: Record<VerdictSource, readonly RateLimit[]> = {
  abuseipdb: [{ requests: 1_000, perMs: DAY_MS }],
  virustotal: [
    { requests: 4, perMs: MINUTE_MS },
    { requests: 500, perMs: DAY_MS },
  ],
};

export interface ReputationServiceOptions {
  /** One client per service whose API key is configured; none means every lookup is undefined. */
  clients: readonly ReputationClient[];
  /** Durable verdicts (PostgreSQL in the collector). Default: an InMemoryIntelCache. */
  cache?: IntelCache;
  /** Every verdict that becomes known, from the API or from the durable cache. May be async. */
  onVerdict?: (verdict: Verdict, origin: VerdictOrigin) => void | Promise<void>;
  log?: IntelLogger;
  rateLimits?: Partial<Record<VerdictSource, readonly RateLimit[]>>;
  /** Per service, including the address being looked up. Default 1,000. */
  maxQueue?: number;
  /** Verdicts kept in memory for the synchronous answer. Default 100,000. */
  memoryEntries?: number;
  /** Default: verdicts 24 h, not-found 10 min, failed lookups retried after 10 min, 429 without Retry-After 60 s, 401/403 1 h, durable cache wait 2 s. */
  timings?: Partial<LaneTimings>;
  /** Default: open after 5 consecutive failures for 60 s, doubling up to 1 h. */
  circuit?: CircuitBreakerOptions;
  now?: () => number;
  /** How workers wait (tests shorten it); must resolve, not reject, when `signal` aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface ReputationStats {
  /** lookup() answers found in memory (per service). */
  cacheHits: number;
  /** lookup() calls for private, reserved or unparseable addresses, which are never queued. */
  skippedNonPublic: number;
  memoryEntries: number;
  /** Sums over services. */
  queued: number;
  dropped: number;
  requests: number;
  rateLimited: number;
  /** Lane failures summed over services, plus `callback`: onVerdict threw or rejected. */
  errors: Record<LaneErrorKind | 'callback', number>;
  services: Partial<Record<VerdictSource, LaneStats>>;
}

const LEVEL_RANK: Record<VerdictLevel, number> = { normal: 0, suspicious: 1, malicious: 2 };

const defaultSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  sleepFor(ms, undefined, { signal, ref: false }).then(
    () => undefined,
    () => undefined,
  );

export class ReputationService {
  private readonly lanes: ReputationLane[];
  private readonly running: Promise<void>[];
  /** `${source}|${ip}` → a verdict, or null for "asked recently, no answer worth keeping". */
  private readonly memory: LruCache<Verdict | null>;
  private readonly now: () => number;
  private readonly log: IntelLogger;
  private cacheHits = 0;
  private skippedNonPublic = 0;
  private callbackErrors = 0;

  constructor(private readonly options: ReputationServiceOptions) {
    this.now = options.now ?? Date.now;
    this.log = options.log ?? silentLogger;
    this.memory = new LruCache(options.memoryEntries ?? 100_000);
    const timings: LaneTimings = {
      verdictTtlMs: DAY_MS,
      notFoundTtlMs: 10 * MINUTE_MS,
      errorRetryMs: 10 * MINUTE_MS,
      defaultRetryAfterMs: MINUTE_MS,
      authPauseMs: 60 * MINUTE_MS,
      cacheTimeoutMs: 2_000,
      ...options.timings,
    };
    const cache = options.cache ?? new InMemoryIntelCache({ now: this.now });
    this.lanes = options.clients.map(
      (client) =>
        new ReputationLane({
          client,
          limits: options.rateLimits?.[client.source] ?? DEFAULT_RATE_LIMITS[client.source],
          maxQueue: options.maxQueue ?? 1_000,
          circuit: options.circuit ?? {},
          cache,
          timings,
          remember: (ip, verdict, expiresAtMs) => this.memory.set(`${client.source}|${ip}`, verdict ?? null, expiresAtMs),
          deliver: (verdict, origin) => this.deliver(verdict, origin),
          log: this.log,
          now: this.now,
          sleep: options.sleep ?? defaultSleep,
        }),
    );
    this.running = this.lanes.map((lane) => lane.run());
  }

  /**
   * The most severe verdict known for `ip` across services, or undefined; never waits. Services
   * without a fresh answer get the address queued (when it is public).
   */
  lookup(ip: string): Verdict | undefined {
    let worst: Verdict | undefined;
    for (const v of this.lookupAll(ip)) if (!worst || LEVEL_RANK[v.level] > LEVEL_RANK[worst.level]) worst = v;
    return worst;
  }

  /** Every verdict known for `ip`, one per service at most; queues the services that have none. */
  lookupAll(ip: string): Verdict[] {
    const found: Verdict[] = [];
    try {
      const key = canonicalIp(ip);
      if (key === undefined || !isPublicAddress(key)) {
        this.skippedNonPublic++;
        return found;
      }
      const now = this.now();
      for (const lane of this.lanes) {
        const known = this.memory.get(`${lane.source}|${key}`, now);
        if (known === undefined) {
          lane.enqueue(key);
          continue;
        }
        this.cacheHits++;
        if (known) found.push(known);
      }
    } catch (err) {
      this.log.error({ err }, 'reputation lookup failed');
    }
    return found;
  }

  stats(): ReputationStats {
    const services: Partial<Record<VerdictSource, LaneStats>> = {};
    const errors: Record<LaneErrorKind | 'callback', number> = { timeout: 0, network: 0, server: 0, malformed: 0, tooLarge: 0, auth: 0, badRequest: 0, cache: 0, callback: this.callbackErrors };
    let queued = 0;
    let dropped = 0;
    let requests = 0;
    let rateLimited = 0;
    for (const lane of this.lanes) {
      const s = lane.stats();
      services[lane.source] = s;
      queued += s.queued;
      dropped += s.dropped;
      requests += s.requests;
      rateLimited += s.rateLimited;
      for (const kind of Object.keys(s.errors) as LaneErrorKind[]) errors[kind] += s.errors[kind];
    }
    return { cacheHits: this.cacheHits, skippedNonPublic: this.skippedNonPublic, memoryEntries: this.memory.size, queued, dropped, requests, rateLimited, errors, services };
  }

  /** Stops the workers, aborting requests in flight; resolves when they have ended. */
  async stop(): Promise<void> {
    for (const lane of this.lanes) lane.stop();
    await Promise.all(this.running);
  }

  private deliver(verdict: Verdict, origin: VerdictOrigin): void {
    const callback = this.options.onVerdict;
    if (!callback) return;
    try {
      const result = callback(verdict, origin);
      if (result instanceof Promise) result.catch((err: unknown) => this.callbackFailed(err));
    } catch (err) {
      this.callbackFailed(err);
    }
  }

  private callbackFailed(err: unknown): void {
    this.callbackErrors++;
    this.log.error({ err }, 'onVerdict callback failed');
  }
}
