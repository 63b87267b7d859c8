/**
 * The one IPv4/IPv6 text parser and formatter for NTA (collector enrichment, threat matching,
 * binary COPY, the query language, the console). Flow addresses are parsed on hot paths, so
 * the parsers read char codes, allocate nothing, and write into the caller's buffers.
 *
 * Strict on purpose, for every caller alike:
 * - IPv4 is exactly four decimal octets; leading zeros ("010.1.1.1") are refused because
 *   inet_aton reads them as octal and others as decimal, so the text names no single address.
 * - IPv6 follows RFC 4291: `::` stands for at least one zero group, and a dotted IPv4 tail
 *   (`::ffff:192.0.2.1`) may fill the last 32 bits. Zone ids ("fe80::1%eth0") are refused:
 *   a zone is local to one host. A caller that wants to ignore zones cuts them off first.
 * That is what Node's `net.isIP` accepts, minus zone ids, and what the wire schema lets in.
 *
 * Representations: IPv4 is an unsigned 32-bit number; IPv6 is four big-endian 32-bit words
 * (for range comparison), eight 16-bit groups (for per-group prefix masks), or 16 bytes.
 */

const DOT = 0x2e;
const COLON = 0x3a;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
/** The longest IPv6 text: six full groups and a dotted quad, `ffff:…:ffff:255.255.255.255`. */
const MAX_IPV6_CHARS = 45;

/** The address in `text[start, end)` as an unsigned 32-bit number, or -1 if it is not a dotted quad. */
export function parseIpv4(text: string, start = 0, end = text.length): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= DIGIT_0 && c <= DIGIT_9) {
      if (digits > 0 && octet === 0) return -1; // a leading zero
      octet = octet * 10 + (c - DIGIT_0);
      if (octet > 255) return -1;
      digits++;
    } else if (c === DOT) {
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

/**
 * Writes the dotted quad in `text[start, end)` as 4 network-order bytes at `out[offset]`.
 * Returns false, writing nothing, when the text is not a dotted quad.
 */
export function writeIpv4Bytes(text: string, out: Uint8Array, offset = 0, start = 0, end = text.length): boolean {
  const value = parseIpv4(text, start, end);
  if (value < 0) return false;
  out[offset] = value >>> 24;
  out[offset + 1] = (value >>> 16) & 255;
  out[offset + 2] = (value >>> 8) & 255;
  out[offset + 3] = value & 255;
  return true;
}

function hexValue(c: number): number {
  if (c >= DIGIT_0 && c <= DIGIT_9) return c - DIGIT_0;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x57;
  return -1;
}

// What scanIpv6 reads, already expanded to eight groups. Parsing is synchronous, so one
// buffer serves every call, and a failed parse never touches the caller's buffer.
const scanned = new Uint16Array(8);

/** Reads IPv6 text into `scanned`; false when `text[start, end)` is not an IPv6 address. */
function scanIpv6(text: string, start: number, end: number): boolean {
  if (end - start < 2 || end - start > MAX_IPV6_CHARS) return false;
  let count = 0;
  let gapAt = -1; // group index where `::` stands
  let i = start;
  if (text.charCodeAt(i) === COLON) {
    if (text.charCodeAt(i + 1) !== COLON) return false;
    gapAt = 0;
    i += 2;
  }
  while (i < end) {
    const groupStart = i;
    let value = 0;
    for (; i < end; i++) {
      const h = hexValue(text.charCodeAt(i));
      if (h < 0) break;
      value = value * 16 + h;
    }
    if (i < end && text.charCodeAt(i) === DOT) {
      // A dotted quad may only be the last 32 bits, so it ends the address.
      if (count > 6) return false;
      const v4 = parseIpv4(text, groupStart, end);
      if (v4 < 0) return false;
      scanned[count++] = v4 >>> 16;
      scanned[count++] = v4 & 0xffff;
      break;
    }
    const digits = i - groupStart;
    if (digits === 0 || digits > 4 || count === 8) return false;
    scanned[count++] = value;
    if (i === end) break;
    if (text.charCodeAt(i) !== COLON) return false;
    i++;
    if (i === end) return false; // a single trailing colon
    if (text.charCodeAt(i) === COLON) {
      if (gapAt >= 0) return false;
      gapAt = count;
      i++;
    }
  }
  if (gapAt < 0) return count === 8;
  if (count > 7) return false; // `::` stands for at least one group
  const tail = count - gapAt;
  for (let k = 1; k <= tail; k++) scanned[8 - k] = scanned[count - k];
  for (let k = gapAt; k < 8 - tail; k++) scanned[k] = 0;
  return true;
}

/**
 * Reads the IPv6 address in `text[start, end)` into four big-endian 32-bit words `out[0..3]`.
 * Returns false, leaving `out` untouched, when the text is not an IPv6 address.
 */
export function parseIpv6Words(text: string, out: Uint32Array, start = 0, end = text.length): boolean {
  if (!scanIpv6(text, start, end)) return false;
  out[0] = ((scanned[0] << 16) | scanned[1]) >>> 0;
  out[1] = ((scanned[2] << 16) | scanned[3]) >>> 0;
  out[2] = ((scanned[4] << 16) | scanned[5]) >>> 0;
  out[3] = ((scanned[6] << 16) | scanned[7]) >>> 0;
  return true;
}

/** As parseIpv6Words, into eight 16-bit groups `out[0..7]`. */
export function parseIpv6Groups(text: string, out: Uint16Array, start = 0, end = text.length): boolean {
  if (!scanIpv6(text, start, end)) return false;
  out.set(scanned);
  return true;
}

/** As parseIpv6Words, as 16 network-order bytes at `out[offset]`. */
export function writeIpv6Bytes(text: string, out: Uint8Array, offset = 0, start = 0, end = text.length): boolean {
  if (!scanIpv6(text, start, end)) return false;
  for (let k = 0; k < 8; k++) {
    out[offset + 2 * k] = scanned[k] >>> 8;
    out[offset + 2 * k + 1] = scanned[k] & 255;
  }
  return true;
}

/** True when the text can only be IPv6 (it has a colon): a cheap dispatch, not a validation. */
export function looksLikeIpv6(text: string): boolean {
  return text.indexOf(':') >= 0;
}

export function formatIpv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

function hexGroups(groups: ArrayLike<number>, from: number, to: number): string {
  let text = '';
  for (let k = from; k < to; k++) text += k === from ? groups[k].toString(16) : `:${groups[k].toString(16)}`;
  return text;
}

/**
 * RFC 5952 text of eight 16-bit groups: lower case, no leading zeros, the longest run of two
 * or more zero groups (the first, on a tie) as `::`. IPv4-mapped addresses stay in hex
 * (`::ffff:c000:201`), as the WHATWG URL serializer writes them.
 */
export function formatIpv6Groups(groups: ArrayLike<number>): string {
  let bestAt = -1;
  let bestLength = 1;
  for (let k = 0; k < 8; ) {
    if (groups[k] !== 0) {
      k++;
      continue;
    }
    let runEnd = k + 1;
    while (runEnd < 8 && groups[runEnd] === 0) runEnd++;
    if (runEnd - k > bestLength) {
      bestAt = k;
      bestLength = runEnd - k;
    }
    k = runEnd;
  }
  if (bestAt < 0) return hexGroups(groups, 0, 8);
  return `${hexGroups(groups, 0, bestAt)}::${hexGroups(groups, bestAt + bestLength, 8)}`;
}

const formatScratch = new Uint16Array(8);

/** RFC 5952 text (see formatIpv6Groups) of four big-endian 32-bit words. */
export function formatIpv6Words(words: ArrayLike<number>): string {
  for (let w = 0; w < 4; w++) {
    formatScratch[2 * w] = words[w] >>> 16;
    formatScratch[2 * w + 1] = words[w] & 0xffff;
  }
  return formatIpv6Groups(formatScratch);
}

/** All eight groups of four big-endian words, no `::`: for readers that are slow or loose with `::`. */
export function formatIpv6Full(words: ArrayLike<number>): string {
  let text = '';
  for (let w = 0; w < 4; w++) {
    if (w > 0) text += ':';
    text += `${(words[w] >>> 16).toString(16)}:${(words[w] & 0xffff).toString(16)}`;
  }
  return text;
}

/** One spelling per address (dotted quad, or RFC 5952), e.g. for cache keys; undefined when not an address. */
export function canonicalIp(text: string): string | undefined {
  // A dotted quad that parses is canonical already: leading zeros are refused.
  if (parseIpv4(text) >= 0) return text;
  return scanIpv6(text, 0, text.length) ? formatIpv6Groups(scanned) : undefined;
}

/** The IPv4 netmask of a prefix length (0-32) as an unsigned 32-bit number. */
export function ipv4Mask(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

/** Mask of the first `prefixLength` bits (0-128) within 16-bit group `index` (0-7). */
export function ipv6GroupMask(prefixLength: number, index: number): number {
  const bits = Math.min(16, Math.max(0, prefixLength - 16 * index));
  return bits === 0 ? 0 : (0xffff << (16 - bits)) & 0xffff;
}
