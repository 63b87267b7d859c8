/**
 * Stops calling a service that keeps failing: after `failureThreshold` consecutive failures the
 * circuit opens for `openMs`, doubling on each failed trial up to `maxOpenMs`. When the time is up
 * one trial request goes through (half-open); a success closes the circuit, a failure reopens it.
 */

export interface CircuitBreakerOptions {
  failureThreshold?: number;
  openMs?: number;
  maxOpenMs?: number;
}

export class CircuitBreaker {
  private consecutiveFailures = 0;
  private openUntilMs = 0;
  private nextOpenMs: number;
  private readonly failureThreshold: number;
  private readonly baseOpenMs: number;
  private readonly maxOpenMs: number;

  constructor(options: CircuitBreakerOptions = {}) {
    this.failureThreshold = options.failureThreshold ?? 5;
    this.baseOpenMs = options.openMs ?? 60_000;
    this.maxOpenMs = options.maxOpenMs ?? 3_600_000;
    this.nextOpenMs = this.baseOpenMs;
  }

  state(nowMs: number): 'closed' | 'open' | 'half-open' {
    if (this.consecutiveFailures < this.failureThreshold) return 'closed';
    return nowMs < this.openUntilMs ? 'open' : 'half-open';
  }

  /** Ms until a request may be made; 0 when closed or half-open. */
  waitMs(nowMs: number): number {
    return this.state(nowMs) === 'open' ? this.openUntilMs - nowMs : 0;
  }

  recordSuccess(): void {
    this.consecutiveFailures = 0;
    this.nextOpenMs = this.baseOpenMs;
  }

  recordFailure(nowMs: number): void {
    this.consecutiveFailures++;
    if (this.consecutiveFailures >= this.failureThreshold) {
      this.openUntilMs = nowMs + this.nextOpenMs;
      this.nextOpenMs = Math.min(this.nextOpenMs * 2, this.maxOpenMs);
    }
  }
}
