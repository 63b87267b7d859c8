import { LinkType } from '../capture/packet-sink.js';
import type { DecodedPacket } from './packet.js';
import { SkipReason } from './skip-reasons.js';

export const EtherType = {
  IPV4: 0x0800,
  ARP: 0x0806,
  VLAN: 0x8100,
  IPV6: 0x86dd,
  MPLS: 0x8847,
  MPLS_MULTICAST: 0x8848,
  PPPOE_SESSION: 0x8864,
  QINQ: 0x88a8,
  QINQ_OLD_9100: 0x9100,
  QINQ_OLD_9200: 0x9200,
} as const;

const MAX_VLAN_TAGS = 8;
/** LLC/SNAP headers followed in one frame (802.3 -> SNAP -> 802.1Q -> 802.3 -> SNAP ...). */
const MAX_SNAP_HEADERS = 2;
const MAX_MPLS_LABELS = 16;

/**
 * Decodes the link layer and any VLAN/MPLS/PPPoE shims above it, leaving the network
 * layer's ethertype in `pkt.netType` and its offset in `pkt.netOff`.
 */
export function decodeLink(linkType: number, buf: Uint8Array, off: number, end: number, pkt: DecodedPacket): number {
  switch (linkType) {
    case LinkType.ETHERNET:
      if (end - off < 14) return SkipReason.TRUNCATED_LINK;
      return decodeEtherType(buf, off + 14, end, (buf[off + 12] << 8) | buf[off + 13], pkt);
    case LinkType.LINUX_SLL:
      if (end - off < 16) return SkipReason.TRUNCATED_LINK;
      return decodeEtherType(buf, off + 16, end, (buf[off + 14] << 8) | buf[off + 15], pkt);
    case LinkType.LINUX_SLL2:
      if (end - off < 20) return SkipReason.TRUNCATED_LINK;
      return decodeEtherType(buf, off + 20, end, (buf[off] << 8) | buf[off + 1], pkt);
    case LinkType.RAW:
    case LinkType.RAW_BSD_12:
    case LinkType.RAW_BSD_14:
      return byVersionNibble(buf, off, end, pkt);
    case LinkType.IPV4:
    case LinkType.IPV6: {
      // These promise one IP version; the other is a mislabelled capture (tcpdump: "wrong link-layer encapsulation").
      const reason = byVersionNibble(buf, off, end, pkt);
      if (reason !== SkipReason.NONE) return reason;
      return pkt.netType === (linkType === LinkType.IPV4 ? EtherType.IPV4 : EtherType.IPV6) ? SkipReason.NONE : SkipReason.BAD_VERSION;
    }
    case LinkType.NULL:
    case LinkType.LOOP: {
      if (end - off < 4) return SkipReason.TRUNCATED_LINK;
      // NULL holds the family in the capturing host's byte order, LOOP in network order.
      let family =
        linkType === LinkType.LOOP
          ? ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0
          : (buf[off] | (buf[off + 1] << 8) | (buf[off + 2] << 16) | (buf[off + 3] << 24)) >>> 0;
      if (family > 0xffff) family = ((family >>> 24) | ((family >>> 8) & 0xff00)) >>> 0;
      pkt.netOff = off + 4;
      if (family === 2) pkt.netType = EtherType.IPV4;
      else if (family === 10 || family === 24 || family === 28 || family === 30) pkt.netType = EtherType.IPV6;
      else return SkipReason.NON_IP;
      return SkipReason.NONE;
    }
    default:
      return SkipReason.UNSUPPORTED_LINK_TYPE;
  }
}

function byVersionNibble(buf: Uint8Array, off: number, end: number, pkt: DecodedPacket): number {
  if (end - off < 1) return SkipReason.EMPTY_PACKET;
  const version = buf[off] >> 4;
  pkt.netOff = off;
  if (version === 4) pkt.netType = EtherType.IPV4;
  else if (version === 6) pkt.netType = EtherType.IPV6;
  else return SkipReason.BAD_VERSION;
  return SkipReason.NONE;
}

function decodeEtherType(buf: Uint8Array, off: number, end: number, type: number, pkt: DecodedPacket): number {
  // One loop over every shim, so hostile nesting costs neither stack nor more than a few reads.
  for (let tags = 0, snaps = 0; ; ) {
    if (isVlanTag(type)) {
      if (tags === MAX_VLAN_TAGS || end - off < 4) return SkipReason.TRUNCATED_LINK;
      if (tags === 0) pkt.vlan = ((buf[off] << 8) | buf[off + 1]) & 0x0fff;
      type = (buf[off + 2] << 8) | buf[off + 3];
      off += 4;
      tags++;
      continue;
    }
    if (type > 1500) break;
    // 802.3 length field: only LLC/SNAP carries an ethertype we can follow.
    if (snaps === MAX_SNAP_HEADERS || end - off < 8) return SkipReason.NON_IP;
    if (buf[off] !== 0xaa || buf[off + 1] !== 0xaa || buf[off + 2] !== 0x03) return SkipReason.NON_IP;
    type = (buf[off + 6] << 8) | buf[off + 7];
    off += 8;
    snaps++;
  }
  switch (type) {
    case EtherType.IPV4:
    case EtherType.IPV6:
      pkt.netType = type;
      pkt.netOff = off;
      return SkipReason.NONE;
    case EtherType.ARP:
      return SkipReason.ARP;
    case EtherType.MPLS:
    case EtherType.MPLS_MULTICAST:
      return decodeMpls(buf, off, end, pkt);
    case EtherType.PPPOE_SESSION: {
      if (end - off < 8) return SkipReason.TRUNCATED_LINK;
      const pppProto = (buf[off + 6] << 8) | buf[off + 7];
      pkt.netOff = off + 8;
      if (pppProto === 0x0021) pkt.netType = EtherType.IPV4;
      else if (pppProto === 0x0057) pkt.netType = EtherType.IPV6;
      else return SkipReason.NON_IP;
      return SkipReason.NONE;
    }
    default:
      return SkipReason.NON_IP;
  }
}

function isVlanTag(type: number): boolean {
  return type === EtherType.VLAN || type === EtherType.QINQ || type === EtherType.QINQ_OLD_9100 || type === EtherType.QINQ_OLD_9200;
}

function decodeMpls(buf: Uint8Array, off: number, end: number, pkt: DecodedPacket): number {
  for (let labels = 0; ; labels++) {
    if (labels === MAX_MPLS_LABELS || end - off < 4) return SkipReason.TRUNCATED_LINK;
    const bottomOfStack = buf[off + 2] & 1;
    off += 4;
    if (bottomOfStack) break;
  }
  // MPLS does not say what it carries; an IP version nibble is the usual guess (as tcpdump
  // does), and anything else is some other payload (a pseudowire), not a broken IP packet.
  if (end - off < 1) return SkipReason.TRUNCATED_LINK;
  const reason = byVersionNibble(buf, off, end, pkt);
  return reason === SkipReason.BAD_VERSION ? SkipReason.NON_IP : reason;
}
