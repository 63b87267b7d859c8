import { z } from 'zod';
import { WIRE_VERSION } from '../subjects.js';
import { AgentId } from './flow.js';

const count = z.number().int().nonnegative();
const rate = z.number().nonnegative();

export const ProtocolCounters = z.object({ packets: count, bytes: count });
export type ProtocolCounters = z.infer<typeof ProtocolCounters>;

export const TopTalker = z.object({ addr: z.union([z.ipv4(), z.ipv6()]), packets: count, bytes: count });
export type TopTalker = z.infer<typeof TopTalker>;

/** Counters for one second of packet time on one host. */
export const HostSecond = z.object({
  tsMs: z.number().int().nonnegative(),
  packets: count,
  bytes: count,
  protocols: z.object({
    tcp: ProtocolCounters,
    udp: ProtocolCounters,
    icmp: ProtocolCounters,
    other: ProtocolCounters,
  }),
  /** Addresses by bytes sent plus received in this second, largest first (at most 10). */
  topTalkers: z.array(TopTalker).max(10),
});
export type HostSecond = z.infer<typeof HostSecond>;

export const HostStatsBatch = z.object({
  v: z.literal(WIRE_VERSION),
  agentId: AgentId,
  hostname: z.string().min(1).max(255),
  seconds: z.array(HostSecond).min(1).max(3600),
});
export type HostStatsBatch = z.infer<typeof HostStatsBatch>;

export const CaptureInterface = z.object({
  name: z.string().max(255),
  linkType: z.string().max(64).optional(),
  addresses: z.array(z.string().max(64)).max(64).default([]),
});
export type CaptureInterface = z.infer<typeof CaptureInterface>;

export const Heartbeat = z.object({
  v: z.literal(WIRE_VERSION),
  agentId: AgentId,
  hostname: z.string().min(1).max(255),
  version: z.string().max(64),
  runId: z.string().min(1).max(64),
  startedAtMs: z.number().nonnegative(),
  sentAtMs: z.number().nonnegative(),
  /** How often the agent sends heartbeats; the collector calls it stale after a few missed. */
  intervalMs: z.number().int().positive(),
  mode: z.enum(['live', 'file']),
  interfaces: z.array(CaptureInterface).max(64),
  rates: z.object({ packetsPerS: rate, bytesPerS: rate, flowsPerS: rate }),
  totals: z.object({ packets: count, bytes: count, flows: count }),
  /** libpcap's own counters for live capture (pcap_stats); zero when reading a file. */
  capture: z.object({ received: count, dropped: count, ifDropped: count }),
  flowTable: z.object({ active: count, evicted: count }),
  spool: z.object({ pendingBatches: count, pendingBytes: count, droppedBatches: count }),
  skipped: z.record(z.string(), count),
});
export type Heartbeat = z.infer<typeof Heartbeat>;
