/**
 * Synthetic fleet traffic for the collector benchmark: `hosts` agents, each with its own
 * internal clients, talking to a shared pool of public servers picked with a Zipf-like
 * skew (a few popular destinations, a long tail), as real networks do.
 */
import type { FlowRecord } from '@nta/shared';
import type { StoredFlow } from '@nta/collector';

export interface FleetShape {
  hosts: number;
  clientsPerHost: number;
  servers: number;
}

export const DEFAULT_SHAPE: FleetShape = { hosts: 50, clientsPerHost: 200, servers: 20_000 };

/** Deterministic xorshift, so two runs measure the same rows. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

function uuidFrom(a: number, b: number): string {
  const hex = (n: number, len: number) => (n >>> 0).toString(16).padStart(8, '0').slice(-len);
  return `${hex(a, 8)}-${hex(b >>> 16, 4)}-4${hex(b, 3)}-8${hex(a >>> 4, 3)}-${hex(b * 2654435761, 8)}${hex(a ^ b, 4)}`;
}

export function serverAddress(i: number): string {
  return `${23 + (i % 180)}.${(i >> 8) & 255}.${i & 255}.${(i * 7) & 255}`;
}

const PROTOS = [
  { proto: 'tcp', ipProto: 6, dport: 443 },
  { proto: 'tcp', ipProto: 6, dport: 80 },
  { proto: 'udp', ipProto: 17, dport: 53 },
  { proto: 'udp', ipProto: 17, dport: 123 },
  { proto: 'icmp', ipProto: 1, dport: 0 },
] as const;

export function makeFlow(n: number, host: number, atMs: number, r: () => number, shape: FleetShape = DEFAULT_SHAPE): FlowRecord {
  const client = Math.floor(r() * shape.clientsPerHost);
  const server = Math.floor(shape.servers * Math.pow(r(), 3));
  const p = PROTOS[n % 10 < 6 ? 0 : n % 10 < 7 ? 1 : n % 10 < 9 ? 2 : n % 10 < 10 ? 3 : 4]!;
  const packets = 2 + Math.floor(r() * 40);
  const bytes = packets * (60 + Math.floor(r() * 1200));
  const toDst = Math.max(1, Math.floor(packets / 2));
  const bytesToDst = Math.floor(bytes * 0.3);
  const durationMs = Math.floor(r() * 30_000);
  return {
    flowId: uuidFrom(n, host * 1_000_003 + 17),
    firstSeenMs: atMs,
    lastSeenMs: atMs + durationMs,
    family: 4,
    ipProto: p.ipProto,
    proto: p.proto,
    src: `10.${host}.${client >> 8}.${client & 255}`,
    dst: serverAddress(server),
    sport: 1024 + Math.floor(r() * 60_000),
    dport: p.dport,
    packetsToDst: toDst,
    packetsToSrc: packets - toDst,
    bytesToDst,
    bytesToSrc: bytes - bytesToDst,
    packets,
    bytes,
    tcpFlagsToDst: p.proto === 'tcp' ? 0x1b : 0,
    tcpFlagsToSrc: p.proto === 'tcp' ? 0x1b : 0,
    endReason: p.proto === 'tcp' ? 'fin' : 'idle',
    ...(p.dport === 53 ? { l7: { dnsQuery: `www${server % 300}.example.com`, dnsQueryType: 1, dnsRcode: 0 } } : {}),
    features: {
      durationMs,
      pktSizeMin: 60,
      pktSizeMax: 1260,
      pktSizeMean: bytes / packets,
      pktSizeStd: 200 * r(),
      iatMeanMs: durationMs / packets,
      iatStdMs: 5 * r(),
      iatMinMs: 0.1,
      iatMaxMs: durationMs / 2,
      synCount: p.proto === 'tcp' ? 1 : 0,
      synAckCount: p.proto === 'tcp' ? 1 : 0,
      finCount: p.proto === 'tcp' ? 2 : 0,
      rstCount: 0,
      byteRatio: 0.3,
      payloadBytes: Math.max(0, bytes - packets * 54),
    },
  };
}

export function toStored(f: FlowRecord, host: number): StoredFlow {
  return {
    ...f,
    agentId: `host-${host}`,
    hostname: `host-${host}.bench`,
    srcCountry: 'private',
    dstCountry: 'US',
    srcAsn: null,
    dstAsn: 15169,
    score: 0.4,
    level: 0,
    threat: null,
  };
}
