export { ErrorCode, NtaError, ConfigError, UsageError, CaptureFormatError, ValidationError, StorageError } from './errors.js';
export {
  WIRE_VERSION,
  isValidAgentId,
  flowSubject,
  heartbeatSubject,
  hostStatsSubject,
  deadLetterSubject,
  Subjects,
  Streams,
} from './subjects.js';
export { AgentId, ProtoName, FlowEndReason, L7Hints, FlowFeatures, FlowRecord, FlowBatch } from './schemas/flow.js';
export {
  ProtocolCounters,
  TopTalker,
  HostSecond,
  HostStatsBatch,
  CaptureInterface,
  Heartbeat,
} from './schemas/telemetry.js';
export * from './query/index.js';
export {
  parseIpv4,
  parseIpv6Words,
  parseIpv6Groups,
  writeIpv4Bytes,
  writeIpv6Bytes,
  looksLikeIpv6,
  formatIpv4,
  formatIpv6Words,
  formatIpv6Groups,
  formatIpv6Full,
  canonicalIp,
  ipv4Mask,
  ipv6GroupMask,
} from './net/ip-text.js';
