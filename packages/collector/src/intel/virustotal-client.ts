/**
 * VirusTotal API v3 IP address report: GET {baseUrl}/api/v3/ip_addresses/{ip} with the key in
 * `x-apikey`. The verdict follows how many engines in last_analysis_stats call the address
 * malicious; the "suspicious" engine count is kept in the details but does not raise the level,
 * because single-engine "suspicious" calls are common on clean addresses.
 */
import { z } from 'zod';
import { describeZodIssue, getJson, outcomeForStatus, parseRetryAfterMs } from './reputation-http.js';
import type { LookupOutcome, ReputationClient, Verdict, VerdictLevel } from './types.js';

export interface VirusTotalClientOptions {
  apiKey: string;
  /** Default https://www.virustotal.com. */
  baseUrl?: string;
  /** Engines calling it malicious at or above which the address is malicious. Default 3. */
  maliciousEngines?: number;
  /** Engines calling it malicious at or above which the address is suspicious. Default 1. */
  suspiciousEngines?: number;
  /** Per request, body included. Default 5 s. */
  timeoutMs?: number;
  /** An IP report with per-engine results is 10-60 KB. Default 1 MiB. */
  maxResponseBytes?: number;
  now?: () => number;
}

const count = z.number().int().min(0).optional();
const IpReport = z.object({
  data: z.object({
    id: z.string(),
    type: z.literal('ip_address'),
    attributes: z.object({
      last_analysis_stats: z.object({ harmless: count, malicious: count, suspicious: count, undetected: count, timeout: count }),
      last_analysis_date: z.number().optional(),
      reputation: z.number().optional(),
      country: z.string().optional(),
      as_owner: z.string().optional(),
      asn: z.number().optional(),
      network: z.string().optional(),
    }),
  }),
});

const ErrorResponse = z.object({ error: z.object({ code: z.string(), message: z.string().optional() }) });

export class VirusTotalClient implements ReputationClient {
  readonly source = 'virustotal' as const;
  private readonly baseUrl: string;
  private readonly now: () => number;

  constructor(private readonly options: VirusTotalClientOptions) {
    this.baseUrl = (options.baseUrl ?? 'https://www.virustotal.com').replace(/\/+$/, '');
    this.now = options.now ?? Date.now;
  }

  async check(ip: string, signal?: AbortSignal): Promise<LookupOutcome> {
    const result = await getJson({
      url: `${this.baseUrl}/api/v3/ip_addresses/${encodeURIComponent(ip)}`,
      headers: { 'x-apikey': this.options.apiKey, accept: 'application/json' },
      timeoutMs: this.options.timeoutMs ?? 5_000,
      maxBytes: this.options.maxResponseBytes ?? 1024 * 1024,
      signal,
    });
    if (!result.ok) return result.outcome;
    const { status, headers, json } = result.response;
    if (status === 200) {
      const parsed = IpReport.safeParse(json);
      if (!parsed.success) return { kind: 'malformed', message: `VirusTotal IP report: ${describeZodIssue(parsed.error.issues)}` };
      return { kind: 'verdict', verdict: this.toVerdict(ip, parsed.data.data.attributes) };
    }
    const error = ErrorResponse.safeParse(json);
    const code = error.success ? error.data.error.code : undefined;
    // Only VirusTotal's own NotFoundError means "no data"; a bare 404 is a wrong URL or a proxy.
    if (status === 404 && code === 'NotFoundError') return { kind: 'not-found' };
    const message = error.success ? `${error.data.error.code}: ${error.data.error.message ?? ''}`.trim() : `HTTP ${status}`;
    return outcomeForStatus(status, message, parseRetryAfterMs(headers.get('retry-after'), this.now()));
  }

  private toVerdict(ip: string, attributes: z.infer<typeof IpReport>['data']['attributes']): Verdict {
    const stats = attributes.last_analysis_stats;
    const malicious = stats.malicious ?? 0;
    const suspicious = stats.suspicious ?? 0;
    const engines = malicious + suspicious + (stats.harmless ?? 0) + (stats.undetected ?? 0);
    const level: VerdictLevel =
      malicious >= (this.options.maliciousEngines ?? 3) ? 'malicious' : malicious >= (this.options.suspiciousEngines ?? 1) ? 'suspicious' : 'normal';
    const parts = [`VirusTotal: ${malicious} of ${engines} engines malicious`];
    if (suspicious > 0) parts.push(`${suspicious} suspicious`);
    const owner = [attributes.as_owner, attributes.asn === undefined ? undefined : `AS${attributes.asn}`, attributes.country].filter(Boolean).join(', ');
    if (owner) parts.push(owner);
    return {
      source: this.source,
      ip,
      level,
      score: malicious,
      summary: parts.join('; '),
      details: {
        lastAnalysisStats: stats,
        reputation: attributes.reputation ?? null,
        country: attributes.country ?? null,
        asOwner: attributes.as_owner ?? null,
        asn: attributes.asn ?? null,
        network: attributes.network ?? null,
        lastAnalysisDate: attributes.last_analysis_date ?? null,
      },
      fetchedAtMs: this.now(),
    };
  }
}
