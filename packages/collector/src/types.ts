/**
 * The collector's in-memory shapes shared by its modules: a flow once it is validated,
 * enriched and scored (what is stored and streamed), and an alert before it is stored.
 */
import type { FlowRecord } from '@nta/shared';

/** Level of a flow or an alert, stored as a smallint (the index). */
export const LEVELS = ['normal', 'suspicious', 'malicious'] as const;
export type LevelName = (typeof LEVELS)[number];
export const Level = { normal: 0, suspicious: 1, malicious: 2 } as const;
export type Level = (typeof Level)[keyof typeof Level];

/**
 * Where an address lives. Public addresses carry their ISO country code (or null when the
 * GeoIP database does not know it); every other scope is stored in the country column as
 * its own label, so `country:private` filters and geo statistics group them by name.
 */
export type AddressScope = 'public' | 'private' | 'loopback' | 'link-local' | 'multicast' | 'cgnat' | 'reserved' | 'documentation' | 'unspecified';

/** A validated flow with the collector's enrichment and score, as stored in `flows`. */
export interface StoredFlow extends FlowRecord {
  agentId: string;
  hostname: string;
  /** ISO 3166 alpha-2 for public addresses, the scope label otherwise (see AddressScope), null if unknown. */
  srcCountry: string | null;
  dstCountry: string | null;
  srcAsn: number | null;
  dstAsn: number | null;
  /** Isolation Forest anomaly score in [0, 1]; higher is more anomalous. */
  score: number;
  level: Level;
  /** Names of the threat feeds/services that list src or dst, comma-separated; null when none. */
  threat: string | null;
}

export type AlertKind = 'port_scan' | 'syn_flood' | 'dns_tunnel' | 'upload_volume' | 'anomaly' | 'threat_intel';

/** An alert as a detector raises it; the store deduplicates by (kind, agentId, subject, window). */
export interface AlertCandidate {
  kind: AlertKind;
  level: Exclude<LevelName, 'normal'>;
  agentId: string;
  hostname: string;
  /** What the alert is about: the offending address (or domain for DNS tunnelling). */
  subject: string;
  /** The victim where there is one (scanned host, flooded address, upload destination). */
  target?: string;
  /** Which detector or model raised it, with its version, e.g. `port-scan/1` or `iforest/7`. */
  detector: string;
  /** The reason in plain words, for people: "10.0.0.5 probed 212 ports on 3 hosts in 60 s". */
  summary: string;
  /** Numbers and names behind the verdict (counts, thresholds, features, feed). JSON-serialisable. */
  evidence: Record<string, unknown>;
  firstSeenMs: number;
  lastSeenMs: number;
  /** Some of the flows involved (at most 20). */
  flowIds: string[];
}
