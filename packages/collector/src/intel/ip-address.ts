/**
 * Blocklist ranges ("a.b.c.d", CIDR, "a-b", and the IPv6 forms) and the word/bigint
 * conversions the range set needs, on top of the shared address parser (@nta/shared), whose
 * strictness suits blocklists: no leading-zero octets, no zone ids (a zone is local to one
 * host, so no list can name it).
 */
import { parseIpv4, parseIpv6Words } from '@nta/shared';

export type IpRange =
  | { version: 4; start: number; end: number }
  | { version: 6; start: bigint; end: bigint };

const IPV6_ALL = (1n << 128n) - 1n;

/** parseIpv6Words with the buffer first, as the range code here reads. */
export function parseIpv6Into(out: Uint32Array, text: string, start = 0, end = text.length): boolean {
  return parseIpv6Words(text, out, start, end);
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

const scratch = new Uint32Array(4);

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
  if (!parseIpv6Words(text, scratch, start, end)) return undefined;
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
