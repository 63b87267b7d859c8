/**
 * AbuseIPDB APIv2 `check`: GET {baseUrl}/api/v2/check?ipAddress=…&maxAgeInDays=… with the key in
 * the `Key` header. The verdict follows abuseConfidenceScore (0-100). AbuseIPDB answers every
 * valid address (an unknown one scores 0), so there is no "not found" here.
 */
import { z } from 'zod';
import { describeZodIssue, getJson, outcomeForStatus, parseRetryAfterMs } from './reputation-http.js';
import type { LookupOutcome, ReputationClient, Verdict, VerdictLevel } from './types.js';

export interface AbuseIpdbClientOptions {
  apiKey: string;
  /** Default https://api.abuseipdb.com. */
  baseUrl?: string;
  /** Only reports this recent count. Default 90. */
  maxAgeInDays?: number;
  /** abuseConfidenceScore at or above which an address is malicious. Default 75. */
  maliciousScore?: number;
  /** abuseConfidenceScore at or above which an address is suspicious. Default 25. */
  suspiciousScore?: number;
  /** Per request, body included. Default 5 s. */
  timeoutMs?: number;
  /** A check answer is about 1 KB; anything far larger is not one. Default 256 KiB. */
  maxResponseBytes?: number;
  now?: () => number;
}

const CheckResponse = z.object({
  data: z.object({
    ipAddress: z.string(),
    isPublic: z.boolean().nullish(),
    ipVersion: z.number().nullish(),
    isWhitelisted: z.boolean().nullish(),
    abuseConfidenceScore: z.number().min(0).max(100),
    countryCode: z.string().nullish(),
    usageType: z.string().nullish(),
    isp: z.string().nullish(),
    domain: z.string().nullish(),
    hostnames: z.array(z.string()).nullish(),
    totalReports: z.number().nullish(),
    numDistinctUsers: z.number().nullish(),
    lastReportedAt: z.string().nullish(),
  }),
});

const ErrorResponse = z.object({ errors: z.array(z.object({ detail: z.string().optional(), status: z.number().optional() })).min(1) });

export class AbuseIpdbClient implements ReputationClient {
  readonly source = 'abuseipdb' as const;
  private readonly baseUrl: string;
  private readonly now: () => number;

  constructor(private readonly options: AbuseIpdbClientOptions) {
    this.baseUrl = (options.baseUrl ?? 'https://api.abuseipdb.com').replace(/\/+$/, '');
    this.now = options.now ?? Date.now;
  }

  async check(ip: string, signal?: AbortSignal): Promise<LookupOutcome> {
    const query = new URLSearchParams({ ipAddress: ip, maxAgeInDays: String(this.options.maxAgeInDays ?? 90) });
    const result = await getJson({
      url: `${this.baseUrl}/api/v2/check?${query}`,
      headers: { Key: this.options.apiKey, Accept: 'application/json' },
      timeoutMs: this.options.timeoutMs ?? 5_000,
      maxBytes: this.options.maxResponseBytes ?? 256 * 1024,
      signal,
    });
    if (!result.ok) return result.outcome;
    const { status, headers, json } = result.response;
    if (status === 200) {
      const parsed = CheckResponse.safeParse(json);
      if (!parsed.success) return { kind: 'malformed', message: `AbuseIPDB check response: ${describeZodIssue(parsed.error.issues)}` };
      return { kind: 'verdict', verdict: this.toVerdict(ip, parsed.data.data) };
    }
    const error = ErrorResponse.safeParse(json);
    const message = error.success ? (error.data.errors[0].detail ?? `HTTP ${status}`) : `HTTP ${status}`;
    // Retry-After is the documented header; X-RateLimit-Reset (epoch seconds) is the fallback.
    const reset = Number(headers.get('x-ratelimit-reset'));
    const retryAfterMs = parseRetryAfterMs(headers.get('retry-after'), this.now()) ?? (reset > 0 ? Math.max(0, reset * 1000 - this.now()) : undefined);
    return outcomeForStatus(status, message, retryAfterMs);
  }

  private toVerdict(ip: string, data: z.infer<typeof CheckResponse>['data']): Verdict {
    const score = data.abuseConfidenceScore;
    const level: VerdictLevel =
      score >= (this.options.maliciousScore ?? 75) ? 'malicious' : score >= (this.options.suspiciousScore ?? 25) ? 'suspicious' : 'normal';
    const reports = data.totalReports ?? 0;
    const parts = [`AbuseIPDB confidence ${score}%`, `${reports} report${reports === 1 ? '' : 's'}`];
    if (data.numDistinctUsers) parts[1] += ` from ${data.numDistinctUsers} users`;
    if (data.lastReportedAt) parts.push(`last ${data.lastReportedAt}`);
    const where = [data.isp, data.countryCode].filter(Boolean).join(', ');
    if (where) parts.push(where);
    return {
      source: this.source,
      ip,
      level,
      score,
      summary: parts.join('; '),
      details: {
        abuseConfidenceScore: score,
        totalReports: reports,
        numDistinctUsers: data.numDistinctUsers ?? null,
        lastReportedAt: data.lastReportedAt ?? null,
        isWhitelisted: data.isWhitelisted ?? null,
        isPublic: data.isPublic ?? null,
        countryCode: data.countryCode ?? null,
        usageType: data.usageType ?? null,
        isp: data.isp ?? null,
        domain: data.domain ?? null,
        hostnames: data.hostnames ?? [],
      },
      fetchedAtMs: this.now(),
    };
  }
}
