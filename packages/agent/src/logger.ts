import { pino, type Logger } from 'pino';

/** The agent's root logger: JSON lines on stderr, so stdout stays clean for flow output. */
export function createLogger(level: string, agentId: string): Logger {
  return pino({ level, base: { service: 'nta-agent', agentId } }, pino.destination({ dest: 2, sync: true }));
}
