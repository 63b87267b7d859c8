import type { FlowRecord, L7Hints } from '@nta/shared';
import { FLOW_END_REASONS, type FlowTable } from './flow-table.js';
import { finalize, mix } from './hash.js';
import { formatIpv4, formatIpv6, protoName } from './ip-format.js';

/**
 * Turns a flow leaving the table into its wire record, oriented from the initiator.
 * The id is deterministic in (agent, 5-tuple, first packet time), so a redelivered or
 * re-imported flow keeps its identity; its leading 48 bits are the start time in ms,
 * so ids sort by time (good for the collector's index).
 */
export function materializeFlow(
  table: FlowTable,
  slot: number,
  reason: number,
  agentSeed: number,
  l7: L7Hints | undefined,
): FlowRecord {
  const initiatorIsA = table.initiatorIsA(slot);
  const family = table.family(slot) as 4 | 6;
  let addrA: string;
  let addrB: string;
  // Two independent hash chains over the same key give 64 bits beside the 48-bit time.
  let h1 = agentSeed ^ 0x5bd1e995;
  let h2 = agentSeed ^ 0x27d4eb2f;
  if (family === 4) {
    addrA = formatIpv4(table.addrA(slot));
    addrB = formatIpv4(table.addrB(slot));
    h1 = mix(mix(h1, table.addrA(slot)), table.addrB(slot));
    h2 = mix(mix(h2, table.addrB(slot)), table.addrA(slot));
  } else {
    const w = table.v6Words;
    const p = table.addrA(slot) * 8;
    addrA = formatIpv6(w[p], w[p + 1], w[p + 2], w[p + 3]);
    addrB = formatIpv6(w[p + 4], w[p + 5], w[p + 6], w[p + 7]);
    for (let i = 0; i < 8; i++) {
      h1 = mix(h1, w[p + i]);
      h2 = mix(h2, w[p + 7 - i]);
    }
  }
  const ports = table.ports(slot);
  const portA = ports >>> 16;
  const portB = ports & 0xffff;
  const packetsFromA = table.packetsFromA(slot);
  const packetsFromB = table.packetsFromB(slot);
  const bytesFromA = table.bytesFromA(slot);
  const bytesFromB = table.bytesFromB(slot);
  const packets = packetsFromA + packetsFromB;
  const bytes = bytesFromA + bytesFromB;
  const firstMs = table.firstMs(slot);
  const lastMs = table.lastMs(slot);
  const durationMs = lastMs - firstMs;
  const mean = packets > 0 ? bytes / packets : 0;
  const variance = packets > 0 ? table.sizeSumSq(slot) / packets - mean * mean : 0;
  const iats = packets - 1;
  const iatMean = iats > 0 ? durationMs / iats : 0;
  const iatVariance = iats > 0 ? table.iatSumSq(slot) / iats - iatMean * iatMean : 0;
  const bytesToDst = initiatorIsA ? bytesFromA : bytesFromB;
  const proto = table.proto(slot);

  const firstUs = Math.floor(firstMs * 1000);
  const usLow = firstUs >>> 0;
  const usHigh = Math.floor(firstUs / 4294967296) >>> 0;
  const keyTail = proto | (table.vlan(slot) << 8);
  h1 = finalize(mix(mix(mix(mix(h1, ports), keyTail), usLow), usHigh));
  h2 = finalize(mix(mix(mix(mix(h2, usHigh), usLow), keyTail), ports));
  const vlan = table.vlan(slot);

  const record: FlowRecord = {
    flowId: timeOrderedId(firstMs, h1, h2),
    firstSeenMs: firstMs,
    lastSeenMs: lastMs,
    family,
    ipProto: proto,
    proto: protoName(proto),
    src: initiatorIsA ? addrA : addrB,
    dst: initiatorIsA ? addrB : addrA,
    sport: initiatorIsA ? portA : portB,
    dport: initiatorIsA ? portB : portA,
    packetsToDst: initiatorIsA ? packetsFromA : packetsFromB,
    packetsToSrc: initiatorIsA ? packetsFromB : packetsFromA,
    bytesToDst,
    bytesToSrc: initiatorIsA ? bytesFromB : bytesFromA,
    packets,
    bytes,
    tcpFlagsToDst: initiatorIsA ? table.flagsFromA(slot) : table.flagsFromB(slot),
    tcpFlagsToSrc: initiatorIsA ? table.flagsFromB(slot) : table.flagsFromA(slot),
    endReason: FLOW_END_REASONS[reason],
    features: {
      durationMs,
      pktSizeMin: packets > 0 ? table.sizeMin(slot) : 0,
      pktSizeMax: table.sizeMax(slot),
      pktSizeMean: mean,
      pktSizeStd: variance > 0 ? Math.sqrt(variance) : 0,
      iatMeanMs: iatMean,
      iatStdMs: iatVariance > 0 ? Math.sqrt(iatVariance) : 0,
      iatMinMs: iats > 0 ? table.iatMin(slot) : 0,
      iatMaxMs: table.iatMax(slot),
      synCount: table.synCount(slot),
      synAckCount: table.synAckCount(slot),
      finCount: table.finCount(slot),
      rstCount: table.rstCount(slot),
      byteRatio: bytes > 0 ? bytesToDst / bytes : 0,
      payloadBytes: table.payloadBytes(slot),
    },
  };
  if (vlan !== 0) record.vlan = vlan;
  if (l7 !== undefined) record.l7 = l7;
  return record;
}

/** A seed for flow ids from the agent id, so two agents seeing the same flow give different ids. */
export function agentSeed(agentId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < agentId.length; i++) h = Math.imul(h ^ agentId.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** UUID layout with a 48-bit millisecond prefix, version 8 (custom) and the RFC 4122 variant. */
function timeOrderedId(firstMs: number, h1: number, h2: number): string {
  const ms = Math.max(0, Math.floor(firstMs));
  const hi = Math.floor(ms / 0x1000000) % 0x1000000;
  const lo = ms % 0x1000000;
  const b = [
    (hi >>> 16) & 255, (hi >>> 8) & 255, hi & 255,
    (lo >>> 16) & 255, (lo >>> 8) & 255, lo & 255,
    0x80 | (h1 >>> 28), (h1 >>> 20) & 255,
    0x80 | ((h1 >>> 14) & 0x3f), (h1 >>> 6) & 255,
    ((h1 & 0x3f) << 2) | (h2 >>> 30), (h2 >>> 22) & 255, (h2 >>> 14) & 255, (h2 >>> 6) & 255, (h2 >>> 0) & 255, (h2 >>> 8) & 255,
  ];
  return (
    HEX[b[0]] + HEX[b[1]] + HEX[b[2]] + HEX[b[3]] + '-' + HEX[b[4]] + HEX[b[5]] + '-' + HEX[b[6]] + HEX[b[7]] + '-' +
    HEX[b[8]] + HEX[b[9]] + '-' + HEX[b[10]] + HEX[b[11]] + HEX[b[12]] + HEX[b[13]] + HEX[b[14]] + HEX[b[15]]
  );
}
