import { printableAscii } from './printable.js';

/**
 * TLS ClientHello hint: server_name (RFC 6066 3) and ALPN (RFC 7301) from the first record
 * of a TLS connection (RFC 8446 4.1.2, RFC 5246 7.4.1.2).
 *
 * Runs on the first data packets of every TCP flow, so the first byte rejects almost every
 * non-TLS payload. A ClientHello may be longer than the packet (large key shares push it over
 * one segment): the parser walks what is present and returns what it found. A length field
 * that contradicts the one enclosing it means garbage and gives null. Offsets are collected
 * first and strings built only on success, so rejection allocates nothing.
 */
export interface TlsHint {
  /**
   * First host_name of the server_name extension, as sent, at most 255 characters; bytes
   * outside printable ASCII become \DDD (decimal) and "\" becomes "\\".
   */
  sni?: string;
  /** ALPN protocol names in the client's order (at most 16), escaped like `sni`. */
  alpn?: string[];
}

const CONTENT_TYPE_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
const RECORD_HEADER_LEN = 5;
/** Record header, handshake header and legacy_version: the least that identifies a hello. */
const MIN_HELLO_BYTES = RECORD_HEADER_LEN + 4 + 2;
/** RFC 8446 5.1: plaintext records carry at most 2^14 bytes; allow the ciphertext slack. */
const MAX_RECORD_LEN = (1 << 14) + 2048;
/** version + random + session id, cipher suite and compression lengths, one of each. */
const MIN_HELLO_BODY_LEN = 2 + 32 + 1 + 2 + 2 + 1 + 1;
const RANDOM_LEN = 32;
const MAX_SESSION_ID_LEN = 32;
const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;
const NAME_TYPE_HOST_NAME = 0;
const MAX_ALPN_PROTOCOLS = 16;



/**
 * Offsets found by the walk; module-level so that rejecting allocates nothing. Reset at the
 * start of every call (the parser is synchronous, so calls never interleave).
 */
let sniStart = -1;
let sniEnd = -1;
let alpnStart = -1;
let alpnEnd = -1;

/**
 * Recognises a TLS handshake record at `off` holding a ClientHello and extracts SNI and ALPN
 * from the bytes present. Returns null for anything else, or when a length is inconsistent.
 */
export function parseTlsClientHello(buf: Uint8Array, off: number, end: number): TlsHint | null {
  if (!(end <= buf.length)) end = buf.length;
  if (!(off >= 0) || end - off < MIN_HELLO_BYTES) return null;
  if (buf[off] !== CONTENT_TYPE_HANDSHAKE) return null;
  if (buf[off + 1] !== 3 || buf[off + 2] > 4) return null;
  const recordLen = (buf[off + 3] << 8) | buf[off + 4];
  if (recordLen < MIN_HELLO_BYTES - RECORD_HEADER_LEN || recordLen > MAX_RECORD_LEN) return null;
  const hs = off + RECORD_HEADER_LEN;
  if (buf[hs] !== HANDSHAKE_CLIENT_HELLO) return null;
  const helloLen = (buf[hs + 1] << 16) | (buf[hs + 2] << 8) | buf[hs + 3];
  if (helloLen < MIN_HELLO_BODY_LEN) return null;
  if (buf[hs + 4] !== 3 || buf[hs + 5] > 4) return null;

  // Lengths must fit in the hello (else garbage); data may stop early at `avail` (else partial).
  // A hello longer than its record continues in the next record: only the first is read.
  const helloEnd = hs + 4 + helloLen;
  const recordEnd = hs + recordLen;
  const avail = Math.min(end, recordEnd, helloEnd);
  sniStart = sniEnd = alpnStart = alpnEnd = -1;

  let p = hs + 6 + RANDOM_LEN;
  if (p + 1 > avail) return buildHint(buf);
  const sessionIdLen = buf[p];
  if (sessionIdLen > MAX_SESSION_ID_LEN) return null;
  p += 1 + sessionIdLen;

  if (p + 2 > helloEnd) return null;
  if (p + 2 > avail) return buildHint(buf);
  const cipherSuitesLen = (buf[p] << 8) | buf[p + 1];
  if (cipherSuitesLen === 0 || (cipherSuitesLen & 1) !== 0) return null;
  p += 2 + cipherSuitesLen;

  if (p + 1 > helloEnd) return null;
  if (p + 1 > avail) return buildHint(buf);
  const compressionLen = buf[p];
  if (compressionLen === 0) return null;
  p += 1 + compressionLen;

  if (p === helloEnd) return buildHint(buf); // no extensions (SSL 3.0 style)
  if (p + 2 > helloEnd) return null;
  if (p + 2 > avail) return buildHint(buf);
  const extensionsEnd = p + 2 + ((buf[p] << 8) | buf[p + 1]);
  if (extensionsEnd > helloEnd) return null;
  p += 2;

  while (p < extensionsEnd) {
    if (p + 4 > extensionsEnd) return null;
    if (p + 4 > avail) break;
    const type = (buf[p] << 8) | buf[p + 1];
    const data = p + 4;
    const dataEnd = data + ((buf[p + 2] << 8) | buf[p + 3]);
    if (dataEnd > extensionsEnd) return null;
    if (dataEnd > avail) break; // cut by the end of the packet: keep what was found so far
    if (type === EXT_SERVER_NAME && sniStart < 0) {
      if (!findHostName(buf, data, dataEnd)) return null;
    } else if (type === EXT_ALPN && alpnStart < 0) {
      if (!checkAlpn(buf, data, dataEnd)) return null;
    }
    p = dataEnd;
  }
  return buildHint(buf);
}

/**
 * Validates a ServerNameList and records the first non-empty host_name in sniStart/sniEnd.
 * An empty extension (what servers echo) is accepted and yields nothing.
 */
function findHostName(buf: Uint8Array, p: number, end: number): boolean {
  if (p === end) return true;
  if (p + 2 > end) return false;
  const listEnd = p + 2 + ((buf[p] << 8) | buf[p + 1]);
  if (listEnd > end) return false;
  p += 2;
  while (p < listEnd) {
    if (p + 3 > listEnd) return false;
    const nameType = buf[p];
    const name = p + 3;
    const nameEnd = name + ((buf[p + 1] << 8) | buf[p + 2]);
    if (nameEnd > listEnd) return false;
    if (nameType === NAME_TYPE_HOST_NAME && sniStart < 0 && nameEnd > name) {
      sniStart = name;
      sniEnd = nameEnd;
    }
    p = nameEnd;
  }
  return true;
}

/**
 * Validates a ProtocolNameList (at least one name, no empty names) and records it in
 * alpnStart/alpnEnd.
 */
function checkAlpn(buf: Uint8Array, p: number, end: number): boolean {
  if (p + 2 > end) return false;
  const listLen = (buf[p] << 8) | buf[p + 1];
  const listEnd = p + 2 + listLen;
  if (listLen < 2 || listEnd > end) return false;
  p += 2;
  const start = p;
  while (p < listEnd) {
    const len = buf[p];
    if (len === 0 || p + 1 + len > listEnd) return false;
    p += 1 + len;
  }
  alpnStart = start;
  alpnEnd = listEnd;
  return true;
}

function buildHint(buf: Uint8Array): TlsHint {
  let alpn: string[] | undefined;
  if (alpnStart >= 0) {
    alpn = [];
    for (let p = alpnStart; p < alpnEnd && alpn.length < MAX_ALPN_PROTOCOLS; p += 1 + buf[p]) {
      alpn.push(printableAscii(buf, p + 1, p + 1 + buf[p]));
    }
  }
  return { sni: sniStart >= 0 ? printableAscii(buf, sniStart, sniEnd) : undefined, alpn };
}

