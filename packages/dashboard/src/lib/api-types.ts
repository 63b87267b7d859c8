/**
 * Shapes of the collector's API. The REST responses are the types inferred from the
 * collector's own response schemas (@nta/shared/api, type-only: nothing of zod reaches the
 * bundle); the live WebSocket messages are described here.
 */
import type {
  ApiAgent,
  ApiAgentsResponse,
  ApiAlert,
  ApiAlertsResponse,
  ApiFlow,
  ApiFlowsResponse,
  ApiGeo,
  ApiGeoResponse,
  ApiLevel,
  ApiLevelsResponse,
  ApiProtocolsResponse,
  ApiRange,
  ApiTimelineResponse,
  ApiTopTalkersResponse,
} from '@nta/shared/api';

export type Level = ApiLevel;
export type GeoDetail = ApiGeo;
export type Flow = ApiFlow;
export type { ApiRange };
export interface Counts {
  flows: number;
  packets: number;
  bytes: number;
}
export type FlowsResponse = ApiFlowsResponse;
export type Talker = ApiTopTalkersResponse['talkers'][number];
export type TopTalkersResponse = ApiTopTalkersResponse;
export type ProtocolsResponse = ApiProtocolsResponse;
export type LevelsResponse = ApiLevelsResponse;
export type TimelineResponse = ApiTimelineResponse;
export type GeoCountry = ApiGeoResponse['countries'][number];
export type GeoResponse = ApiGeoResponse;
export type Alert = ApiAlert;
export type AlertsResponse = ApiAlertsResponse;
export type Agent = ApiAgent;
export type AgentsResponse = ApiAgentsResponse;

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
