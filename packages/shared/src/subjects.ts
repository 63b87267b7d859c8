/**
 * NATS subjects and JetStream streams. The version is part of every subject: a
 * breaking schema change adds v2 beside v1 and never edits v1.
 */
export const WIRE_VERSION = 1 as const;

const AGENT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Agent ids become subject tokens, so they may not hold '.', '*', '>' or spaces. */
export function isValidAgentId(agentId: string): boolean {
  return AGENT_ID_PATTERN.test(agentId);
}

function token(agentId: string): string {
  if (!isValidAgentId(agentId)) throw new Error(`invalid agent id for a subject: ${JSON.stringify(agentId)}`);
  return agentId;
}

export const flowSubject = (agentId: string): string => `nta.v1.flows.${token(agentId)}`;
export const heartbeatSubject = (agentId: string): string => `nta.v1.heartbeat.${token(agentId)}`;
export const hostStatsSubject = (agentId: string): string => `nta.v1.hoststats.${token(agentId)}`;
export const deadLetterSubject = (kind: 'flows' | 'heartbeat' | 'hoststats'): string => `nta.v1.dead.${kind}`;

export const Subjects = {
  allFlows: 'nta.v1.flows.>',
  allHeartbeats: 'nta.v1.heartbeat.>',
  allHostStats: 'nta.v1.hoststats.>',
  allDeadLetters: 'nta.v1.dead.>',
} as const;

/** Streams the agent creates idempotently at start (and the collector too). */
export const Streams = {
  flows: { name: 'NTA_FLOWS_V1', subjects: [Subjects.allFlows] },
  telemetry: { name: 'NTA_TELEMETRY_V1', subjects: [Subjects.allHeartbeats, Subjects.allHostStats] },
  deadLetters: { name: 'NTA_DEAD_V1', subjects: [Subjects.allDeadLetters] },
} as const;
