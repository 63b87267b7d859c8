export type { StoredFlow, AlertCandidate, AlertKind, AddressScope, LevelName } from './types.js';
export { Level, LEVELS } from './types.js';
export { loadConfig } from './config.js';
export type { CollectorConfig } from './config.js';
export { startCollector } from './service.js';
export type { Collector, CollectorOverrides } from './service.js';
export { createLogger } from './logger.js';
