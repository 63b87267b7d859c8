import type { FlowRecord } from '@nta/shared';

/**
 * The feature vector the anomaly model sees for one flow.
 *
 * Counts, byte totals and times are heavy-tailed (a flow has 1 packet or 10 million), so they
 * enter as log1p: the forest picks split points uniformly between a feature's min and max, and
 * on a raw scale nearly every split would fall among the few giant flows. Packet sizes are
 * bounded by the MTU and enter raw. Port-less protocols get dport class -1.
 */
export const FEATURE_NAMES = [
  'log_packets',
  'log_bytes',
  'log_packets_to_dst',
  'log_packets_to_src',
  'log_bytes_to_dst',
  'log_bytes_to_src',
  'log_duration_ms',
  'byte_ratio',
  'pkt_size_min',
  'pkt_size_max',
  'pkt_size_mean',
  'pkt_size_std',
  'log_iat_mean_ms',
  'log_iat_std_ms',
  'log_iat_min_ms',
  'log_iat_max_ms',
  'log_syn_count',
  'log_syn_ack_count',
  'log_fin_count',
  'log_rst_count',
  'dport_class',
  'proto_tcp',
  'proto_udp',
  'proto_icmp',
  'proto_other',
  'payload_fraction',
] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];
export const FEATURE_COUNT = FEATURE_NAMES.length;

/** Dport classes (IANA ranges). */
export const DportClass = { none: -1, wellKnown: 0, registered: 1, ephemeral: 2 } as const;

const IP_PROTO_ICMP = 1;
const IP_PROTO_TCP = 6;
const IP_PROTO_UDP = 17;
const IP_PROTO_ICMPV6 = 58;
const IP_PROTO_SCTP = 132;

/** Larger inputs are clamped, so absurd values (hostile or corrupt) stay finite and ordered. */
const MAX_INPUT = Number.MAX_SAFE_INTEGER;
/** Packet sizes beyond the largest IP datagram cannot be real. */
const MAX_PACKET_SIZE = 65_535;

function logScale(v: number): number {
  // `!(v > 0)` also maps NaN to 0; the schema forbids NaN but the model must never see one.
  if (!(v > 0)) return 0;
  return Math.log1p(v < MAX_INPUT ? v : MAX_INPUT);
}

function packetSize(v: number): number {
  if (!(v > 0)) return 0;
  return v < MAX_PACKET_SIZE ? v : MAX_PACKET_SIZE;
}

function fraction(part: number, whole: number): number {
  if (!(whole > 0) || !(part > 0)) return 0;
  const f = part / whole;
  return f < 1 ? f : 1;
}

function dportClass(ipProto: number, dport: number): number {
  if (ipProto !== IP_PROTO_TCP && ipProto !== IP_PROTO_UDP && ipProto !== IP_PROTO_SCTP) return DportClass.none;
  if (dport < 1024) return DportClass.wellKnown;
  if (dport < 49152) return DportClass.registered;
  return DportClass.ephemeral;
}

/**
 * Writes the FEATURE_COUNT features of `flow` into `out[offset .. offset + FEATURE_COUNT)`.
 * Allocates nothing, so it can run on every ingested flow.
 */
export function writeFeatures(flow: FlowRecord, out: Float64Array, offset: number): void {
  const f = flow.features;
  const p = flow.ipProto;
  out[offset] = logScale(flow.packets);
  out[offset + 1] = logScale(flow.bytes);
  out[offset + 2] = logScale(flow.packetsToDst);
  out[offset + 3] = logScale(flow.packetsToSrc);
  out[offset + 4] = logScale(flow.bytesToDst);
  out[offset + 5] = logScale(flow.bytesToSrc);
  out[offset + 6] = logScale(f.durationMs);
  out[offset + 7] = fraction(f.byteRatio, 1);
  out[offset + 8] = packetSize(f.pktSizeMin);
  out[offset + 9] = packetSize(f.pktSizeMax);
  out[offset + 10] = packetSize(f.pktSizeMean);
  out[offset + 11] = packetSize(f.pktSizeStd);
  out[offset + 12] = logScale(f.iatMeanMs);
  out[offset + 13] = logScale(f.iatStdMs);
  out[offset + 14] = logScale(f.iatMinMs);
  out[offset + 15] = logScale(f.iatMaxMs);
  out[offset + 16] = logScale(f.synCount);
  out[offset + 17] = logScale(f.synAckCount);
  out[offset + 18] = logScale(f.finCount);
  out[offset + 19] = logScale(f.rstCount);
  out[offset + 20] = dportClass(p, flow.dport);
  out[offset + 21] = p === IP_PROTO_TCP ? 1 : 0;
  out[offset + 22] = p === IP_PROTO_UDP ? 1 : 0;
  out[offset + 23] = p === IP_PROTO_ICMP || p === IP_PROTO_ICMPV6 ? 1 : 0;
  out[offset + 24] = p !== IP_PROTO_TCP && p !== IP_PROTO_UDP && p !== IP_PROTO_ICMP && p !== IP_PROTO_ICMPV6 ? 1 : 0;
  out[offset + 25] = fraction(f.payloadBytes, flow.bytes);
}

/**
 * Feature rows of a batch, row-major, in `scratch` when it is large enough (callers keep one
 * buffer and let it grow) or in a new buffer otherwise. Returns the buffer used.
 */
export function writeFeatureMatrix(flows: readonly FlowRecord[], scratch?: Float64Array): Float64Array {
  const needed = flows.length * FEATURE_COUNT;
  const out = scratch !== undefined && scratch.length >= needed ? scratch : new Float64Array(needed);
  for (let i = 0; i < flows.length; i++) writeFeatures(flows[i], out, i * FEATURE_COUNT);
  return out;
}
