#!/usr/bin/env node
/**
 * nta-collector: configuration comes from the environment (see config.ts and the README).
 * SIGINT/SIGTERM stop it cleanly: pulling stops, the group in hand is stored and
 * acknowledged, then connections close.
 */
import { NtaError } from '@nta/shared';
import { loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { startCollector } from './service.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`nta-collector: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const log = createLogger(config.logLevel);
  const collector = await startCollector(config, log);
  let address: string;
  try {
    address = await collector.listen(config.http.host, config.http.port);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    log.fatal({ err }, e.code === 'EADDRINUSE' ? `port ${config.http.port} on ${config.http.host} is already in use (set PORT)` : 'cannot listen');
    await collector.close();
    process.exit(1);
  }
  log.info({ url: address, api: `${address}/api/v1`, docs: `${address}/api/v1/docs`, storage: collector.storage.flavor }, 'collector listening');
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    collector
      .close()
      .then(() => process.exit(0))
      .catch((err) => {
        log.error({ err }, 'unclean stop');
        process.exit(1);
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err) => {
  process.stderr.write(`nta-collector: ${err instanceof NtaError ? err.message : (err as Error).stack}\n`);
  process.exit(1);
});
