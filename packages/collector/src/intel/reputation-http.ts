/**
 * The HTTP part both reputation clients share: one capped, time-limited GET whose body is parsed
 * as JSON, with transport failures already turned into LookupOutcome values.
 */
import { cappedFetch } from './capped-fetch.js';
import type { LookupOutcome } from './types.js';

export interface JsonResponse {
  status: number;
  headers: Headers;
  /** The parsed body, or undefined when it was empty or not JSON (error pages often are not). */
  json: unknown;
}

export interface ReputationRequest {
  url: string;
  headers: Record<string, string>;
  timeoutMs: number;
  maxBytes: number;
  signal?: AbortSignal;
}

export async function getJson(request: ReputationRequest): Promise<{ ok: true; response: JsonResponse } | { ok: false; outcome: LookupOutcome }> {
  const result = await cappedFetch(request.url, request);
  if (!result.ok) {
    const { kind, message } = result.failure;
    return { ok: false, outcome: kind === 'aborted' ? { kind } : { kind, message } };
  }
  const { status, headers, body } = result.response;
  let json: unknown;
  try {
    json = body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined;
  } catch {
    json = undefined;
  }
  return { ok: true, response: { status, headers, json } };
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. Undefined when absent or unreadable. */
export function parseRetryAfterMs(value: string | null, nowMs: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** Maps the statuses both services use the same way; the caller handles 200 (and 404 for VirusTotal). */
export function outcomeForStatus(status: number, message: string, retryAfterMs: number | undefined): LookupOutcome {
  if (status === 401 || status === 403) return { kind: 'auth', status, message };
  if (status === 429) return { kind: 'rate-limited', retryAfterMs, message };
  if (status === 400 || status === 404 || status === 422) return { kind: 'bad-request', status, message };
  return { kind: 'server', status, message };
}

export function describeZodIssue(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  const first = issues[0];
  return first ? `${first.path.map(String).join('.') || '(root)'}: ${first.message}` : 'unexpected shape';
}
