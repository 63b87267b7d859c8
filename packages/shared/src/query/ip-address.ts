/**
 * Hand-written IPv4/IPv6 parsing. It validates filter values here and, in the collector,
 * reads flow addresses on the live path, so it works on char codes and allocates nothing.
 */
import type { AddressValue } from './ast.js';

const DOT = 0x2e;
const COLON = 0x3a;

/** The address as an unsigned 32-bit number, or -1 when text[start, end) is not dotted-quad IPv4. */
export function parseIpv4(text: string, start = 0, end = text.length): number {
  let result = 0;
  let octets = 0;
  let value = 0;
  let digits = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      // A leading zero would read as octal in some parsers; refuse the ambiguity.
      if (digits === 1 && value === 0) return -1;
      value = value * 10 + (c - 0x30);
      if (value > 255) return -1;
      digits++;
    } else if (c === DOT) {
      if (digits === 0 || octets === 3) return -1;
      result = result * 256 + value;
      octets++;
      value = 0;
      digits = 0;
    } else {
      return -1;
    }
  }
  if (digits === 0 || octets !== 3) return -1;
  return result * 256 + value;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * Reads IPv6 text (with `::` and an optional dotted IPv4 tail) into eight 16-bit groups.
 * Returns false, leaving `out` in an unspecified state, when the text is not IPv6 (zone ids
 * such as `%eth0` are refused).
 */
export function parseIpv6(text: string, out: Uint16Array): boolean {
  const n = text.length;
  if (n < 2 || n > 45) return false;
  let gap = -1; // group index where `::` stands
  let count = 0;
  let i = 0;
  if (text.charCodeAt(0) === COLON) {
    if (text.charCodeAt(1) !== COLON) return false;
    gap = 0;
    i = 2;
  }
  while (i < n) {
    if (count === 8) return false;
    let value = 0;
    let digits = 0;
    let j = i;
    for (; j < n; j++) {
      const h = hexValue(text.charCodeAt(j));
      if (h < 0) break;
      value = value * 16 + h;
      digits++;
    }
    if (j < n && text.charCodeAt(j) === DOT) {
      if (count > 6) return false;
      const v4 = parseIpv4(text, i, n);
      if (v4 < 0) return false;
      out[count++] = Math.floor(v4 / 65536);
      out[count++] = v4 % 65536;
      break;
    }
    if (digits === 0 || digits > 4) return false;
    out[count++] = value;
    if (j === n) break;
    if (text.charCodeAt(j) !== COLON) return false;
    j++;
    if (j < n && text.charCodeAt(j) === COLON) {
      if (gap >= 0) return false;
      gap = count;
      j++;
    } else if (j === n) {
      return false; // a single trailing colon
    }
    i = j;
  }
  if (gap < 0) return count === 8;
  if (count > 7) return false; // `::` stands for at least one group
  const tail = count - gap;
  for (let k = tail - 1; k >= 0; k--) out[8 - tail + k] = out[gap + k];
  for (let k = gap; k < 8 - tail; k++) out[k] = 0;
  return true;
}

export function formatIpv4(value: number): string {
  return `${Math.floor(value / 16777216) % 256}.${Math.floor(value / 65536) % 256}.${Math.floor(value / 256) % 256}.${value % 256}`;
}

/** RFC 5952 text: lower-case, leading zeros dropped, the longest run (>= 2) of zero groups as `::`. */
export function formatIpv6(groups: ArrayLike<number>): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let k = 0; k < 8; ) {
    if (groups[k] !== 0) {
      k++;
      continue;
    }
    let end = k;
    while (end < 8 && groups[end] === 0) end++;
    if (end - k > bestLength) {
      bestStart = k;
      bestLength = end - k;
    }
    k = end;
  }
  const hex = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, k) => groups[from + k].toString(16));
  if (bestStart < 0) return hex(0, 8).join(':');
  return `${hex(0, bestStart).join(':')}::${hex(bestStart + bestLength, 8).join(':')}`;
}

/** Mask of the first `prefixLength` bits within 16-bit group `index` (0-7). */
export function ipv6GroupMask(prefixLength: number, index: number): number {
  const bits = Math.min(16, Math.max(0, prefixLength - 16 * index));
  return bits === 0 ? 0 : (0xffff << (16 - bits)) & 0xffff;
}

export function ipv4Mask(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

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
  if (!parseIpv6(addressText, groups)) return invalid;
  if (prefixLength > 128) return invalid;
  const bits = prefixLength < 0 ? 128 : prefixLength;
  for (let k = 0; k < 8; k++) groups[k] &= ipv6GroupMask(bits, k);
  return { ok: true, value: { type: 'address', family: 6, address: formatIpv6(groups), prefixLength: bits, exact: slash < 0 } };
}
