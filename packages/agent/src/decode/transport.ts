import type { DecodedPacket } from './packet.js';
import { SkipReason } from './skip-reasons.js';

export const IpProto = {
  ICMP: 1,
  IGMP: 2,
  TCP: 6,
  UDP: 17,
  GRE: 47,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  OSPF: 89,
  PIM: 103,
  SCTP: 132,
  UDPLITE: 136,
} as const;

/**
 * ICMP request types and their replies. A request is keyed (type, replyType) and a reply
 * (replyType, type), so both directions of an exchange land in one flow, as in Zeek.
 */
const ICMP_COUNTERPART = new Int16Array(256).fill(-1);
const ICMPV6_COUNTERPART = new Int16Array(256).fill(-1);
for (const [a, b] of [[8, 0], [13, 14], [15, 16], [17, 18], [10, 9]]) {
  ICMP_COUNTERPART[a] = b;
  ICMP_COUNTERPART[b] = a;
}
for (const [a, b] of [[128, 129], [133, 134], [135, 136], [130, 131]]) {
  ICMPV6_COUNTERPART[a] = b;
  ICMPV6_COUNTERPART[b] = a;
}
/** Types that answer a request: the flow's initiator is the other side. */
const ICMP_IS_REPLY = new Uint8Array(256);
for (const t of [0, 14, 16, 18, 9]) ICMP_IS_REPLY[t] = 1;
const ICMPV6_IS_REPLY = new Uint8Array(256);
for (const t of [129, 134, 136, 131]) ICMPV6_IS_REPLY[t] = 1;

/** True when the packet is evidently a response, so its destination initiated the flow. */
export function looksLikeResponse(pkt: DecodedPacket): boolean {
  switch (pkt.ipProto) {
    case IpProto.TCP:
      return (pkt.tcpFlags & 0x12) === 0x12; // SYN+ACK
    case IpProto.ICMP:
      return ICMP_IS_REPLY[pkt.sport] === 1;
    case IpProto.ICMPV6:
      return ICMPV6_IS_REPLY[pkt.sport] === 1;
    case IpProto.UDP:
      // A reply from a well-known service port to an ephemeral one.
      return pkt.sport < 1024 && pkt.dport >= 1024;
    default:
      return false;
  }
}

/**
 * Decodes the transport header at `off`. `capEnd` bounds what was captured, `declaredEnd`
 * is where the IP header says the datagram ends (used for payload lengths on the wire).
 */
export function decodeTransport(buf: Uint8Array, off: number, capEnd: number, declaredEnd: number, pkt: DecodedPacket): number {
  const captured = capEnd - off;
  const declared = declaredEnd - off;
  switch (pkt.ipProto) {
    case IpProto.TCP: {
      if (captured < 14) return SkipReason.TRUNCATED_TCP;
      const headerLen = (buf[off + 12] >> 4) << 2;
      if (headerLen < 20) return SkipReason.BAD_TCP_HEADER;
      pkt.sport = (buf[off] << 8) | buf[off + 1];
      pkt.dport = (buf[off + 2] << 8) | buf[off + 3];
      pkt.tcpFlags = buf[off + 13];
      setPayload(pkt, off + headerLen, capEnd, declared - headerLen);
      return SkipReason.NONE;
    }
    case IpProto.UDP:
    case IpProto.UDPLITE: {
      if (captured < 8) return SkipReason.TRUNCATED_UDP;
      pkt.sport = (buf[off] << 8) | buf[off + 1];
      pkt.dport = (buf[off + 2] << 8) | buf[off + 3];
      setPayload(pkt, off + 8, capEnd, declared - 8);
      return SkipReason.NONE;
    }
    case IpProto.SCTP: {
      if (captured < 4) return SkipReason.TRUNCATED_UDP;
      pkt.sport = (buf[off] << 8) | buf[off + 1];
      pkt.dport = (buf[off + 2] << 8) | buf[off + 3];
      setPayload(pkt, off + 12, capEnd, declared - 12);
      return SkipReason.NONE;
    }
    case IpProto.ICMP:
    case IpProto.ICMPV6: {
      if (captured < 2) return SkipReason.TRUNCATED_ICMP;
      const type = buf[off];
      const counterpart = (pkt.ipProto === IpProto.ICMP ? ICMP_COUNTERPART : ICMPV6_COUNTERPART)[type];
      pkt.sport = type;
      pkt.dport = counterpart >= 0 ? counterpart : buf[off + 1];
      setPayload(pkt, off + 4, capEnd, declared - 4);
      return SkipReason.NONE;
    }
    default:
      pkt.sport = 0;
      pkt.dport = 0;
      setPayload(pkt, off, capEnd, declared);
      return SkipReason.NONE;
  }
}

function setPayload(pkt: DecodedPacket, payloadOff: number, capEnd: number, declaredLen: number): void {
  pkt.payloadOff = payloadOff;
  pkt.payloadCapLen = capEnd > payloadOff ? capEnd - payloadOff : 0;
  pkt.payloadLen = declaredLen > 0 ? declaredLen : 0;
}
