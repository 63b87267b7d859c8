import type { DecodedPacket } from './packet.js';
import { SkipReason } from './skip-reasons.js';
import { decodeTransport } from './transport.js';

const MAX_IPV6_EXTENSION_HEADERS = 16;

function word(buf: Uint8Array, p: number): number {
  return ((buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]) >>> 0;
}

/** IPv4; non-first fragments keep their addresses and protocol but no ports (counted, not reassembled). */
export function decodeIpv4(buf: Uint8Array, off: number, end: number, pkt: DecodedPacket): number {
  if (end - off < 20) return SkipReason.TRUNCATED_IPV4;
  const versionIhl = buf[off];
  if (versionIhl >> 4 !== 4) return SkipReason.BAD_VERSION;
  const headerLen = (versionIhl & 15) << 2;
  if (headerLen < 20) return SkipReason.BAD_IPV4_HEADER;
  if (end - off < headerLen) return SkipReason.TRUNCATED_IPV4;
  let totalLen = (buf[off + 2] << 8) | buf[off + 3];
  // Zero total length: a TSO super-packet captured before the NIC filled it in.
  if (totalLen === 0) totalLen = end - off;
  else if (totalLen < headerLen) return SkipReason.BAD_IPV4_HEADER;
  pkt.family = 4;
  pkt.ipProto = buf[off + 9];
  pkt.src0 = word(buf, off + 12);
  pkt.dst0 = word(buf, off + 16);
  pkt.src1 = pkt.src2 = pkt.src3 = 0;
  pkt.dst1 = pkt.dst2 = pkt.dst3 = 0;
  const fragment = (buf[off + 6] << 8) | buf[off + 7];
  if ((fragment & 0x1fff) !== 0) return SkipReason.IP_FRAGMENT;
  pkt.firstFragment = (fragment & 0x2000) !== 0;
  const declaredEnd = off + totalLen;
  return decodeTransport(buf, off + headerLen, declaredEnd < end ? declaredEnd : end, declaredEnd, pkt);
}

export function decodeIpv6(buf: Uint8Array, off: number, end: number, pkt: DecodedPacket): number {
  if (end - off < 40) return SkipReason.TRUNCATED_IPV6;
  if (buf[off] >> 4 !== 6) return SkipReason.BAD_VERSION;
  const payloadLen = (buf[off + 4] << 8) | buf[off + 5];
  // Zero payload length: a jumbogram or TSO; take what was captured.
  const declaredEnd = payloadLen === 0 ? end : off + 40 + payloadLen;
  const capEnd = declaredEnd < end ? declaredEnd : end;
  pkt.family = 6;
  pkt.src0 = word(buf, off + 8);
  pkt.src1 = word(buf, off + 12);
  pkt.src2 = word(buf, off + 16);
  pkt.src3 = word(buf, off + 20);
  pkt.dst0 = word(buf, off + 24);
  pkt.dst1 = word(buf, off + 28);
  pkt.dst2 = word(buf, off + 32);
  pkt.dst3 = word(buf, off + 36);
  let next = buf[off + 6];
  let p = off + 40;
  for (let i = 0; i <= MAX_IPV6_EXTENSION_HEADERS; i++) {
    pkt.ipProto = next;
    switch (next) {
      case 0: // hop-by-hop
      case 43: // routing
      case 60: // destination options
      case 135: // mobility
      case 139: // HIP
      case 140: // shim6
        if (capEnd - p < 2) return SkipReason.TRUNCATED_IPV6;
        next = buf[p];
        p += (buf[p + 1] + 1) << 3;
        break;
      case 51: // AH: length in 4-byte units, minus 2
        if (capEnd - p < 2) return SkipReason.TRUNCATED_IPV6;
        next = buf[p];
        p += (buf[p + 1] + 2) << 2;
        break;
      case 44: {
        if (capEnd - p < 8) return SkipReason.TRUNCATED_IPV6;
        const offsetAndFlags = (buf[p + 2] << 8) | buf[p + 3];
        next = buf[p];
        p += 8;
        pkt.ipProto = next;
        if (offsetAndFlags >> 3 !== 0) return SkipReason.IP_FRAGMENT;
        pkt.firstFragment = (offsetAndFlags & 1) !== 0;
        break;
      }
      default:
        if (p > declaredEnd) return SkipReason.BAD_IPV6_HEADER;
        return decodeTransport(buf, p, capEnd, declaredEnd, pkt);
    }
    if (p > declaredEnd) return SkipReason.BAD_IPV6_HEADER;
  }
  return SkipReason.BAD_IPV6_HEADER;
}
