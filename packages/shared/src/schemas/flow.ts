import { z } from 'zod';
import { isValidAgentId, WIRE_VERSION } from '../subjects.js';

export const AgentId = z.string().refine(isValidAgentId, {
  message: 'agent id must be 1-64 characters of A-Z a-z 0-9 _ -',
});

/** Transport-layer names the agent reports; anything else is `ip-<number>`. */
export const ProtoName = z.string().regex(/^(tcp|udp|icmp|icmpv6|sctp|gre|esp|ah|igmp|ospf|pim|ip-\d{1,3})$/);
export type ProtoName = z.infer<typeof ProtoName>;

/** Why a flow record was emitted. */
export const FlowEndReason = z.enum(['idle', 'active', 'fin', 'rst', 'evicted', 'end']);
export type FlowEndReason = z.infer<typeof FlowEndReason>;

const count = z.number().int().nonnegative();
const nonNegative = z.number().nonnegative();
const port = z.number().int().min(0).max(65535);
const ip = z.union([z.ipv4(), z.ipv6()]);

/** Light application-layer hints, taken from the first packets of a flow. */
export const L7Hints = z.object({
  dnsQuery: z.string().max(255).optional(),
  dnsQueryType: z.number().int().min(0).max(65535).optional(),
  dnsRcode: z.number().int().min(0).max(15).optional(),
  httpMethod: z.string().max(16).optional(),
  httpHost: z.string().max(255).optional(),
  tlsSni: z.string().max(255).optional(),
  tlsAlpn: z.array(z.string().max(255)).max(16).optional(),
});
export type L7Hints = z.infer<typeof L7Hints>;

/** What the anomaly model scores. Sizes are frame bytes, times are milliseconds. */
export const FlowFeatures = z.object({
  durationMs: nonNegative,
  pktSizeMin: count,
  pktSizeMax: count,
  pktSizeMean: nonNegative,
  pktSizeStd: nonNegative,
  iatMeanMs: nonNegative,
  iatStdMs: nonNegative,
  iatMinMs: nonNegative,
  iatMaxMs: nonNegative,
  synCount: count,
  synAckCount: count,
  finCount: count,
  rstCount: count,
  /** bytesToDst / bytes: 1 is a pure upload from the initiator, 0 a pure download. */
  byteRatio: z.number().min(0).max(1),
  /** L4 payload bytes (TCP/UDP data), both directions. */
  payloadBytes: count,
});
export type FlowFeatures = z.infer<typeof FlowFeatures>;

/**
 * One bidirectional flow. `src` is the initiator. For ICMP/ICMPv6, `sport` holds the
 * type and `dport` the code of the first packet (as Zeek does); other port-less
 * protocols carry 0.
 */
export const FlowRecord = z.object({
  /** Assigned by the agent, deterministic per (agent, 5-tuple, first packet time): a redelivery or re-import has the same id. */
  flowId: z.uuid(),
  firstSeenMs: nonNegative,
  lastSeenMs: nonNegative,
  family: z.union([z.literal(4), z.literal(6)]),
  ipProto: z.number().int().min(0).max(255),
  proto: ProtoName,
  src: ip,
  dst: ip,
  sport: port,
  dport: port,
  vlan: z.number().int().min(0).max(4095).optional(),
  packetsToDst: count,
  packetsToSrc: count,
  bytesToDst: count,
  bytesToSrc: count,
  packets: count,
  bytes: count,
  /** OR of TCP flag bits (FIN=1 SYN=2 RST=4 PSH=8 ACK=16 URG=32 ECE=64 CWR=128) per direction. */
  tcpFlagsToDst: z.number().int().min(0).max(255),
  tcpFlagsToSrc: z.number().int().min(0).max(255),
  endReason: FlowEndReason,
  l7: L7Hints.optional(),
  features: FlowFeatures,
});
export type FlowRecord = z.infer<typeof FlowRecord>;

export const FlowBatch = z.object({
  v: z.literal(WIRE_VERSION),
  agentId: AgentId,
  hostname: z.string().min(1).max(255),
  /** Monotonic per agent run; with runId it names the batch for JetStream de-duplication. */
  runId: z.string().min(1).max(64),
  seq: count,
  sentAtMs: nonNegative,
  flows: z.array(FlowRecord).min(1).max(10_000),
});
export type FlowBatch = z.infer<typeof FlowBatch>;
