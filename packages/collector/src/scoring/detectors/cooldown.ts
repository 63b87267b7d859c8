import { BoundedMap } from './bounded-map.js';

/**
 * One alert per subject per cooldown: remembers until when each subject is quiet, in event time.
 * Bounded; a subject forgotten under pressure may alert again early, which is the safe side.
 */
export class Cooldown {
  private readonly until: BoundedMap<string, number>;

  constructor(
    readonly cooldownMs: number,
    capacity = 10_000,
  ) {
    this.until = new BoundedMap(capacity);
  }

  /** True while `key` alerted less than cooldownMs before `eventMs`. */
  active(key: string, eventMs: number): boolean {
    const until = this.until.peek(key);
    return until !== undefined && eventMs < until;
  }

  start(key: string, eventMs: number): void {
    this.until.set(key, eventMs + this.cooldownMs);
  }

  /** Starts the cooldown and returns true when it was not active. */
  tryStart(key: string, eventMs: number): boolean {
    if (this.active(key, eventMs)) return false;
    this.start(key, eventMs);
    return true;
  }

  get size(): number {
    return this.until.size;
  }
}
