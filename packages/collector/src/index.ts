export type { StoredFlow, AlertCandidate, AlertKind, AddressScope, LevelName } from './types.js';
export { Level, LEVELS } from './types.js';
