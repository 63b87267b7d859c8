/** Shapes of the collector's REST and WebSocket API (packages/collector/src/api/schemas.ts). */

export type Level = 'normal' | 'suspicious' | 'malicious';

export interface GeoDetail {
  scope: string;
  country: string | null;
  city: string | null;
  latitude: number | null;
  longitude: number | null;
  asn: number | null;
  asOrg: string | null;
}

export interface Flow {
  flowId: string;
  agentId: string;
  hostname: string | null;
  firstSeen: string;
  lastSeen: string;
  family: number;
  ipProto: number;
  proto: string;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  vlan: number | null;
  packetsToDst: number;
  packetsToSrc: number;
  bytesToDst: number;
  bytesToSrc: number;
  packets: number;
  bytes: number;
  tcpFlagsToDst: number;
  tcpFlagsToSrc: number;
  endReason: string;
  dnsQuery: string | null;
  dnsQueryType: number | null;
  dnsRcode: number | null;
  httpMethod: string | null;
  httpHost: string | null;
  tlsSni: string | null;
  tlsAlpn: string | null;
  durationMs: number;
  srcCountry: string | null;
  dstCountry: string | null;
  srcAsn: number | null;
  dstAsn: number | null;
  score: number;
  level: Level;
  threat: string | null;
  srcGeo?: GeoDetail | null;
  dstGeo?: GeoDetail | null;
}

export interface ApiRange {
  from: string;
  to: string;
  hosts: string[] | null;
}

export interface Counts {
  flows: number;
  packets: number;
  bytes: number;
}

export interface FlowsResponse {
  range: ApiRange;
  query: string;
  flows: Flow[];
  nextCursor: string | null;
}

export interface Talker extends Counts {
  addr?: string;
  src?: string;
  dst?: string;
}
export interface TopTalkersResponse {
  range: ApiRange;
  by: string;
  metric: string;
  talkers: Talker[];
}
export interface ProtocolsResponse {
  range: ApiRange;
  protocols: (Counts & { proto: string })[];
}
export interface TimelineResponse {
  range: ApiRange;
  stepMs: number;
  points: (Counts & { t: string })[];
}
export interface LevelsResponse {
  range: ApiRange;
  levels: (Counts & { level: Level })[];
}
export interface GeoCountry extends Counts {
  country: string | null;
  addresses: number;
  threatFlows: number;
}
export interface GeoResponse {
  range: ApiRange;
  countries: GeoCountry[];
}

export interface Alert {
  id: number;
  kind: string;
  level: Level;
  agentId: string;
  hostname: string;
  subject: string;
  target: string | null;
  detector: string;
  summary: string;
  evidence: Record<string, unknown>;
  firstSeen: string;
  lastSeen: string;
  occurrences: number;
  flowIds: string[];
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
}
export interface AlertsResponse {
  range: ApiRange;
  counts: Record<string, number>;
  alerts: Alert[];
}

export interface Agent {
  agentId: string;
  hostname: string;
  version: string;
  mode: string | null;
  firstSeen: string;
  lastSeen: string;
  status: 'online' | 'stale';
  heartbeatIntervalMs: number;
  rates: { packetsPerS: number; bytesPerS: number; flowsPerS: number };
  totals: Counts;
  capture: { received: number; dropped: number; ifDropped: number };
  interfaces: unknown[];
  spool: Record<string, number>;
}
export interface AgentsResponse {
  agents: Agent[];
}

/** WebSocket /api/v1/live. */
export interface PB {
  packets: number;
  bytes: number;
}
export interface LiveCounters {
  packets: number;
  bytes: number;
  flows: number;
  protocols: { tcp: PB; udp: PB; icmp: PB; other: PB };
}
export interface LiveSecond {
  t: number;
  fleet: LiveCounters & { topTalkers: ({ addr: string } & PB)[] };
  hosts: Record<string, LiveCounters>;
}
export type LiveMessage =
  | { type: 'hello'; serverTimeMs: number; q: string }
  | { type: 'subscribed'; q: string }
  | { type: 'error'; message: string; field?: string; position?: number }
  | { type: 'stats'; seconds: LiveSecond[] }
  | { type: 'flows'; flows: Flow[]; dropped: number }
  | { type: 'alerts'; alerts: Alert[] }
  | { type: 'agents'; agents: Agent[] };
