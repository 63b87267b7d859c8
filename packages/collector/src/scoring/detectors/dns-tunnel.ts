import type { AlertCandidate, StoredFlow } from '../../types.js';
import { Level } from '../../types.js';
import { BoundedMap } from './bounded-map.js';
import { Cooldown } from './cooldown.js';
import { addFlowId, batchTimeMs, emptyResult, raiseFlag, sampleWith, type Detector, type DetectorResult, type DetectorStats } from './detector.js';
import { lengthWithoutDots, longestLabel, shannonEntropy, splitRegisteredDomain } from './dns-names.js';
import { formatCount, formatDuration } from './format.js';
import { DistinctTable, type WindowedDistinct } from './windowed-distinct.js';

/**
 * DNS tunnelling: data smuggled out in query names under a domain whose name servers the
 * attacker runs. Per (client, registered domain), within a window (default 60 s):
 *
 * - encoded names: a label longer than 40 characters, or a subdomain part (left of the
 *   registered domain, dots left out) longer than 20 characters with Shannon entropy above
 *   3.5 bits/char (hex is ~3.8-4, base32 ~4.5, words ~2.5-3.3). One odd name is common (CDN
 *   tokens, DKIM selectors, antivirus lookups), so it takes >= 10 distinct such names;
 * - bursts: >= 100 distinct names under one domain, whatever they look like.
 *
 * Only port-53 flows with a query name count; the client is the side that is not port 53.
 * Zones where many distinct names are normal and nobody but the operator can answer them
 * (reverse DNS, local names, DNS blocklists, big CDNs) are ignored: a tunnel needs a zone whose
 * name servers the attacker controls, so ignoring them hides none. The list is an option.
 *
 * The busy resolver: it asks for many distinct names, but spread over many domains, so no key
 * gets near 100. When it forwards a client's tunnel upstream it asks for the same encoded names
 * itself; an address seen answering port-53 queries is a relay, so its own keys flag flows but
 * raise no alert (the client's do, naming the server it used), unless `blameResolvers` is set.
 * Subject = the client, target = the domain. One alert per client and domain per cooldown;
 * while it lasts, that client's queries under the domain are flagged.
 */
export interface DnsTunnelOptions {
  windowMs?: number;
  minEncodedNames?: number;
  burstUniqueNames?: number;
  longLabelChars?: number;
  minEntropyBitsPerChar?: number;
  minEntropyLength?: number;
  /** Registered domains (`akamaiedge.net`) or top-level labels (`arpa`) never alerted on. */
  ignoreDomains?: readonly string[];
  /** Alert on resolvers relaying a tunnel too (default false: the clients are blamed). */
  blameResolvers?: boolean;
  cooldownMs?: number;
  maxTrackedKeys?: number;
  maxTotalElements?: number;
}

export const DEFAULT_IGNORED_DNS_DOMAINS: readonly string[] = [
  'arpa',
  'local',
  'localhost',
  'internal',
  'lan',
  'home',
  'akamaiedge.net',
  'akamai.net',
  'akamaitechnologies.com',
  'cloudfront.net',
  'amazonaws.com',
  'googlevideo.com',
  'gvt1.com',
  'fastly.net',
  'edgekey.net',
  'azureedge.net',
  'trafficmanager.net',
  'spamhaus.org',
  'spamcop.net',
  'sorbs.net',
  'barracudacentral.org',
  'surbl.org',
  'uribl.com',
  'mailspike.net',
];

const DETECTOR = 'dns-tunnel/1';
const DNS_PORT = 53;
const SAMPLE_NAMES = 5;

interface Crossing {
  flow: StoredFlow;
  client: string;
  server: string;
  domain: string;
  set: WindowedDistinct;
}

interface NameVerdict {
  encoded: boolean;
  entropy: number;
  longestLabel: number;
}

export class DnsTunnelDetector implements Detector {
  readonly name = DETECTOR;
  private readonly keys: DistinctTable;
  private readonly cooldown: Cooldown;
  /** Addresses seen receiving port-53 queries: resolvers, whose upstream queries are relayed. */
  private readonly dnsServers: BoundedMap<string, number>;
  private readonly blameResolvers: boolean;
  private relayedKeys = 0;
  private readonly ignoredDomains: Set<string>;
  private readonly ignoredTlds: Set<string>;
  private readonly windowMs: number;
  private readonly minEncoded: number;
  private readonly burst: number;
  private readonly longLabel: number;
  private readonly minEntropy: number;
  private readonly minEntropyLength: number;
  private watermarkMs = 0;
  private alertCount = 0;

  constructor(opts: DnsTunnelOptions = {}) {
    this.windowMs = opts.windowMs ?? 60_000;
    this.minEncoded = opts.minEncodedNames ?? 10;
    this.burst = opts.burstUniqueNames ?? 100;
    this.longLabel = opts.longLabelChars ?? 40;
    this.minEntropy = opts.minEntropyBitsPerChar ?? 3.5;
    this.minEntropyLength = opts.minEntropyLength ?? 20;
    const ignore = opts.ignoreDomains ?? DEFAULT_IGNORED_DNS_DOMAINS;
    this.ignoredDomains = new Set(ignore.filter((d) => d.includes('.')));
    this.ignoredTlds = new Set(ignore.filter((d) => !d.includes('.')));
    this.keys = new DistinctTable({
      windowMs: this.windowMs,
      maxKeys: opts.maxTrackedKeys ?? 20_000,
      maxElementsPerKey: 4 * Math.max(this.burst, this.minEncoded),
      maxTotalElements: opts.maxTotalElements ?? 200_000,
    });
    this.cooldown = new Cooldown(opts.cooldownMs ?? 300_000);
    this.dnsServers = new BoundedMap(4096);
    this.blameResolvers = opts.blameResolvers ?? false;
  }

  /** Whether a name (its part left of the registered domain) looks like encoded data. */
  judgeName(subdomain: string): NameVerdict {
    const longest = longestLabel(subdomain);
    const length = lengthWithoutDots(subdomain);
    const entropy = length > this.minEntropyLength ? shannonEntropy(subdomain) : 0;
    return { encoded: longest > this.longLabel || entropy > this.minEntropy, entropy, longestLabel: longest };
  }

  observe(flows: readonly StoredFlow[]): DetectorResult {
    const result = emptyResult();
    this.watermarkMs = Math.max(this.watermarkMs, batchTimeMs(flows, (f) => f.firstSeenMs));
    // Alerts are built after the whole batch is counted, so their numbers include all of it.
    const crossed = new Map<string, Crossing>();
    const keyOf: (string | undefined)[] = new Array<string | undefined>(flows.length);
    for (let i = 0; i < flows.length; i++) {
      const f = flows[i];
      const query = this.queryOf(f);
      if (query === null) continue;
      const split = splitRegisteredDomain(query);
      if (split === null || split.subdomain === '' || this.isIgnored(split.domain)) continue;
      const client = f.dport === DNS_PORT ? f.src : f.dst;
      const server = f.dport === DNS_PORT ? f.dst : f.src;
      if (this.dnsServers.peek(server) === undefined) this.dnsServers.set(server, f.firstSeenMs);
      const key = `${client}|${split.domain}`;
      keyOf[i] = key;
      const ms = f.firstSeenMs;
      const encoded = this.judgeName(split.subdomain).encoded;
      const set = this.keys.add(key, query, ms, encoded ? 1 : 0, true);
      if (set === undefined) continue;
      if (encoded) addFlowId(set.flowIds, f.flowId);
      if ((set.tagSum >= this.minEncoded || set.size >= this.burst) && this.cooldown.tryStart(key, ms)) {
        if (!this.blameResolvers && this.dnsServers.peek(client) !== undefined) this.relayedKeys++;
        else crossed.set(key, { flow: f, client, server, domain: split.domain, set });
      }
    }
    const raised = new Map<string, AlertCandidate>();
    for (const [key, c] of crossed) raised.set(key, this.buildAlert(c));
    if (this.cooldown.size > 0) {
      for (let i = 0; i < flows.length; i++) {
        const key = keyOf[i];
        if (key === undefined || !this.cooldown.active(key, flows[i].firstSeenMs)) continue;
        raiseFlag(result.flagged, i, Level.malicious);
        const alert = raised.get(key);
        if (alert !== undefined) addFlowId(alert.flowIds, flows[i].flowId);
      }
    }
    this.keys.expire(this.watermarkMs);
    result.alerts.push(...raised.values());
    this.alertCount += raised.size;
    return result;
  }

  stats(): DetectorStats {
    return {
      trackedKeys: this.keys.size + this.dnsServers.size,
      evictedKeys: this.keys.evictions + this.dnsServers.evictions,
      alerts: this.alertCount,
      relayedKeys: this.relayedKeys,
    };
  }

  private queryOf(f: StoredFlow): string | null {
    const q = f.l7?.dnsQuery;
    if (q === undefined || q.length === 0 || (f.dport !== DNS_PORT && f.sport !== DNS_PORT)) return null;
    return q.endsWith('.') ? q.slice(0, -1) : q;
  }

  private isIgnored(domain: string): boolean {
    if (this.ignoredDomains.has(domain)) return true;
    return this.ignoredTlds.has(domain.slice(domain.lastIndexOf('.') + 1));
  }

  private buildAlert({ flow: f, client, server, domain, set }: Crossing): AlertCandidate {
    let maxEntropy = 0;
    let maxLabel = 0;
    const encodedSamples: string[] = [];
    const otherSamples: string[] = [];
    for (const [name, encoded] of set.tagged()) {
      const verdict = this.judgeName(name.slice(0, name.length - domain.length - 1));
      if (verdict.entropy > maxEntropy) maxEntropy = verdict.entropy;
      if (verdict.longestLabel > maxLabel) maxLabel = verdict.longestLabel;
      const samples = encoded === 1 ? encodedSamples : otherSamples;
      if (samples.length < SAMPLE_NAMES) samples.push(name);
    }
    const distinct = set.size;
    const encoded = set.tagSum;
    const firstSeenMs = set.oldestMs();
    const lastSeenMs = Math.max(set.newestMs, f.lastSeenMs);
    const took = formatDuration(lastSeenMs - firstSeenMs);
    const looks =
      encoded > 0
        ? `; ${formatCount(encoded)} look encoded (labels up to ${maxLabel} characters, entropy up to ${maxEntropy.toFixed(1)} bits/char)`
        : '';
    const entropyRounded = Math.round(maxEntropy * 100) / 100;
    return {
      kind: 'dns_tunnel',
      level: 'malicious',
      agentId: f.agentId,
      hostname: f.hostname,
      subject: client,
      target: domain,
      detector: DETECTOR,
      summary: `${client} looked up ${formatCount(distinct)} distinct names under ${domain} in ${took}${looks}`,
      evidence: {
        domain,
        dnsServer: server,
        distinctNames: distinct,
        encodedNames: encoded,
        sampleNames: [...encodedSamples, ...otherSamples].slice(0, SAMPLE_NAMES),
        maxEntropyBitsPerChar: entropyRounded,
        longestLabel: maxLabel,
        reason: encoded >= this.minEncoded ? 'encoded-names' : 'burst',
        windowMs: this.windowMs,
        thresholds: { encodedNames: this.minEncoded, burstUniqueNames: this.burst },
      },
      firstSeenMs,
      lastSeenMs,
      flowIds: sampleWith(set.flowIds, f.flowId),
    };
  }
}
