/**
 * The pure transforms behind every chart: API responses and live seconds in, chart rows out.
 * Live and history feed the same shapes, so a chart never knows where its data came from.
 */
import type { Agent, Alert, Counts, Flow, GeoCountry, LiveCounters, LiveSecond, ProtocolsResponse, TimelineResponse, TopTalkersResponse } from './api-types.js';

export type ProtoGroup = 'tcp' | 'udp' | 'icmp' | 'other';
export const PROTO_GROUPS: readonly ProtoGroup[] = ['tcp', 'udp', 'icmp', 'other'];

export interface ProtoSlice {
  proto: ProtoGroup;
  packets: number;
  bytes: number;
  /** Flows, where the source counts them (REST); null for live packet counters. */
  flows: number | null;
  /** Share of the total of `metric`, 0..1. */
  share: number;
}

export interface RatePoint {
  t: number;
  packetsPerS: number;
  bytesPerS: number;
  flowsPerS: number;
  /** Totals in the bucket, for tooltips and exact comparisons. */
  packets: number;
  bytes: number;
  flows: number;
}

export interface TalkerRow {
  addr: string;
  packets: number;
  bytes: number;
  flows: number | null;
}

export function protoGroup(proto: string): ProtoGroup {
  if (proto === 'tcp' || proto === 'udp') return proto;
  if (proto === 'icmp' || proto === 'icmpv6') return 'icmp';
  return 'other';
}

function withShares(rows: Omit<ProtoSlice, 'share'>[], metric: 'packets' | 'bytes'): ProtoSlice[] {
  const total = rows.reduce((s, r) => s + r[metric], 0);
  return rows.map((r) => ({ ...r, share: total > 0 ? r[metric] / total : 0 }));
}

/** REST protocols grouped into TCP/UDP/ICMP/other (ICMPv6 counts as ICMP). */
export function protocolSlices(resp: ProtocolsResponse, metric: 'packets' | 'bytes' = 'bytes'): ProtoSlice[] {
  const acc = new Map<ProtoGroup, Omit<ProtoSlice, 'share'>>(PROTO_GROUPS.map((p) => [p, { proto: p, packets: 0, bytes: 0, flows: 0 }]));
  for (const row of resp.protocols) {
    const a = acc.get(protoGroup(row.proto))!;
    a.packets += row.packets;
    a.bytes += row.bytes;
    a.flows = (a.flows ?? 0) + row.flows;
  }
  return withShares([...acc.values()], metric);
}

function countersOf(s: LiveSecond, host: string | null): LiveCounters | undefined {
  return host ? s.hosts[host] : s.fleet;
}

/** Live packet counters summed over the seconds in [fromMs, toMs). */
export function liveProtocolSlices(seconds: readonly LiveSecond[], host: string | null, fromMs: number, toMs: number, metric: 'packets' | 'bytes' = 'bytes'): ProtoSlice[] {
  const rows = PROTO_GROUPS.map((p) => ({ proto: p, packets: 0, bytes: 0, flows: null }));
  for (const s of seconds) {
    if (s.t < fromMs || s.t >= toMs) continue;
    const c = countersOf(s, host);
    if (!c) continue;
    PROTO_GROUPS.forEach((p, i) => {
      rows[i]!.packets += c.protocols[p].packets;
      rows[i]!.bytes += c.protocols[p].bytes;
    });
  }
  return withShares(rows, metric);
}

/** REST timeline as rates per second (bucket total / bucket width). */
export function timelineRates(resp: TimelineResponse): RatePoint[] {
  const stepS = resp.stepMs / 1000;
  return resp.points.map((p) => ({
    t: Date.parse(p.t),
    packets: p.packets,
    bytes: p.bytes,
    flows: p.flows,
    packetsPerS: p.packets / stepS,
    bytesPerS: p.bytes / stepS,
    flowsPerS: p.flows / stepS,
  }));
}

/**
 * Live seconds as a rate series over [fromMs, toMs), with zero-filled gaps so a quiet
 * second shows as zero rather than as a line drawn across it.
 */
export function liveRates(seconds: readonly LiveSecond[], host: string | null, fromMs: number, toMs: number): RatePoint[] {
  const byT = new Map<number, LiveSecond>();
  for (const s of seconds) byT.set(s.t, s);
  const start = Math.ceil(fromMs / 1000) * 1000;
  const out: RatePoint[] = [];
  for (let t = start; t < toMs; t += 1000) {
    const s = byT.get(t);
    const c = s ? countersOf(s, host) : undefined;
    const packets = c?.packets ?? 0;
    const bytes = c?.bytes ?? 0;
    const flows = c?.flows ?? 0;
    out.push({ t, packets, bytes, flows, packetsPerS: packets, bytesPerS: bytes, flowsPerS: flows });
  }
  return out;
}

export function talkerRows(resp: TopTalkersResponse): TalkerRow[] {
  return resp.talkers.map((t) => ({ addr: t.addr ?? `${t.src ?? '?'} → ${t.dst ?? '?'}`, packets: t.packets, bytes: t.bytes, flows: t.flows }));
}

export function sumCounts(rows: readonly Counts[]): Counts {
  return rows.reduce((s, r) => ({ flows: s.flows + r.flows, packets: s.packets + r.packets, bytes: s.bytes + r.bytes }), { flows: 0, packets: 0, bytes: 0 });
}

/** Scope labels the collector stores instead of a country for non-public addresses. */
export const SCOPES = ['private', 'loopback', 'link-local', 'multicast', 'cgnat', 'documentation', 'reserved', 'unspecified'] as const;

export interface GeoSplit {
  /** ISO alpha-2 (upper case) -> stats. */
  countries: Map<string, GeoCountry>;
  scopes: GeoCountry[];
  unknown: GeoCountry | null;
  maxBytes: number;
}

export function splitGeo(rows: readonly GeoCountry[]): GeoSplit {
  const countries = new Map<string, GeoCountry>();
  const scopes: GeoCountry[] = [];
  let unknown: GeoCountry | null = null;
  let maxBytes = 0;
  for (const r of rows) {
    if (r.country === null || r.country === '') unknown = r;
    else if (/^[A-Za-z]{2}$/.test(r.country)) {
      countries.set(r.country.toUpperCase(), r);
      maxBytes = Math.max(maxBytes, r.bytes);
    } else scopes.push(r);
  }
  return { countries, scopes, unknown, maxBytes };
}

/** Fill intensity 0..1 on a log scale, so one busy country does not wash out the rest. */
export function trafficIntensity(bytes: number, maxBytes: number): number {
  if (bytes <= 0 || maxBytes <= 0) return 0;
  return Math.max(0.08, Math.log1p(bytes) / Math.log1p(maxBytes));
}

export interface FleetHealth {
  online: number;
  stale: number;
  withDrops: number;
  packetsPerS: number;
  bytesPerS: number;
  flowsPerS: number;
}

export function fleetHealth(agents: readonly Agent[]): FleetHealth {
  const h: FleetHealth = { online: 0, stale: 0, withDrops: 0, packetsPerS: 0, bytesPerS: 0, flowsPerS: 0 };
  for (const a of agents) {
    if (a.status === 'online') {
      h.online++;
      h.packetsPerS += a.rates.packetsPerS;
      h.bytesPerS += a.rates.bytesPerS;
      h.flowsPerS += a.rates.flowsPerS;
    } else h.stale++;
    if (a.capture.dropped + a.capture.ifDropped > 0) h.withDrops++;
  }
  return h;
}

export function dropShare(a: Agent): number {
  const seen = a.capture.received + a.capture.dropped;
  return seen > 0 ? (a.capture.dropped + a.capture.ifDropped) / seen : 0;
}

export const LEVELS = ['normal', 'suspicious', 'malicious'] as const;

export function levelCounts(counts: Record<string, number>): { level: (typeof LEVELS)[number]; count: number }[] {
  return LEVELS.map((level) => ({ level, count: counts[level] ?? 0 }));
}

/** Alert kinds in words. */
export const ALERT_KIND_LABELS: Record<string, string> = {
  port_scan: 'Port scan',
  syn_flood: 'SYN flood',
  dns_tunnel: 'DNS tunnelling',
  upload_volume: 'Large upload',
  anomaly: 'Anomalous flow',
  threat_intel: 'Known-bad address',
};

/**
 * Addresses known to be bad, with the reason: the subjects of threat-intelligence and
 * malicious alerts, and the listed end of flows a feed matched.
 */
export function collectBadAddresses(alerts: readonly Alert[], flows: readonly Flow[], into = new Map<string, string>()): Map<string, string> {
  for (const a of alerts) {
    if (a.kind === 'threat_intel') into.set(a.subject, a.summary);
    else if (a.level === 'malicious' && !into.has(a.subject)) into.set(a.subject, `${ALERT_KIND_LABELS[a.kind] ?? a.kind}: ${a.summary}`);
  }
  for (const f of flows) {
    if (!f.threat) continue;
    // The collector matches both ends; a flow does not say which one the feed listed, so
    // an end already known wins, else the end with a public (non-scope) location.
    if (into.has(f.src) || into.has(f.dst)) continue;
    const publicEnd = isPublic(f.dstCountry) ? f.dst : isPublic(f.srcCountry) ? f.src : f.dst;
    into.set(publicEnd, `listed by ${f.threat}`);
  }
  return into;
}

function isPublic(country: string | null): boolean {
  return country === null || /^[A-Za-z]{2}$/.test(country);
}

/**
 * Adds a term to a filter (a click on an address, port or host): joined with `and`, the
 * existing filter parenthesised when it has a top-level `or`, nothing added twice.
 */
export function pivotQuery(q: string, term: string): string {
  const current = q.trim();
  if (!current) return term;
  if (current.split(/\s+/).includes(term)) return current;
  const needsParens = /\bor\b|\|\|/i.test(current) && !(current.startsWith('(') && current.endsWith(')'));
  return `${needsParens ? `(${current})` : current} and ${term}`;
}

/** The filter term for a value: quoted when it holds characters the language would split on. */
export function term(field: string, value: string | number): string {
  const v = String(value);
  return /^[A-Za-z0-9_.:/*-]+$/.test(v) ? `${field}:${v}` : `${field}:"${v.replace(/["\\]/g, '\\$&')}"`;
}
