/**
 * Hand-written IPv4/IPv6 address and range parsing. Lookups parse every flow address, so the
 * dotted-quad path reads char codes without allocating, and IPv6 writes into a caller's buffer.
 *
 * Deliberate strictness: IPv4 octets with leading zeros ("010.1.1.1") are rejected because
 * some tools read them as octal; IPv6 zone ids ("fe80::1%eth0") are rejected because a zone
 * is local to one host and can never be on a blocklist.
 */

export type IpRange =
  | { version: 4; start: number; end: number }
  | { version: 6; start: bigint; end: bigint };

const IPV6_ALL = (1n << 128n) - 1n;

/** The address in `text[start, end)` as an unsigned 32-bit number, or -1 if it is not a dotted quad. */
export function parseIpv4(text: string, start = 0, end = text.length): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return -1;
      octet = octet * 10 + (c - 48);
      if (octet > 255) return -1;
      digits++;
    } else if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else {
      return -1;
    }
  }
  if (digits === 0 || dots !== 3) return -1;
  return value * 256 + octet;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

const groups = new Uint32Array(8);

/**
 * Parses the IPv6 address in `text[start, end)` into four big-endian 32-bit words in `out`.
 * Returns false (leaving `out` undefined) for anything RFC 4291 does not allow, and for zone ids.
 */
export function parseIpv6Into(out: Uint32Array, text: string, start = 0, end = text.length): boolean {
  if (end - start < 2) return false;
  let n = 0;
  let gapAt = -1;
  let i = start;
  if (text.charCodeAt(i) === 58) {
    if (text.charCodeAt(i + 1) !== 58) return false;
    gapAt = 0;
    i += 2;
  }
  while (i < end) {
    const groupStart = i;
    let value = 0;
    let digits = 0;
    while (i < end) {
      const h = hexValue(text.charCodeAt(i));
      if (h < 0) break;
      if (++digits > 4) return false;
      value = value * 16 + h;
      i++;
    }
    if (i < end && text.charCodeAt(i) === 46) {
      // An embedded IPv4 address is only allowed as the last 32 bits.
      if (n > 6) return false;
      const v4 = parseIpv4(text, groupStart, end);
      if (v4 < 0) return false;
      groups[n++] = v4 >>> 16;
      groups[n++] = v4 & 0xffff;
      break;
    }
    if (digits === 0 || n === 8) return false;
    groups[n++] = value;
    if (i === end) break;
    if (text.charCodeAt(i) !== 58) return false;
    i++;
    if (i < end && text.charCodeAt(i) === 58) {
      if (gapAt >= 0) return false;
      gapAt = n;
      i++;
    } else if (i === end) {
      return false;
    }
  }
  if (gapAt < 0) {
    if (n !== 8) return false;
  } else {
    // "::" stands for at least one zero group.
    if (n > 7) return false;
    const tail = n - gapAt;
    for (let k = 0; k < tail; k++) groups[7 - k] = groups[n - 1 - k];
    for (let k = gapAt; k < 8 - tail; k++) groups[k] = 0;
  }
  for (let w = 0; w < 4; w++) out[w] = ((groups[2 * w] << 16) | groups[2 * w + 1]) >>> 0;
  return true;
}

/** The embedded IPv4 address of an IPv4-mapped IPv6 address (::ffff:a.b.c.d), or -1. */
export function mappedIpv4(words: Uint32Array): number {
  return words[0] === 0 && words[1] === 0 && words[2] === 0xffff ? words[3] : -1;
}

export function wordsToBigint(words: ArrayLike<number>): bigint {
  return (BigInt(words[0]) << 96n) | (BigInt(words[1]) << 64n) | (BigInt(words[2]) << 32n) | BigInt(words[3]);
}

export function bigintToWords(value: bigint, out: Uint32Array, offset = 0): void {
  out[offset] = Number((value >> 96n) & 0xffffffffn);
  out[offset + 1] = Number((value >> 64n) & 0xffffffffn);
  out[offset + 2] = Number((value >> 32n) & 0xffffffffn);
  out[offset + 3] = Number(value & 0xffffffffn);
}

/** RFC 5952 text form: lower case, no leading zeros, the longest run of 2+ zero groups as "::". */
export function formatIpv6(words: ArrayLike<number>): string {
  const g: number[] = [];
  for (let w = 0; w < 4; w++) g.push(words[w] >>> 16, words[w] & 0xffff);
  let bestAt = -1;
  let bestLen = 1;
  for (let k = 0; k < 8; ) {
    if (g[k] !== 0) {
      k++;
      continue;
    }
    let e = k;
    while (e < 8 && g[e] === 0) e++;
    if (e - k > bestLen) {
      bestAt = k;
      bestLen = e - k;
    }
    k = e;
  }
  const hex = (from: number, to: number): string => g.slice(from, to).map((x) => x.toString(16)).join(':');
  if (bestAt < 0) return hex(0, 8);
  return `${hex(0, bestAt)}::${hex(bestAt + bestLen, 8)}`;
}

const scratch = new Uint32Array(4);

/** Canonical text of an address (dotted quad or RFC 5952), or undefined when it does not parse. */
export function canonicalIp(text: string): string | undefined {
  if (parseIpv4(text) >= 0) return text;
  return parseIpv6Into(scratch, text) ? formatIpv6(scratch) : undefined;
}

function parsePrefix(text: string, from: number, max: number): number {
  const len = text.length - from;
  if (len < 1 || len > 3) return -1;
  let value = 0;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    value = value * 10 + (c - 48);
  }
  return value <= max ? value : -1;
}

function parseSingle(text: string, start: number, end: number): IpRange | undefined {
  const v4 = parseIpv4(text, start, end);
  if (v4 >= 0) return { version: 4, start: v4, end: v4 };
  if (!parseIpv6Into(scratch, text, start, end)) return undefined;
  const v6 = wordsToBigint(scratch);
  return { version: 6, start: v6, end: v6 };
}

/**
 * Parses "a.b.c.d", "a.b.c.d/nn", "a-b" and the IPv6 equivalents (text must be trimmed).
 * A CIDR with host bits set ("10.1.2.3/8") means its whole network, as ipset reads it.
 */
export function parseRange(text: string): IpRange | undefined {
  const slash = text.indexOf('/');
  if (slash >= 0) {
    const base = parseSingle(text, 0, slash);
    if (!base) return undefined;
    if (base.version === 4) {
      const prefix = parsePrefix(text, slash + 1, 32);
      if (prefix < 0) return undefined;
      const hostSize = 2 ** (32 - prefix);
      const start = base.start - (base.start % hostSize);
      return { version: 4, start, end: start + hostSize - 1 };
    }
    const prefix = parsePrefix(text, slash + 1, 128);
    if (prefix < 0) return undefined;
    const hostMask = IPV6_ALL >> BigInt(prefix);
    const start = base.start & ~hostMask & IPV6_ALL;
    return { version: 6, start, end: start | hostMask };
  }
  const dash = text.indexOf('-');
  if (dash >= 0) {
    const from = parseSingle(text, 0, trimEnd(text, 0, dash));
    const to = parseSingle(text, trimStart(text, dash + 1, text.length), text.length);
    if (from?.version === 4 && to?.version === 4 && from.start <= to.start) return { version: 4, start: from.start, end: to.start };
    if (from?.version === 6 && to?.version === 6 && from.start <= to.start) return { version: 6, start: from.start, end: to.start };
    return undefined;
  }
  return parseSingle(text, 0, text.length);
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

function trimEnd(text: string, start: number, end: number): number {
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  return end;
}

function trimStart(text: string, start: number, end: number): number {
  while (start < end && isSpace(text.charCodeAt(start))) start++;
  return start;
}

/** How many addresses a range covers, as a bigint so IPv6 sizes stay exact. */
export function rangeSize(range: IpRange): bigint {
  return range.version === 4 ? BigInt(range.end - range.start + 1) : range.end - range.start + 1n;
}
