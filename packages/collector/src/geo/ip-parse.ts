/**
 * How GeoIP reads IPv6 text: the shared strict parser (@nta/shared), except that a zone id
 * ("fe80::1%eth0") is ignored instead of refused. A zone only names the interface a
 * link-local address was seen on; scope, location and AS belong to the address itself.
 */
import { parseIpv6Words } from '@nta/shared';

/** A zone id as Node's net.isIPv6 accepts it: one or more of [0-9A-Za-z.:-]. */
function isZoneId(text: string, start: number): boolean {
  if (start === text.length) return false;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const letter = (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
    if (!letter && !(c >= 0x30 && c <= 0x3a) && c !== 0x2d && c !== 0x2e) return false; // 0-9 and ':', '-', '.'
  }
  return true;
}

/** IPv6 text, with an optional `%zone`, into four big-endian words `out[0..3]`; false when not IPv6. */
export function parseIpv6(text: string, out: Uint32Array): boolean {
  const zone = text.indexOf('%');
  if (zone < 0) return parseIpv6Words(text, out);
  return isZoneId(text, zone + 1) && parseIpv6Words(text, out, 0, zone);
}
