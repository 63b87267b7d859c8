/** The REST client: one fetch wrapper that turns the collector's error bodies into ApiError. */
import type { AgentsResponse, AlertsResponse, FlowsResponse, GeoResponse, LevelsResponse, ProtocolsResponse, TimelineResponse, TopTalkersResponse, Alert } from './api-types.js';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly field?: string,
    readonly position?: number,
  ) {
    super(message);
  }
}

export type Params = Record<string, string | number | undefined | null>;

export function apiUrl(path: string, params: Params = {}): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') search.set(k, String(v));
  const qs = search.toString();
  return `/api/v1/${path}${qs ? `?${qs}` : ''}`;
}

async function request<T>(method: 'GET' | 'POST', path: string, params: Params, signal?: AbortSignal, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(apiUrl(path, params), {
      method,
      signal,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError('the collector cannot be reached; is it running?', 0);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    throw new ApiError(`the collector answered ${res.status} with something that is not JSON`, res.status);
  }
  if (!res.ok) {
    const e = (json ?? {}) as { message?: string; field?: string; position?: number };
    throw new ApiError(e.message ?? `${res.status} ${res.statusText}`, res.status, e.field, e.position);
  }
  return json as T;
}

export const api = {
  flows: (p: Params, s?: AbortSignal) => request<FlowsResponse>('GET', 'flows', p, s),
  topTalkers: (p: Params, s?: AbortSignal) => request<TopTalkersResponse>('GET', 'stats/top-talkers', p, s),
  protocols: (p: Params, s?: AbortSignal) => request<ProtocolsResponse>('GET', 'stats/protocols', p, s),
  timeline: (p: Params, s?: AbortSignal) => request<TimelineResponse>('GET', 'stats/timeline', p, s),
  geo: (p: Params, s?: AbortSignal) => request<GeoResponse>('GET', 'stats/geo', p, s),
  levels: (p: Params, s?: AbortSignal) => request<LevelsResponse>('GET', 'stats/levels', p, s),
  alerts: (p: Params, s?: AbortSignal) => request<AlertsResponse>('GET', 'alerts', p, s),
  agents: (s?: AbortSignal) => request<AgentsResponse>('GET', 'agents', {}, s),
  ackAlert: (id: number, acknowledged = true) => request<Alert>('POST', `alerts/${id}/ack`, {}, undefined, { acknowledged, by: 'console' }),
};
