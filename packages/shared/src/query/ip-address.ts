/**
 * Address and CIDR values of the filter language (`ip:10.0.0.0/8`), read with the shared
 * address parser (../net/ip-text.ts) and normalised so equal networks compare equal.
 */
import { formatIpv4, formatIpv6Groups, ipv4Mask, ipv6GroupMask, parseIpv4, parseIpv6Groups } from '../net/ip-text.js';
import type { AddressValue } from './ast.js';

export type AddressParse = { ok: true; value: AddressValue } | { ok: false; message: string };

/** `10.0.0.1`, `10.0.0.0/8`, `2001:db8::/32`: validated, with host bits cleared. */
export function parseAddressOrCidr(text: string): AddressParse {
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const what = slash < 0 ? 'address' : 'CIDR';
  const invalid: AddressParse = { ok: false, message: `invalid ${what} "${text}"` };
  let prefixLength = -1;
  if (slash >= 0) {
    const lengthText = text.slice(slash + 1);
    if (!/^(0|[1-9]\d{0,2})$/.test(lengthText)) return invalid;
    prefixLength = Number(lengthText);
  }
  const v4 = parseIpv4(addressText);
  if (v4 >= 0) {
    if (prefixLength > 32) return invalid;
    const bits = prefixLength < 0 ? 32 : prefixLength;
    const network = (v4 & ipv4Mask(bits)) >>> 0;
    return { ok: true, value: { type: 'address', family: 4, address: formatIpv4(network), prefixLength: bits, exact: slash < 0 } };
  }
  const groups = new Uint16Array(8);
  if (!parseIpv6Groups(addressText, groups)) return invalid;
  if (prefixLength > 128) return invalid;
  const bits = prefixLength < 0 ? 128 : prefixLength;
  for (let k = 0; k < 8; k++) groups[k] &= ipv6GroupMask(bits, k);
  return { ok: true, value: { type: 'address', family: 6, address: formatIpv6Groups(groups), prefixLength: bits, exact: slash < 0 } };
}
