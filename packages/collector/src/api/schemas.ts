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

// The response shapes are shared with the console.
export { Flow, FlowsResponse, TopTalkersResponse, ProtocolsResponse, LevelsResponse, TimelineResponse, GeoResponse, Alert, AlertsResponse, Agent, AgentsResponse, ErrorResponse } from '@nta/shared/api';
