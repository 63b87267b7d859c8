/**
 * Streams an ip-location-db ASN CSV (`start_ip,end_ip,asn,organisation`, with addresses as
 * text or, in the `-num` files, as decimal integers) into range columns without building a
 * string per line: addresses and the ASN are read from the bytes, and the organisation is
 * only decoded the first time its ASN appears (AsnRecordInterner). Rows that do not parse
 * are counted and skipped; nothing in here throws on bad data.
 */
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { parseIpv6 } from './ip-parse.js';

export interface AsnRecord {
  readonly asn: number;
  /** Organisation name as the data source spells it; null when the row has none. */
  readonly org: string | null;
}

/** Where parsed rows go; the record is an index into AsnRecordInterner.records. */
export interface AsnRangeSink {
  addIpv4(start: number, end: number, record: number): void;
  addIpv6(start: Uint32Array, end: Uint32Array, record: number): void;
}

export interface AsnCsvStats {
  path: string;
  ipv4Rows: number;
  ipv6Rows: number;
  /** Lines that were not a valid row (a header line counts here too). */
  skippedRows: number;
}

const COMMA = 0x2c;
const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const COLON = 0x3a;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
/** A line longer than this is not a CSV row (a binary file, say): dropped, not buffered. */
const MAX_LINE_BYTES = 64 * 1024;

/** One shared record per (ASN, organisation), and one string per distinct organisation. */
export class AsnRecordInterner {
  readonly records: AsnRecord[] = [];
  private readonly firstByAsn = new Map<number, number>();
  private readonly byAsnAndOrg = new Map<string, number>();
  private readonly orgNames = new Map<string, string>();

  private lastIndex = -1;

  intern(asn: number, buf: Buffer, start: number, end: number): number {
    const index = this.lookUp(asn, buf, start, end);
    this.lastIndex = index;
    return index;
  }

  private lookUp(asn: number, buf: Buffer, start: number, end: number): number {
    // Neighbouring rows often belong to the same AS: check the previous record before any Map.
    const last = this.lastIndex >= 0 ? this.records[this.lastIndex] : undefined;
    if (last !== undefined && last.asn === asn && fieldEquals(buf, start, end, last.org)) return this.lastIndex;
    const known = this.firstByAsn.get(asn);
    // The common case: the ASN was seen before with the same name; compare bytes, decode nothing.
    if (known !== undefined && fieldEquals(buf, start, end, this.records[known].org)) return known;
    const org = this.canonicalOrg(decodeField(buf, start, end));
    if (known === undefined) return this.add(asn, org, true);
    if (this.records[known].org === org) return known;
    const key = `${asn}\t${org ?? ''}`;
    const other = this.byAsnAndOrg.get(key);
    if (other !== undefined) return other;
    const index = this.add(asn, org, false);
    this.byAsnAndOrg.set(key, index);
    return index;
  }

  get distinctOrgs(): number {
    return this.orgNames.size;
  }

  private add(asn: number, org: string | null, first: boolean): number {
    const index = this.records.length;
    this.records.push(Object.freeze({ asn, org }));
    if (first) this.firstByAsn.set(asn, index);
    return index;
  }

  private canonicalOrg(org: string | null): string | null {
    if (org === null) return null;
    const existing = this.orgNames.get(org);
    if (existing !== undefined) return existing;
    this.orgNames.set(org, org);
    return org;
  }
}

/** The CSV field in `buf[start, end)`, unquoted; null when empty. */
function decodeField(buf: Buffer, start: number, end: number): string | null {
  if (end - start >= 2 && buf[start] === QUOTE && buf[end - 1] === QUOTE) {
    const inner = buf.toString('utf8', start + 1, end - 1);
    return inner === '' ? null : inner.includes('""') ? inner.replaceAll('""', '"') : inner;
  }
  return end === start ? null : buf.toString('utf8', start, end);
}

/** Whether the field's bytes spell `text` (ASCII only; anything else answers false and gets decoded). */
function fieldEquals(buf: Buffer, start: number, end: number, text: string | null): boolean {
  if (end - start >= 2 && buf[start] === QUOTE && buf[end - 1] === QUOTE) {
    start++;
    end--;
  }
  if (text === null) return start === end;
  if (end - start !== text.length) return false;
  for (let i = 0; i < text.length; i++) {
    const b = buf[start + i];
    if (b >= 0x80 || b === QUOTE || b !== text.charCodeAt(i)) return false;
  }
  return true;
}

/** Unsigned decimal in `buf[start, end)`, or -1 (empty, not digits, or above 2^32 - 1). */
function parseDecimalU32(buf: Buffer, start: number, end: number): number {
  if (start === end || end - start > 10) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c < DIGIT_0 || c > DIGIT_9) return -1;
    value = value * 10 + (c - DIGIT_0);
  }
  return value <= 0xffffffff ? value : -1;
}

/** Dotted-quad IPv4 from bytes, or -1. Same rules as parseIpv4 (no leading zeros). */
function parseIpv4Bytes(buf: Buffer, start: number, end: number): number {
  let value = 0;
  let octets = 0;
  let i = start;
  while (octets < 4) {
    const first = i;
    let octet = 0;
    while (i < end && buf[i] >= DIGIT_0 && buf[i] <= DIGIT_9 && i - first < 3) octet = octet * 10 + (buf[i++] - DIGIT_0);
    const digits = i - first;
    if (digits === 0 || octet > 255 || (digits > 1 && buf[first] === DIGIT_0)) return -1;
    value = value * 256 + octet;
    octets++;
    if (octets < 4) {
      if (i >= end || buf[i] !== DOT) return -1;
      i++;
    }
  }
  return i === end ? value : -1;
}

type FieldKind = 'v4' | 'v6' | 'number' | 'bad';

function fieldKind(buf: Buffer, start: number, end: number): FieldKind {
  if (start === end) return 'bad';
  let digitsOnly = true;
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c === COLON) return 'v6';
    if (c === DOT) return 'v4';
    if (c < DIGIT_0 || c > DIGIT_9) digitsOnly = false;
  }
  return digitsOnly ? 'number' : 'v6'; // hex letters without a colon fail the IPv6 parse later
}

/** 128-bit decimal (the ipv6 `-num` files) into four words; false when it is not one. */
function parseDecimalU128(text: string, out: Uint32Array): boolean {
  if (text.length === 0 || text.length > 39) return false;
  let value: bigint;
  try {
    value = BigInt(text);
  } catch {
    return false;
  }
  if (value < 0n || value >> 128n !== 0n) return false;
  for (let w = 3; w >= 0; w--) {
    out[w] = Number(value & 0xffffffffn);
    value >>= 32n;
  }
  return true;
}

function compareWords(a: Uint32Array, b: Uint32Array): number {
  for (let w = 0; w < 4; w++) if (a[w] !== b[w]) return a[w] < b[w] ? -1 : 1;
  return 0;
}

/** Parses whole CSV lines out of byte chunks and feeds them to the sink. */
class AsnCsvLineParser {
  readonly stats: AsnCsvStats;
  private readonly start6 = new Uint32Array(4);
  private readonly end6 = new Uint32Array(4);

  constructor(
    path: string,
    private readonly numbersAreIpv6: boolean,
    private readonly interner: AsnRecordInterner,
    private readonly sink: AsnRangeSink,
  ) {
    this.stats = { path, ipv4Rows: 0, ipv6Rows: 0, skippedRows: 0 };
  }

  line(buf: Buffer, start: number, end: number): void {
    if (end > start && buf[end - 1] === CR) end--;
    if (end === start) return; // blank lines are not rows
    if (!this.row(buf, start, end)) this.stats.skippedRows++;
  }

  private row(buf: Buffer, start: number, end: number): boolean {
    const c1 = indexOfByte(buf, COMMA, start, end);
    const c2 = c1 < 0 ? -1 : indexOfByte(buf, COMMA, c1 + 1, end);
    const c3 = c2 < 0 ? -1 : indexOfByte(buf, COMMA, c2 + 1, end);
    if (c3 < 0) return false;
    const asn = parseDecimalU32(buf, c2 + 1, c3);
    if (asn <= 0) return false; // AS0 means "not routed": no owner worth reporting
    const kind = fieldKind(buf, start, c1);
    if (kind === 'bad' || kind !== fieldKind(buf, c1 + 1, c2)) return false;
    const ipv6 = kind === 'v6' || (kind === 'number' && this.numbersAreIpv6);
    if (!ipv6) {
      const parse = kind === 'v4' ? parseIpv4Bytes : parseDecimalU32;
      const first = parse(buf, start, c1);
      const last = parse(buf, c1 + 1, c2);
      if (first < 0 || last < first) return false;
      this.sink.addIpv4(first, last, this.interner.intern(asn, buf, c3 + 1, end));
      this.stats.ipv4Rows++;
      return true;
    }
    const parse6 = kind === 'v6' ? parseIpv6 : parseDecimalU128;
    if (!parse6(buf.toString('latin1', start, c1), this.start6)) return false;
    if (!parse6(buf.toString('latin1', c1 + 1, c2), this.end6)) return false;
    if (compareWords(this.start6, this.end6) > 0) return false;
    this.sink.addIpv6(this.start6, this.end6, this.interner.intern(asn, buf, c3 + 1, end));
    this.stats.ipv6Rows++;
    return true;
  }
}

function indexOfByte(buf: Buffer, byte: number, start: number, end: number): number {
  for (let i = start; i < end; i++) if (buf[i] === byte) return i;
  return -1;
}

/**
 * Reads one CSV file into the sink. Decimal addresses are IPv6 when the file name says so
 * (`asn-ipv6-num.csv`), IPv4 otherwise. Rejects only when the file cannot be read.
 */
export async function readAsnCsv(
  path: string,
  interner: AsnRecordInterner,
  sink: AsnRangeSink,
  opts: { chunkBytes?: number } = {},
): Promise<AsnCsvStats> {
  const parser = new AsnCsvLineParser(path, /v6/i.test(basename(path)), interner, sink);
  const stream = createReadStream(path, { highWaterMark: opts.chunkBytes ?? 1 << 20 });
  let carry: Buffer | null = null;
  let discarding = false; // inside an over-long line: drop bytes up to the next newline
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let buf: Buffer = carry === null ? chunk : Buffer.concat([carry, chunk]);
    carry = null;
    let lineStart = 0;
    if (discarding) {
      const nl = buf.indexOf(LF);
      if (nl < 0) continue;
      discarding = false;
      lineStart = nl + 1;
    }
    for (let nl = buf.indexOf(LF, lineStart); nl >= 0; nl = buf.indexOf(LF, lineStart)) {
      parser.line(buf, lineStart, nl);
      lineStart = nl + 1;
    }
    if (lineStart < buf.length) {
      buf = buf.subarray(lineStart);
      if (buf.length > MAX_LINE_BYTES) {
        parser.stats.skippedRows++;
        discarding = true;
      } else {
        carry = Buffer.from(buf); // a copy, so the whole chunk is not kept alive for its tail
      }
    }
  }
  if (carry !== null) parser.line(carry, 0, carry.length);
  return parser.stats;
}
