/**
 * Where an address lives (AddressScope), from the IANA IPv4 and IPv6 special-purpose
 * registries. Only `public` addresses are worth a GeoIP lookup; every other scope is
 * stored under its own label. Pure and allocation-free apart from `addressScope`.
 */
import { looksLikeIpv6, parseIpv4 } from '@nta/shared';
import type { AddressScope } from '../types.js';
import { parseIpv6 } from './ip-parse.js';

/** Scope of an IPv4 address held as an unsigned 32-bit number. */
export function ipv4Scope(addr: number): AddressScope {
  const a = addr >>> 24;
  switch (a) {
    case 0:
      return addr === 0 ? 'unspecified' : 'reserved'; // 0/8 "this network"
    case 10:
      return 'private';
    case 100:
      return addr >>> 22 === 0x191 ? 'cgnat' : 'public'; // 100.64/10
    case 127:
      return 'loopback';
    case 169:
      return addr >>> 16 === 0xa9fe ? 'link-local' : 'public'; // 169.254/16
    case 172:
      return addr >>> 20 === 0xac1 ? 'private' : 'public'; // 172.16/12
    case 192: {
      const slash24 = addr >>> 8;
      if (slash24 === 0xc00000) return 'reserved'; // 192.0.0/24 IETF protocol assignments
      if (slash24 === 0xc00002) return 'documentation'; // 192.0.2/24 TEST-NET-1
      if (slash24 === 0xc05863) return 'reserved'; // 192.88.99/24 deprecated 6to4 relay anycast
      return addr >>> 16 === 0xc0a8 ? 'private' : 'public'; // 192.168/16
    }
    case 198:
      if (addr >>> 17 === 0x6309) return 'reserved'; // 198.18/15 benchmarking
      return addr >>> 8 === 0xc63364 ? 'documentation' : 'public'; // 198.51.100/24 TEST-NET-2
    case 203:
      return addr >>> 8 === 0xcb0071 ? 'documentation' : 'public'; // 203.0.113/24 TEST-NET-3
    default:
      if (a >= 240) return 'reserved'; // 240/4 future use, incl. 255.255.255.255 broadcast
      if (a >= 224) return 'multicast'; // 224/4
      return 'public';
  }
}

/**
 * The IPv4 address an IPv6 address stands for, or -1: IPv4-mapped (::ffff:0:0/96) and the
 * NAT64 well-known prefix (64:ff9b::/96, RFC 6052) both name an IPv4 host, which is what
 * scope and location should describe.
 */
export function embeddedIpv4(words: ArrayLike<number>): number {
  if (words[1] !== 0) return -1;
  if (words[0] === 0 && words[2] === 0xffff) return words[3];
  if (words[0] === 0x0064ff9b && words[2] === 0) return words[3];
  return -1;
}

/** Scope of an IPv6 address given as four 32-bit words, most significant first. */
export function ipv6Scope(words: ArrayLike<number>): AddressScope {
  const w0 = words[0];
  if (w0 === 0 && words[1] === 0 && words[2] === 0) {
    if (words[3] === 0) return 'unspecified';
    if (words[3] === 1) return 'loopback';
  }
  const v4 = embeddedIpv4(words);
  if (v4 >= 0) return ipv4Scope(v4);
  if (w0 >>> 24 === 0xff) return 'multicast'; // ff00::/8
  if (w0 >>> 22 === 0x3fa) return 'link-local'; // fe80::/10
  if (w0 >>> 25 === 0x7e) return 'private'; // fc00::/7 unique local
  if (w0 === 0x20010db8) return 'documentation'; // 2001:db8::/32
  if (w0 >>> 12 === 0x3fff0) return 'documentation'; // 3fff::/20 (RFC 9637)
  if (w0 === 0x20010002 && words[1] >>> 16 === 0) return 'reserved'; // 2001:2::/48 benchmarking
  if (w0 >>> 4 === 0x2001001) return 'reserved'; // 2001:10::/28 deprecated ORCHID
  // Only 2000::/3 is allocated as global unicast; the rest (::/8 leftovers, 100::/64 discard,
  // 5f00::/16 SRv6, deprecated site-local fec0::/10, unassigned space) is reserved.
  return w0 >>> 29 === 1 ? 'public' : 'reserved';
}

const scratchWords = new Uint32Array(4);

/** Scope of an address in text form; null when the text is not an IPv4 or IPv6 address. */
export function addressScope(ip: string): AddressScope | null {
  if (looksLikeIpv6(ip)) return parseIpv6(ip, scratchWords) ? ipv6Scope(scratchWords) : null;
  const v4 = parseIpv4(ip);
  return v4 < 0 ? null : ipv4Scope(v4);
}
