const CHAR_BACKSLASH = 0x5c;
const CHAR_ZERO = 0x30;
/** Longest text a hint holds (host names, SNI, ALPN names). */
export const MAX_HINT_CHARS = 255;

const scratch = new Uint8Array(MAX_HINT_CHARS);
const scratchText = Buffer.from(scratch.buffer, scratch.byteOffset, scratch.byteLength);

/**
 * Copies buf[p, end) as printable ASCII, as dig escapes: other bytes become \DDD and "\"
 * becomes "\\". Stops before the first character that would pass MAX_HINT_CHARS, so an
 * escape is never split. Allocates only the returned string.
 */
export function printableAscii(buf: Uint8Array, p: number, end: number): string {
  let out = 0;
  for (; p < end; p++) {
    const c = buf[p];
    if (c > 0x20 && c < 0x7f && c !== CHAR_BACKSLASH) {
      if (out + 1 > MAX_HINT_CHARS) break;
      scratch[out++] = c;
    } else if (c === CHAR_BACKSLASH) {
      if (out + 2 > MAX_HINT_CHARS) break;
      scratch[out++] = CHAR_BACKSLASH;
      scratch[out++] = CHAR_BACKSLASH;
    } else {
      if (out + 4 > MAX_HINT_CHARS) break;
      scratch[out++] = CHAR_BACKSLASH;
      scratch[out++] = CHAR_ZERO + ((c / 100) | 0);
      scratch[out++] = CHAR_ZERO + (((c / 10) | 0) % 10);
      scratch[out++] = CHAR_ZERO + (c % 10);
    }
  }
  return scratchText.toString('latin1', 0, out);
}
