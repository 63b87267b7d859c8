import type { Logger } from 'pino';

/**
 * Logs a repeating event at most once per interval per key, with how many were held back
 * in between (arkime's LOG_RATE idea): an outage must not flood the log.
 */
export class LogLimiter {
  readonly #log: Logger;
  readonly #everyMs: number;
  readonly #last = new Map<string, { at: number; suppressed: number }>();

  constructor(log: Logger, everyMs = 10_000) {
    this.#log = log;
    this.#everyMs = everyMs;
  }

  log(level: 'warn' | 'error', key: string, obj: Record<string, unknown>, msg: string): void {
    const now = Date.now();
    const last = this.#last.get(key);
    if (last && now - last.at < this.#everyMs) {
      last.suppressed++;
      return;
    }
    this.#last.set(key, { at: now, suppressed: 0 });
    this.#log[level]({ ...obj, suppressed: last?.suppressed ?? 0 }, msg);
  }
}
