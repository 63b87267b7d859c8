/**
 * CIDR and address matching for the in-memory filter. The network is parsed once, when the
 * filter is compiled; each flow address is parsed by hand without allocating, since a live
 * stream evaluates every flow against every subscriber's filter.
 */
import { ipv4Mask, ipv6GroupMask, parseIpv4, parseIpv6Groups, type AddressValue } from '@nta/shared';

export type AddressMatcher = (address: string) => boolean;

/** Reused by every IPv6 matcher: evaluation is synchronous, so no two calls overlap. */
const scratch = new Uint16Array(8);

/** True when `address` (flow text, IPv4 or IPv6) is `value`, or lies inside it. */
export function compileAddressMatcher(value: AddressValue): AddressMatcher {
  return value.family === 4 ? compileIpv4(value) : compileIpv6(value);
}

function compileIpv4(value: AddressValue): AddressMatcher {
  const network = parseIpv4(value.address);
  if (network < 0) throw new Error(`not an IPv4 network: ${value.address}`);
  const mask = ipv4Mask(value.prefixLength);
  return (address) => {
    const ip = parseIpv4(address);
    return ip >= 0 && ((ip & mask) >>> 0) === network;
  };
}

function compileIpv6(value: AddressValue): AddressMatcher {
  const network = new Uint16Array(8);
  if (!parseIpv6Groups(value.address, network)) throw new Error(`not an IPv6 network: ${value.address}`);
  // Only the groups the prefix covers need comparing.
  const groupCount = Math.ceil(value.prefixLength / 16);
  const masks = Array.from({ length: groupCount }, (_, k) => ipv6GroupMask(value.prefixLength, k));
  return (address) => {
    // IPv4 text (no colon) is another family: PostgreSQL's <<= is false there too.
    if (address.indexOf(':') < 0 || !parseIpv6Groups(address, scratch)) return false;
    for (let k = 0; k < groupCount; k++) {
      if ((scratch[k] & masks[k]) !== network[k]) return false;
    }
    return true;
  };
}
