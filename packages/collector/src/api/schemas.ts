/** Request and response schemas of the REST API; the OpenAPI document is generated from them. */
import { z } from 'zod';

const timeBound = (what: string) =>
  z
    .string()
    .max(64)
    .optional()
    .describe(`${what}: ISO 8601 (2026-11-30T10:00:00Z), epoch milliseconds, \`now\`, or relative (-15m, -2h, -7d)`);

export const RangeQuery = z.object({
  from: timeBound('Start of the range (inclusive), default one hour ago'),
  to: timeBound('End of the range (exclusive), default now'),
  host: z.string().max(2000).optional().describe('Comma-separated agent ids or hostnames; default all hosts'),
});

export const FlowsQuery = RangeQuery.extend({
  q: z.string().max(2000).optional().describe('Filter, e.g. `proto:tcp and dport:443 and not level:normal`'),
  limit: z.coerce.number().int().min(1).max(10_000).default(100).describe('Rows per page (1-10000)'),
  cursor: z.string().max(200).optional().describe('`nextCursor` of the previous page'),
});

export const TopTalkersQuery = RangeQuery.extend({
  by: z.enum(['src', 'dst', 'pair']).default('src'),
  metric: z.enum(['bytes', 'packets', 'flows']).default('bytes'),
  limit: z.coerce.number().int().min(1).max(1000).default(10),
});

export const TimelineQuery = RangeQuery.extend({
  step: z
    .string()
    .regex(/^\d{1,7}(ms|s|m|h|d)?$/, 'a duration such as 10s, 1m, 1h')
    .optional()
    .describe('Bucket width (e.g. 10s, 1m, 1h); default: about 120 points over the range'),
});

export const AlertsQuery = RangeQuery.extend({
  level: z
    .string()
    .regex(/^(>=)?(normal|suspicious|malicious)(,(normal|suspicious|malicious))*$/, 'suspicious, malicious, a comma-separated list, or >=suspicious')
    .optional(),
  kind: z.enum(['port_scan', 'syn_flood', 'dns_tunnel', 'upload_volume', 'anomaly', 'threat_intel']).optional(),
  acknowledged: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(200),
});

export const AlertIdParams = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });
// `curl -X POST` sends no body, which Fastify hands over as null: same as an empty object.
export const AckBody = z.preprocess(
  (v) => v ?? undefined,
  z
    .object({
      acknowledged: z.boolean().default(true),
      by: z.string().max(200).optional().describe('Who acknowledged it'),
    })
    .default({ acknowledged: true }),
);

const Level = z.enum(['normal', 'suspicious', 'malicious']);
const Geo = z
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

const Range = z.object({ from: z.string(), to: z.string(), hosts: z.array(z.string()).nullable() });

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
