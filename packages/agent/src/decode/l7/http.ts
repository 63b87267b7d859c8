import { printableAscii } from './printable.js';

/**
 * HTTP/1.x request hint: the method and the Host header (RFC 9112 3, RFC 9110 7.2).
 *
 * Runs on the first data packets of every TCP flow, so the first byte rejects almost every
 * non-HTTP payload before anything else is read. Every read is bounds-checked against
 * [off, end), and only a recognised request allocates (the hint object and the host string).
 */
export interface HttpHint {
  method: string;
  /**
   * Host header value as sent (port included), trimmed, at most 255 characters. Bytes outside
   * printable ASCII become \DDD (decimal) and "\" becomes "\\". Absent when the packet ends
   * before the header is complete or the request has none.
   */
  host?: string;
}

/** Methods of RFC 9110 and PATCH, plus the WebDAV ones (RFC 4918) seen on the wire. */
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE',
  'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK'] as const;

interface Method {
  name: string;
  /** The method name followed by a space. */
  token: Uint8Array;
}

/** Candidate methods by first byte: one table lookup rejects a non-HTTP payload. */
const METHODS_BY_FIRST_BYTE: (Method[] | undefined)[] = new Array<Method[] | undefined>(256).fill(undefined);
for (const name of METHODS) {
  const token = new Uint8Array(name.length + 1);
  for (let i = 0; i < name.length; i++) token[i] = name.charCodeAt(i);
  token[name.length] = 0x20;
  const first = token[0];
  (METHODS_BY_FIRST_BYTE[first] ??= []).push({ name, token });
}

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;


/**
 * Recognises an HTTP request line (`METHOD SP target ...`) at `off` and looks for the Host
 * header in the bytes present. Returns null when the payload does not start with a known
 * method followed by a space and a visible character.
 */
export function parseHttpRequest(buf: Uint8Array, off: number, end: number): HttpHint | null {
  if (!(end <= buf.length)) end = buf.length;
  if (!(off >= 0) || off >= end) return null;
  const candidates = METHODS_BY_FIRST_BYTE[buf[off]];
  if (candidates === undefined) return null;
  let method: Method | undefined;
  for (let i = 0; i < candidates.length; i++) {
    if (startsWith(buf, off, end, candidates[i].token)) {
      method = candidates[i];
      break;
    }
  }
  if (method === undefined) return null;
  const target = off + method.token.length;
  if (target < end && (buf[target] <= SP || buf[target] >= 0x7f)) return null;

  // Skip the request line, then walk the header lines until the blank line.
  let p = nextLine(buf, target, end);
  while (p < end) {
    const c = buf[p];
    if (c === CR || c === LF) break; // end of the header section
    if ((c | 0x20) === 0x68 && isHostName(buf, p + 1, end)) {
      return { method: method.name, host: readHostValue(buf, p + 5, end) };
    }
    p = nextLine(buf, p, end);
  }
  return { method: method.name, host: undefined };
}

function startsWith(buf: Uint8Array, off: number, end: number, token: Uint8Array): boolean {
  if (end - off < token.length) return false;
  for (let i = 0; i < token.length; i++) if (buf[off + i] !== token[i]) return false;
  return true;
}

/** Offset just after the next LF at or after `p`, or `end` when there is none. */
function nextLine(buf: Uint8Array, p: number, end: number): number {
  while (p < end && buf[p] !== LF) p++;
  return p + 1 < end ? p + 1 : end;
}

/** True when `ost:` (any case) starts at `p`: with the `h` before it, a Host header name. */
function isHostName(buf: Uint8Array, p: number, end: number): boolean {
  return p + 4 <= end && (buf[p] | 0x20) === 0x6f && (buf[p + 1] | 0x20) === 0x73 &&
    (buf[p + 2] | 0x20) === 0x74 && buf[p + 3] === COLON;
}

/**
 * Reads the header value starting at `p` up to its line end, trimmed of spaces and tabs.
 * Returns undefined when the line is not complete in the packet or the value is empty.
 */
function readHostValue(buf: Uint8Array, p: number, end: number): string | undefined {
  let lineEnd = p;
  while (lineEnd < end && buf[lineEnd] !== LF) lineEnd++;
  if (lineEnd >= end) return undefined; // cut mid-value: the value may be incomplete
  let stop = lineEnd;
  while (stop > p && (buf[stop - 1] === CR || buf[stop - 1] === SP || buf[stop - 1] === HTAB)) stop--;
  while (p < stop && (buf[p] === SP || buf[p] === HTAB)) p++;
  if (p === stop) return undefined;

  return printableAscii(buf, p, stop);
}
