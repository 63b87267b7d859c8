/**
 * Hand-written IP address parsers for the enrichment hot path: no regex, no split, no
 * allocation per call. IPv4 becomes one unsigned 32-bit number, IPv6 four 32-bit words
 * (most significant first), which is what the scope rules and the ASN ranges compare.
 */

const DOT = 0x2e;
const COLON = 0x3a;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/** Value of a hex digit, or -1. */
function hexValue(c: number): number {
  if (c >= DIGIT_0 && c <= DIGIT_9) return c - DIGIT_0;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/**
 * Dotted-quad IPv4 in `text[start, end)` as an unsigned 32-bit number, or -1 when it is not
 * exactly four decimal octets. Leading zeros are refused ("010" is octal to inet_aton and
 * decimal to others, so such a string names no single address).
 */
export function parseIpv4(text: string, start = 0, end = text.length): number {
  let value = 0;
  let octets = 0;
  let i = start;
  while (i < end) {
    let octet = 0;
    let digits = 0;
    const first = i;
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c < DIGIT_0 || c > DIGIT_9) break;
      octet = octet * 10 + (c - DIGIT_0);
      digits++;
      i++;
    }
    if (digits === 0 || digits > 3 || octet > 255) return -1;
    if (digits > 1 && text.charCodeAt(first) === DIGIT_0) return -1;
    value = value * 256 + octet;
    octets++;
    if (i === end) break;
    if (octets === 4 || text.charCodeAt(i) !== DOT) return -1;
    i++;
    if (i === end) return -1;
  }
  return octets === 4 ? value : -1;
}

// Scratch for the eight 16-bit groups; parsing is synchronous, so one buffer serves all calls.
const groups = new Uint16Array(8);

/**
 * IPv6 text (RFC 4291 forms: `::` compression, embedded dotted IPv4 in the last 32 bits,
 * an optional `%zone` suffix, which is ignored) into `out[0..3]`. Returns false, leaving
 * `out` unspecified, when the text is not an IPv6 address.
 */
export function parseIpv6(text: string, out: Uint32Array): boolean {
  let end = text.length;
  const zone = text.indexOf('%');
  if (zone >= 0) {
    if (zone === end - 1) return false;
    end = zone;
  }
  if (end < 2) return false;
  let count = 0;
  let gapAt = -1;
  let i = 0;
  if (text.charCodeAt(0) === COLON) {
    if (text.charCodeAt(1) !== COLON) return false;
    gapAt = 0;
    i = 2;
  }
  while (i < end) {
    let value = 0;
    let digits = 0;
    let j = i;
    while (j < end && digits <= 4) {
      const h = hexValue(text.charCodeAt(j));
      if (h < 0) break;
      value = value * 16 + h;
      digits++;
      j++;
    }
    if (j < end && text.charCodeAt(j) === DOT) {
      // Embedded IPv4 (`::ffff:192.0.2.1`) fills the last two groups and ends the address.
      if (count > 6) return false;
      const v4 = parseIpv4(text, i, end);
      if (v4 < 0) return false;
      groups[count++] = v4 >>> 16;
      groups[count++] = v4 & 0xffff;
      break;
    }
    if (digits === 0 || digits > 4 || count === 8) return false;
    groups[count++] = value;
    if (j === end) break;
    if (text.charCodeAt(j) !== COLON) return false;
    j++;
    if (j < end && text.charCodeAt(j) === COLON) {
      if (gapAt >= 0) return false;
      gapAt = count;
      j++;
    } else if (j === end) {
      return false;
    }
    i = j;
  }
  if (gapAt < 0 ? count !== 8 : count > 7) return false;
  const zeros = 8 - count;
  for (let w = 0; w < 4; w++) {
    out[w] = ((groupAt(2 * w, gapAt, zeros) << 16) | groupAt(2 * w + 1, gapAt, zeros)) >>> 0;
  }
  return true;
}

/** Group `g` of the expanded address, given `zeros` groups elided at `gapAt`. */
function groupAt(g: number, gapAt: number, zeros: number): number {
  if (gapAt < 0 || g < gapAt) return groups[g];
  if (g < gapAt + zeros) return 0;
  return groups[g - zeros];
}

/** True when the text looks like IPv6 (has a colon) rather than IPv4; a cheap dispatch. */
export function looksLikeIpv6(text: string): boolean {
  return text.indexOf(':') >= 0;
}

export function formatIpv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

/** Full, uncompressed form; only for handing a canonical string to other parsers. */
export function formatIpv6Full(words: ArrayLike<number>): string {
  let s = '';
  for (let w = 0; w < 4; w++) {
    const word = words[w];
    if (w > 0) s += ':';
    s += `${(word >>> 16).toString(16)}:${(word & 0xffff).toString(16)}`;
  }
  return s;
}
