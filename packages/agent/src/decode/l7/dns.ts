import { Buffer } from 'node:buffer';

/**
 * DNS hint: the QR bit, the RCODE and the first question of a DNS message (RFC 1035 4.1).
 *
 * Runs on every UDP payload to or from port 53/5353 and on TCP port 53, so it is fed garbage
 * and hostile input: every read is bounds-checked against [off, end), every loop is bounded,
 * and only a successful parse allocates (the name is assembled in a module-level scratch
 * buffer first).
 */
export interface DnsHint {
  isResponse: boolean;
  /**
   * First question name in dig's presentation format: lower-case, dotted, no trailing dot,
   * "." for the root. Bytes outside printable ASCII become \DDD (decimal), and "." or "\"
   * inside a label become "\." and "\\", so the string is printable ASCII and unambiguous.
   */
  query?: string;
  /** QTYPE of the first question; absent when the message ends right after the name. */
  queryType?: number;
  /** Low 4 bits of the flags (the header RCODE, without EDNS extended bits). */
  rcode: number;
}

const HEADER_LEN = 12;
/** More questions than this is not a real message (servers accept exactly one). */
const MAX_QDCOUNT = 16;
/** Opcodes 0..6 are assigned (3 is unassigned but harmless); 7..15 mean garbage. */
const MAX_OPCODE = 6;
/** The header's Z bit, which RFC 1035 4.1.1 requires to be zero. */
const FLAG_Z = 0x0040;
/** RFC 1035 2.3.4: a name is at most 255 octets on the wire, root label included. */
const MAX_NAME_WIRE_LEN = 255;
/** A name has at most 127 labels, so a longer pointer chain is hostile. */
const MAX_POINTER_JUMPS = 16;

const CHAR_DOT = 0x2e;
const CHAR_BACKSLASH = 0x5c;
const CHAR_ZERO = 0x30;

/**
 * Presentation form of the name being read. Worst case: one 253-byte label of non-printable
 * bytes at 4 characters each (\DDD) is 1,012 characters.
 */
const nameOut = new Uint8Array(1024);
const nameOutText = Buffer.from(nameOut.buffer, nameOut.byteOffset, nameOut.byteLength);
/** Length of the name in `nameOut`, set by a successful `readName`. */
let nameOutLen = 0;

/**
 * Parses the DNS message at `off` (exclusive `end`). With `hasTcpLengthPrefix` the payload
 * starts with the 2-byte length of RFC 1035 4.2.2, and bytes beyond that length are ignored.
 * Returns null unless the header is plausible (opcode 0..6, Z bit clear, QDCOUNT 1..16) and
 * the first question parses: a complete name, then QTYPE other than 0 and a known QCLASS as
 * far as those are present (a message cut right after the name still gives the name).
 */
export function parseDns(buf: Uint8Array, off: number, end: number, hasTcpLengthPrefix: boolean): DnsHint | null {
  if (!(end <= buf.length)) end = buf.length;
  if (!(off >= 0)) return null;
  let msg = off;
  if (hasTcpLengthPrefix) {
    if (end - off < 2) return null;
    const msgLen = (buf[off] << 8) | buf[off + 1];
    if (msgLen < HEADER_LEN) return null;
    msg = off + 2;
    if (msg + msgLen < end) end = msg + msgLen;
  }
  if (end - msg < HEADER_LEN) return null;

  const flags = (buf[msg + 2] << 8) | buf[msg + 3];
  if (((flags >> 11) & 0xf) > MAX_OPCODE || (flags & FLAG_Z) !== 0) return null;
  const qdcount = (buf[msg + 4] << 8) | buf[msg + 5];
  if (qdcount === 0 || qdcount > MAX_QDCOUNT) return null;

  const afterName = readName(buf, msg, msg + HEADER_LEN, end);
  if (afterName < 0) return null;
  let queryType: number | undefined;
  if (afterName + 2 <= end) {
    queryType = (buf[afterName] << 8) | buf[afterName + 1];
    if (queryType === 0) return null; // reserved: zero bytes rather than a question
    if (afterName + 4 <= end && !isQueryClass(((buf[afterName + 2] << 8) | buf[afterName + 3]) & 0x7fff)) return null;
  }
  return {
    isResponse: (flags & 0x8000) !== 0,
    query: nameOutText.toString('latin1', 0, nameOutLen),
    queryType,
    rcode: flags & 0xf,
  };
}

/**
 * IN, CH, HS, NONE or ANY (RFC 6895 3.2), the mDNS unicast-response bit masked off by the
 * caller (RFC 6762 5.4). Anything else in a question means the bytes are not DNS.
 */
function isQueryClass(qclass: number): boolean {
  return qclass === 1 || qclass === 3 || qclass === 4 || qclass === 254 || qclass === 255;
}

/**
 * Reads the name at `pos` into `nameOut`, following compression pointers (RFC 1035 4.1.4).
 * Returns the offset just after the name where it sits in the message, or -1 when the name
 * is truncated, too long, uses a reserved label type or points anywhere but strictly
 * backwards. Each pointer must land before the previous one's target (the first before the
 * pointer itself) and after the header, so pointer chains always terminate; the jump cap
 * bounds them further.
 */
function readName(buf: Uint8Array, msg: number, pos: number, end: number): number {
  let out = 0;
  let wireLen = 1; // the terminating root label
  let resume = -1; // where the message continues after the first pointer
  let limit = pos; // updated before use: pointers must land strictly before this
  let jumps = 0;
  while (pos < end) {
    const len = buf[pos];
    if (len === 0) {
      if (out === 0) nameOut[out++] = CHAR_DOT; // the root
      nameOutLen = out;
      return resume < 0 ? pos + 1 : resume;
    }
    if ((len & 0xc0) === 0xc0) {
      if (pos + 2 > end || ++jumps > MAX_POINTER_JUMPS) return -1;
      const target = msg + (((len & 0x3f) << 8) | buf[pos + 1]);
      if (resume < 0) {
        resume = pos + 2;
        limit = pos;
      }
      if (target >= limit || target < msg + HEADER_LEN) return -1;
      limit = target;
      pos = target;
      continue;
    }
    if (len > 63) return -1; // 0x40 (extended) and 0x80 (reserved) label types
    wireLen += len + 1;
    if (wireLen > MAX_NAME_WIRE_LEN || pos + 1 + len > end) return -1;
    if (out !== 0) nameOut[out++] = CHAR_DOT;
    for (let i = pos + 1, stop = pos + 1 + len; i < stop; i++) out = writeLabelByte(buf[i], out);
    pos += len + 1;
  }
  return -1;
}

/** Appends one label byte to `nameOut` in presentation form; returns the new length. */
function writeLabelByte(c: number, out: number): number {
  if (c >= 0x41 && c <= 0x5a) {
    nameOut[out] = c | 0x20; // A-Z to lower case
    return out + 1;
  }
  if (c === CHAR_DOT || c === CHAR_BACKSLASH) {
    nameOut[out] = CHAR_BACKSLASH;
    nameOut[out + 1] = c;
    return out + 2;
  }
  if (c > 0x20 && c < 0x7f) {
    nameOut[out] = c;
    return out + 1;
  }
  nameOut[out] = CHAR_BACKSLASH;
  nameOut[out + 1] = CHAR_ZERO + ((c / 100) | 0);
  nameOut[out + 2] = CHAR_ZERO + (((c / 10) | 0) % 10);
  nameOut[out + 3] = CHAR_ZERO + (c % 10);
  return out + 4;
}
