import type { FlowEndReason, FlowRecord, L7Hints } from '@nta/shared';
import type { SeededRandom } from '../seeded-random.js';

/**
 * Builds FlowRecords whose numbers hang together the way the agent's would: packet counts match
 * byte counts, flags match the handshake, features follow from the totals. Sizes are Ethernet
 * frame bytes (an empty TCP segment is 54, a full one 1514).
 */
export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

/** How a TCP flow went, which fixes its flags and flag counters. */
export type TcpShape =
  | 'complete' //  handshake, data, FIN both ways
  | 'reset' //     handshake, data, RST from the server
  | 'midstream' // a later active-timeout piece of a long connection: ACK/PSH only
  | 'syn-unanswered' // SYN(s), nothing back
  | 'syn-rst' //   SYN, RST/ACK back (closed port)
  | 'syn-synack-rst' // SYN, SYN/ACK back, RST from the initiator (half-open scan of an open port)
  | 'syn-synack-noack'; // SYN, SYN/ACK back, never completed (spoofed source)

export interface FlowSpec {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  proto: 'tcp' | 'udp' | 'icmp';
  startMs: number;
  durationMs: number;
  packetsToDst: number;
  packetsToSrc: number;
  bytesToDst: number;
  bytesToSrc: number;
  tcp?: TcpShape;
  endReason?: FlowEndReason;
  l7?: L7Hints;
}

const HEADER_BYTES = { tcp: 54, udp: 42, icmp: 42 } as const;
const IP_PROTO = { tcp: 6, udp: 17, icmp: 1 } as const;
const MAX_FRAME = 1514;
const { FIN, SYN, RST, PSH, ACK } = TcpFlag;

interface TcpFlags {
  toDst: number;
  toSrc: number;
  syn: number;
  synAck: number;
  fin: number;
  rst: number;
  end: FlowEndReason;
}

function tcpFlags(shape: TcpShape, packetsToDst: number, packetsToSrc: number): TcpFlags {
  switch (shape) {
    case 'complete':
      return { toDst: SYN | ACK | PSH | FIN, toSrc: SYN | ACK | PSH | FIN, syn: 1, synAck: 1, fin: 2, rst: 0, end: 'fin' };
    case 'reset':
      return { toDst: SYN | ACK | PSH, toSrc: SYN | ACK | PSH | RST, syn: 1, synAck: 1, fin: 0, rst: 1, end: 'rst' };
    case 'midstream':
      return { toDst: ACK | PSH, toSrc: ACK | PSH, syn: 0, synAck: 0, fin: 0, rst: 0, end: 'active' };
    case 'syn-unanswered':
      return { toDst: SYN, toSrc: 0, syn: packetsToDst, synAck: 0, fin: 0, rst: 0, end: 'idle' };
    case 'syn-rst':
      return { toDst: SYN, toSrc: RST | ACK, syn: packetsToDst, synAck: 0, fin: 0, rst: 1, end: 'rst' };
    case 'syn-synack-rst':
      return { toDst: SYN | RST, toSrc: SYN | ACK, syn: 1, synAck: 1, fin: 0, rst: 1, end: 'rst' };
    case 'syn-synack-noack':
      return { toDst: SYN, toSrc: SYN | ACK, syn: packetsToDst, synAck: packetsToSrc, fin: 0, rst: 0, end: 'idle' };
  }
}

/** A version-4 UUID from the seeded generator, so flow ids are stable per seed. */
export function seededUuid(rng: SeededRandom): string {
  const hex = (n: number): string => {
    let s = '';
    for (let i = 0; i < n; i++) s += rng.int(16).toString(16);
    return s;
  };
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[rng.int(4)]}${hex(3)}-${hex(12)}`;
}

export function buildFlow(spec: FlowSpec, rng: SeededRandom): FlowRecord {
  const packets = spec.packetsToDst + spec.packetsToSrc;
  const bytes = spec.bytesToDst + spec.bytesToSrc;
  const header = HEADER_BYTES[spec.proto];
  const mean = packets > 0 ? bytes / packets : 0;
  const min = packets > 0 ? Math.min(Math.floor(mean), header + (spec.proto === 'tcp' ? 12 * rng.int(2) : 0)) : 0;
  const max = packets > 0 ? Math.max(Math.ceil(mean), Math.min(MAX_FRAME, Math.round(mean * (1 + rng.next() * 3)))) : 0;
  // Sizes modelled as a mix of min- and max-size packets with the right mean.
  const share = max > min ? (mean - min) / (max - min) : 0;
  const std = max > min ? (max - min) * Math.sqrt(share * (1 - share)) : 0;
  const iats = packets - 1;
  const iatMean = iats > 0 ? spec.durationMs / iats : 0;
  const flags = spec.proto === 'tcp' ? tcpFlags(spec.tcp ?? 'complete', spec.packetsToDst, spec.packetsToSrc) : null;
  const flow: FlowRecord = {
    flowId: seededUuid(rng),
    firstSeenMs: spec.startMs,
    lastSeenMs: spec.startMs + spec.durationMs,
    family: spec.src.includes(':') ? 6 : 4,
    ipProto: IP_PROTO[spec.proto],
    proto: spec.proto,
    src: spec.src,
    dst: spec.dst,
    sport: spec.sport,
    dport: spec.dport,
    packetsToDst: spec.packetsToDst,
    packetsToSrc: spec.packetsToSrc,
    bytesToDst: spec.bytesToDst,
    bytesToSrc: spec.bytesToSrc,
    packets,
    bytes,
    tcpFlagsToDst: flags?.toDst ?? 0,
    tcpFlagsToSrc: spec.packetsToSrc > 0 ? (flags?.toSrc ?? 0) : 0,
    endReason: spec.endReason ?? flags?.end ?? 'idle',
    features: {
      durationMs: spec.durationMs,
      pktSizeMin: min,
      pktSizeMax: max,
      pktSizeMean: mean,
      pktSizeStd: std,
      iatMeanMs: iatMean,
      iatStdMs: iatMean * (0.3 + rng.next() * 1.5),
      iatMinMs: iats > 0 ? iatMean * rng.next() * 0.2 : 0,
      iatMaxMs: iats > 0 ? Math.min(spec.durationMs, iatMean * (1 + rng.next() * 10)) : 0,
      synCount: flags?.syn ?? 0,
      synAckCount: spec.packetsToSrc > 0 ? (flags?.synAck ?? 0) : 0,
      finCount: flags?.fin ?? 0,
      rstCount: flags?.rst ?? 0,
      byteRatio: bytes > 0 ? spec.bytesToDst / bytes : 0,
      payloadBytes: Math.max(0, bytes - packets * header),
    },
  };
  if (spec.l7 !== undefined) flow.l7 = spec.l7;
  return flow;
}

/** Packets needed to carry `bytes` of frames of about `frameBytes` each (at least 1). */
export function packetsFor(bytes: number, frameBytes: number): number {
  return Math.max(1, Math.round(bytes / frameBytes));
}
