import { decodeIpv4, decodeIpv6 } from './ip.js';
import { decodeLink, EtherType } from './link.js';
import type { DecodedPacket } from './packet.js';
import { SkipReason } from './skip-reasons.js';

export { DecodedPacket } from './packet.js';
export { SkipReason, SKIP_REASON_COUNT, SKIP_REASON_NAMES, skipCountsToRecord } from './skip-reasons.js';
export { IpProto, looksLikeResponse } from './transport.js';
export { EtherType } from './link.js';

/**
 * Decodes one captured frame into `pkt` and returns SkipReason.NONE, or the reason the
 * packet cannot join a flow. Never throws on any input. When the reason is IP_FRAGMENT
 * (and for some truncated transports) `pkt.family` is still set, so the caller can count
 * the packet's bytes by protocol.
 */
export function decodePacket(linkType: number, buf: Uint8Array, off: number, capLen: number, pkt: DecodedPacket): number {
  pkt.family = 0;
  pkt.vlan = 0;
  pkt.tcpFlags = 0;
  pkt.sport = 0;
  pkt.dport = 0;
  pkt.firstFragment = false;
  pkt.payloadCapLen = 0;
  pkt.payloadLen = 0;
  if (capLen <= 0) return SkipReason.EMPTY_PACKET;
  const end = off + capLen;
  const linkResult = decodeLink(linkType, buf, off, end, pkt);
  if (linkResult !== SkipReason.NONE) return linkResult;
  return pkt.netType === EtherType.IPV4 ? decodeIpv4(buf, pkt.netOff, end, pkt) : decodeIpv6(buf, pkt.netOff, end, pkt);
}
