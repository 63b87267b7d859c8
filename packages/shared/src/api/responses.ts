/**
 * Response shapes of the collector's REST API: the collector validates and documents its
 * answers with these schemas (OpenAPI is generated from them) and the console reads its data
 * through the types inferred from them, so both sides hold one contract.
 */
import { z } from 'zod';

export const Level = z.enum(['normal', 'suspicious', 'malicious']);
export const Geo = z
  .object({
    scope: z.string(),
    country: z.string().nullable(),
    city: z.string().nullable(),
    latitude: z.number().nullable(),
    longitude: z.number().nullable(),
    asn: z.number().nullable(),
    asOrg: z.string().nullable(),
  })
  .nullable();

export const Flow = z.object({
  flowId: z.string(),
  agentId: z.string(),
  hostname: z.string().nullable(),
  firstSeen: z.string(),
  lastSeen: z.string(),
  family: z.number(),
  ipProto: z.number(),
  proto: z.string(),
  src: z.string(),
  dst: z.string(),
  sport: z.number(),
  dport: z.number(),
  vlan: z.number().nullable(),
  packetsToDst: z.number(),
  packetsToSrc: z.number(),
  bytesToDst: z.number(),
  bytesToSrc: z.number(),
  packets: z.number(),
  bytes: z.number(),
  tcpFlagsToDst: z.number(),
  tcpFlagsToSrc: z.number(),
  endReason: z.string(),
  dnsQuery: z.string().nullable(),
  dnsQueryType: z.number().nullable(),
  dnsRcode: z.number().nullable(),
  httpMethod: z.string().nullable(),
  httpHost: z.string().nullable(),
  tlsSni: z.string().nullable(),
  tlsAlpn: z.string().nullable(),
  durationMs: z.number(),
  srcCountry: z.string().nullable(),
  dstCountry: z.string().nullable(),
  srcAsn: z.number().nullable(),
  dstAsn: z.number().nullable(),
  score: z.number(),
  level: Level,
  threat: z.string().nullable(),
  srcGeo: Geo.optional(),
  dstGeo: Geo.optional(),
});

export const Range = z.object({ from: z.string(), to: z.string(), hosts: z.array(z.string()).nullable() });

export const FlowsResponse = z.object({ range: Range, query: z.string(), flows: z.array(Flow), nextCursor: z.string().nullable() });

const Counts = { flows: z.number(), packets: z.number(), bytes: z.number() };
export const TopTalkersResponse = z.object({
  range: Range,
  by: z.string(),
  metric: z.string(),
  talkers: z.array(z.object({ addr: z.string().optional(), src: z.string().optional(), dst: z.string().optional(), ...Counts })),
});
export const ProtocolsResponse = z.object({ range: Range, protocols: z.array(z.object({ proto: z.string(), ...Counts })) });
export const LevelsResponse = z.object({ range: Range, levels: z.array(z.object({ level: Level, ...Counts })) });
export const TimelineResponse = z.object({ range: Range, stepMs: z.number(), points: z.array(z.object({ t: z.string(), ...Counts })) });
export const GeoResponse = z.object({
  range: Range,
  countries: z.array(
    z.object({
      country: z.string().nullable().describe('ISO 3166 alpha-2, a scope label such as `private`, or null when unknown'),
      ...Counts,
      addresses: z.number(),
      threatFlows: z.number(),
    }),
  ),
});

export const Alert = z.object({
  id: z.number(),
  kind: z.string(),
  level: Level,
  agentId: z.string(),
  hostname: z.string(),
  subject: z.string(),
  target: z.string().nullable(),
  detector: z.string(),
  summary: z.string(),
  evidence: z.record(z.string(), z.unknown()),
  firstSeen: z.string(),
  lastSeen: z.string(),
  occurrences: z.number(),
  flowIds: z.array(z.string()),
  acknowledgedAt: z.string().nullable(),
  acknowledgedBy: z.string().nullable(),
});
export const AlertsResponse = z.object({ range: Range, counts: z.record(z.string(), z.number()), alerts: z.array(Alert) });

export const Agent = z.object({
  agentId: z.string(),
  hostname: z.string(),
  version: z.string(),
  mode: z.string().nullable(),
  firstSeen: z.string(),
  lastSeen: z.string(),
  status: z.enum(['online', 'stale']),
  heartbeatIntervalMs: z.number(),
  rates: z.object({ packetsPerS: z.number(), bytesPerS: z.number(), flowsPerS: z.number() }),
  totals: z.object({ packets: z.number(), bytes: z.number(), flows: z.number() }),
  capture: z.object({ received: z.number(), dropped: z.number(), ifDropped: z.number() }),
  interfaces: z.array(z.unknown()),
  spool: z.record(z.string(), z.number()),
});
export const AgentsResponse = z.object({ agents: z.array(Agent) });

export const ErrorResponse = z.object({
  statusCode: z.number(),
  error: z.string(),
  message: z.string(),
  field: z.string().optional().describe('The request parameter at fault'),
  position: z.number().optional().describe('Offset of a filter syntax error in `q`'),
});

export type ApiLevel = z.infer<typeof Level>;
export type ApiGeo = NonNullable<z.infer<typeof Geo>>;
export type ApiRange = z.infer<typeof Range>;
export type ApiFlow = z.infer<typeof Flow>;
export type ApiFlowsResponse = z.infer<typeof FlowsResponse>;
export type ApiTopTalkersResponse = z.infer<typeof TopTalkersResponse>;
export type ApiProtocolsResponse = z.infer<typeof ProtocolsResponse>;
export type ApiLevelsResponse = z.infer<typeof LevelsResponse>;
export type ApiTimelineResponse = z.infer<typeof TimelineResponse>;
export type ApiGeoResponse = z.infer<typeof GeoResponse>;
export type ApiAlert = z.infer<typeof Alert>;
export type ApiAlertsResponse = z.infer<typeof AlertsResponse>;
export type ApiAgent = z.infer<typeof Agent>;
export type ApiAgentsResponse = z.infer<typeof AgentsResponse>;
export type ApiError = z.infer<typeof ErrorResponse>;
