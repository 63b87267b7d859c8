// The JetStream side of the wire contract, as a subpath (`@nta/shared/nats`) so the
// root entry stays zod-only for the console.
export { ensureStreams, streamConfigs, DEFAULT_STREAM_LIMITS } from './streams.js';
export type { StreamLimits, EnsureResult } from './streams.js';
