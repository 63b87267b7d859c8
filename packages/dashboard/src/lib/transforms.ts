/**
 * The pure transforms behind every chart: API responses and live seconds in, chart rows out.
 * Live and history feed the same shapes, so a chart never knows where its data came from.
 */
import { safeParseQuery, type QueryNode } from '@nta/shared/query';
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

/**
 * REST timeline as rates per second. The API leaves out empty buckets: they are filled with
 * zeros so a quiet stretch is drawn as quiet, and a bucket cut by the range's edge is divided
 * by the part of it inside the range, so a partly elapsed last bucket does not dip.
 */
export function timelineRates(resp: TimelineResponse): RatePoint[] {
  const step = resp.stepMs;
  const fromMs = Date.parse(resp.range.from);
  const toMs = Date.parse(resp.range.to);
  const byT = new Map(resp.points.map((p) => [Date.parse(p.t), p]));
  const t0 = Math.floor(fromMs / step) * step;
  // Zero-fill only on the grid the server used (epoch-aligned); anything else is drawn as given.
  const onGrid = Number.isFinite(t0) && step > 0 && [...byT.keys()].every((t) => (t - t0) % step === 0) && (toMs - t0) / step <= 5000;
  const times = onGrid ? Array.from({ length: Math.max(0, Math.ceil((toMs - t0) / step)) }, (_, i) => t0 + i * step) : [...byT.keys()].sort((a, b) => a - b);
  return times.map((t) => {
    const p = byT.get(t) ?? { flows: 0, packets: 0, bytes: 0 };
    const coveredS = (onGrid ? Math.max(1, Math.min(t + step, toMs) - Math.max(t, fromMs)) : step) / 1000;
    return { t, packets: p.packets, bytes: p.bytes, flows: p.flows, packetsPerS: p.packets / coveredS, bytesPerS: p.bytes / coveredS, flowsPerS: p.flows / coveredS };
  });
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
 * Addresses known to be bad, with the reason: the subjects of threat-intelligence alerts and
 * the listed end of flows a feed matched. (A malicious alert's subject may be its victim or
 * one of our own hosts, so it does not make an address "known bad".)
 */
export function collectBadAddresses(alerts: readonly Alert[], flows: readonly Flow[], into = new Map<string, string>()): Map<string, string> {
  for (const a of alerts) if (a.kind === 'threat_intel') into.set(a.subject, a.summary);
  for (const f of flows) {
    if (!f.threat || into.has(f.src) || into.has(f.dst)) continue;
    into.set(listedEnd(f, into), `listed by ${f.threat}`);
  }
  return into;
}

/**
 * Which end of a flow a threat feed listed. The collector matches both ends and records only
 * the feed, so: an end already known bad, else the end with a public location.
 */
export function listedEnd(f: Pick<Flow, 'src' | 'dst' | 'srcCountry' | 'dstCountry'>, known: ReadonlyMap<string, string> = new Map()): string {
  if (known.has(f.src)) return f.src;
  if (known.has(f.dst)) return f.dst;
  return isPublic(f.dstCountry) ? f.dst : isPublic(f.srcCountry) ? f.src : f.dst;
}

/** Of two copies of one alert, whether `a` is the later state: more activity; with the same activity, an acknowledgement `b` lacks. */
export function newerAlert(a: Alert, b: Alert): boolean {
  const seen = Date.parse(a.lastSeen) - Date.parse(b.lastSeen);
  if (seen !== 0) return seen > 0;
  if (a.occurrences !== b.occurrences) return a.occurrences > b.occurrences;
  return a.acknowledgedAt !== null && b.acknowledgedAt === null;
}

function isPublic(country: string | null): boolean {
  return country === null || /^[A-Za-z]{2}$/.test(country);
}

/**
 * Adds a term to a filter (a click on an address, port or host), joined with `and`. The
 * current filter is parenthesised when its top level is an `or` (decided by the parser, not
 * by the text), and a term already required at the top level is not added twice.
 */
export function pivotQuery(q: string, term: string): string {
  const current = q.trim();
  if (!current) return term;
  const parsed = safeParseQuery(current);
  if (!parsed.ok || !parsed.ast) return current ? `(${current}) and ${term}` : term;
  const added = safeParseQuery(term);
  const required = parsed.ast.type === 'and' ? parsed.ast.children : [parsed.ast];
  if (added.ok && added.ast && required.some((n) => sameTerm(n, added.ast!))) return current;
  return `${parsed.ast.type === 'or' && !wrappedInParens(current) ? `(${current})` : current} and ${term}`;
}

/** Whether the whole text is one parenthesised group: its first `(` closes at the last character. */
function wrappedInParens(text: string): boolean {
  if (!text.startsWith('(') || !text.endsWith(')')) return false;
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i === text.length - 1;
  }
  return false;
}

function sameTerm(a: QueryNode, b: QueryNode): boolean {
  if (a.type !== 'term' || b.type !== 'term') return false;
  return a.field === b.field && JSON.stringify(a.values) === JSON.stringify(b.values);
}

/** The filter term for a value: quoted when it holds characters the language would split on. */
export function term(field: string, value: string | number): string {
  const v = String(value);
  return /^[A-Za-z0-9_.:/*-]+$/.test(v) ? `${field}:${v}` : `${field}:"${v.replace(/["\\]/g, '\\$&')}"`;
}
