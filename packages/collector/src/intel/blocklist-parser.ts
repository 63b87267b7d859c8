/**
 * Parses the plain-text blocklist formats threat feeds are published in:
 *
 * - FireHOL .netset/.ipset and plain lists: one address, CIDR or `a-b` range per line, `#` comments
 *   (whole-line or trailing);
 * - Spamhaus DROP/EDROP text: `1.10.16.0/20 ; SBL256894`, header lines starting with `;`;
 * - Spamhaus drop_v4.json / drop_v6.json: one JSON object per line with a `cidr` field, and a
 *   final `{"type":"metadata",...}` line that is skipped.
 *
 * CRLF, a UTF-8 BOM and blank lines are accepted. A line is either one entry or invalid: text
 * after the range that is not a comment makes the line invalid rather than silently ignored.
 *
 * Policy for huge networks: a range covering more addresses than a /8 (IPv4) or a /16 (IPv6),
 * including /0, is counted invalid ("broader than /8"). No real feed lists such networks; one
 * appearing means a broken or hostile feed, and accepting it would flag most of the internet.
 * Both limits are options.
 */
import { parseRange, rangeSize } from './ip-address.js';
import type { IpRange } from './ip-address.js';

export interface BlocklistParseOptions {
  /** Shortest IPv4 prefix accepted; broader networks and ranges are invalid. Default 8. */
  minPrefixV4?: number;
  /** Shortest IPv6 prefix accepted. Default 16. */
  minPrefixV6?: number;
  /** Longer lines are invalid without being parsed (a 10 MB line is garbage, not an entry). Default 4096. */
  maxLineLength?: number;
  /** How many invalid lines are kept in `firstErrors`. Default 10. */
  maxReportedErrors?: number;
}

export interface BlocklistLineError {
  /** 1-based line number. */
  line: number;
  /** The line, cut to 120 characters. */
  text: string;
  reason: string;
}

export interface BlocklistParseResult {
  entries: IpRange[];
  invalidLines: number;
  firstErrors: BlocklistLineError[];
}

const SHOWN_CHARS = 120;

export function parseBlocklist(input: string | Uint8Array, options: BlocklistParseOptions = {}): BlocklistParseResult {
  const minPrefixV4 = options.minPrefixV4 ?? 8;
  const minPrefixV6 = options.minPrefixV6 ?? 16;
  const maxLineLength = options.maxLineLength ?? 4096;
  const maxReportedErrors = options.maxReportedErrors ?? 10;
  const maxSizeV4 = 1n << BigInt(32 - minPrefixV4);
  const maxSizeV6 = 1n << BigInt(128 - minPrefixV6);

  const text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: false }).decode(input);
  const result: BlocklistParseResult = { entries: [], invalidLines: 0, firstErrors: [] };
  const reject = (lineNo: number, line: string, reason: string): void => {
    result.invalidLines++;
    if (result.firstErrors.length < maxReportedErrors) result.firstErrors.push({ line: lineNo, text: line.slice(0, SHOWN_CHARS), reason });
  };

  let lineNo = 0;
  let from = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (from <= text.length) {
    let to = text.indexOf('\n', from);
    if (to < 0) to = text.length;
    lineNo++;
    const raw = text.slice(from, to);
    from = to + 1;
    if (raw.length > maxLineLength) {
      reject(lineNo, raw, `line longer than ${maxLineLength} characters`);
      continue;
    }
    const line = raw.trim();
    if (line === '' || line[0] === '#' || line[0] === ';') continue;

    const candidate = line[0] === '{' ? cidrOfJsonLine(line) : stripTrailingComment(line);
    if (candidate === null) continue;
    if (typeof candidate === 'object') {
      reject(lineNo, line, candidate.error);
      continue;
    }
    const range = parseRange(candidate);
    if (!range) {
      reject(lineNo, line, 'not an IP address, network or range');
      continue;
    }
    if (range.version === 4 ? rangeSize(range) > maxSizeV4 : rangeSize(range) > maxSizeV6) {
      reject(lineNo, line, `broader than /${range.version === 4 ? minPrefixV4 : minPrefixV6}`);
      continue;
    }
    result.entries.push(range);
  }
  return result;
}

function stripTrailingComment(line: string): string {
  let end = line.length;
  const hash = line.indexOf('#');
  if (hash >= 0) end = hash;
  const semicolon = line.indexOf(';');
  if (semicolon >= 0 && semicolon < end) end = semicolon;
  return line.slice(0, end).trim();
}

/** The `cidr` of a Spamhaus JSON line, null for the metadata line, or an error. */
function cidrOfJsonLine(line: string): string | null | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { error: 'invalid JSON' };
  }
  if (typeof value !== 'object' || value === null) return { error: 'JSON line is not an object' };
  const record = value as Record<string, unknown>;
  if (record.type === 'metadata') return null;
  if (typeof record.cidr !== 'string') return { error: 'JSON line without a "cidr" string' };
  return record.cidr.trim();
}
