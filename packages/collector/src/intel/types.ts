/** Shapes shared by the threat-intelligence modules and the collector code that uses them. */

/** The subset of a pino logger these modules call; a pino `Logger` (or a child) satisfies it. */
export interface IntelLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: IntelLogger = { info() {}, warn() {}, error() {} };

export const VERDICT_SOURCES = ['abuseipdb', 'virustotal'] as const;
export type VerdictSource = (typeof VERDICT_SOURCES)[number];

export type VerdictLevel = 'normal' | 'suspicious' | 'malicious';

/** What one reputation service says about one address. JSON-serialisable. */
export interface Verdict {
  source: VerdictSource;
  ip: string;
  level: VerdictLevel;
  /** Service-specific: AbuseIPDB confidence 0-100, VirusTotal count of engines saying malicious. */
  score: number;
  /** One line for people, e.g. "AbuseIPDB confidence 100% from 1,204 reports". */
  summary: string;
  details: Record<string, unknown>;
  fetchedAtMs: number;
}

/** Durable verdict storage shared across restarts (PostgreSQL in the collector, memory in tests). */
export interface IntelCache {
  get(source: VerdictSource, ip: string): Promise<Verdict | undefined>;
  put(verdict: Verdict, ttlMs: number): Promise<void>;
}

/** How one reputation request ended. Clients resolve to this and never reject. */
export type LookupOutcome =
  | { kind: 'verdict'; verdict: Verdict }
  /** The service knows nothing about the address (VirusTotal 404). */
  | { kind: 'not-found' }
  | { kind: 'rate-limited'; retryAfterMs: number | undefined; message: string }
  /** 401/403: the key is wrong or lacks rights; retrying soon will not help. */
  | { kind: 'auth'; status: number; message: string }
  /** 400/422: the service rejected this address; do not ask again soon. */
  | { kind: 'bad-request'; status: number; message: string }
  | { kind: 'server'; status: number; message: string }
  | { kind: 'timeout'; message: string }
  | { kind: 'network'; message: string }
  | { kind: 'malformed'; message: string }
  | { kind: 'too-large'; message: string }
  /** The caller aborted (service stopping). */
  | { kind: 'aborted' };

export type LookupFailureKind = Exclude<LookupOutcome['kind'], 'verdict' | 'not-found'>;

export interface ReputationClient {
  readonly source: VerdictSource;
  check(ip: string, signal?: AbortSignal): Promise<LookupOutcome>;
}
