import { pino, type Logger } from 'pino';

/** The collector's root logger: JSON lines on stdout. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'nta-collector' } });
}
