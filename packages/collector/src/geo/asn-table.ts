/**
 * IP → autonomous system, from the ip-location-db ASN CSVs (or any CSV in their format).
 * Ranges live in sorted, disjoint typed-array columns (IPv4: one Uint32 per bound; IPv6:
 * four Uint32 words per bound) and a lookup is one binary search. Each row points at a
 * shared frozen record, so lookups allocate nothing and organisation names exist once.
 */
import { looksLikeIpv6, parseIpv4 } from '@nta/shared';
import { embeddedIpv4 } from './address-scope.js';
import { AsnRecordInterner, readAsnCsv } from './asn-csv-reader.js';
import type { AsnCsvStats, AsnRangeSink, AsnRecord } from './asn-csv-reader.js';
import { parseIpv6 } from './ip-parse.js';
import { GeoDatabaseError, geoFileError } from './geo-errors.js';
import { flattenRanges } from './range-flatten.js';

export type { AsnRecord, AsnCsvStats } from './asn-csv-reader.js';

/** A Uint32Array that grows by doubling while rows stream in. */
class GrowableU32 {
  private data = new Uint32Array(1 << 16);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Uint32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }

  /** An exact-size copy, so the spare capacity is released. */
  finish(): Uint32Array {
    return this.data.slice(0, this.length);
  }
}

interface RangeColumns {
  /** `wordsPerBound` words per range start (IPv4 1, IPv6 4), most significant first. */
  starts: Uint32Array;
  ends: Uint32Array;
  records: Uint32Array;
  count: number;
}

class RangeColumnsBuilder {
  private readonly starts = new GrowableU32();
  private readonly ends = new GrowableU32();
  private readonly records = new GrowableU32();

  constructor(private readonly wordsPerBound: 1 | 4) {}

  add(start: ArrayLike<number>, end: ArrayLike<number>, record: number): void {
    for (let w = 0; w < this.wordsPerBound; w++) {
      this.starts.push(start[w]);
      this.ends.push(end[w]);
    }
    this.records.push(record);
  }

  finish(): RangeColumns {
    const columns = { starts: this.starts.finish(), ends: this.ends.finish(), records: this.records.finish(), count: this.records.length };
    return isSortedAndDisjoint(columns, this.wordsPerBound) ? columns : flattenColumns(columns, this.wordsPerBound);
  }
}

/** Compares bound `i` of `column` with the address in `words`. */
function compareAt(column: Uint32Array, i: number, wordsPerBound: number, words: ArrayLike<number>): number {
  const base = i * wordsPerBound;
  for (let w = 0; w < wordsPerBound; w++) {
    const a = column[base + w];
    const b = words[w];
    if (a !== b) return a < b ? -1 : 1;
  }
  return 0;
}

/** Compares bound `i` of column `a` with bound `j` of column `b`. */
function compareBounds(a: Uint32Array, i: number, b: Uint32Array, j: number, wordsPerBound: number): number {
  for (let w = 0; w < wordsPerBound; w++) {
    const x = a[i * wordsPerBound + w];
    const y = b[j * wordsPerBound + w];
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function isSortedAndDisjoint(c: RangeColumns, wordsPerBound: number): boolean {
  for (let i = 1; i < c.count; i++) if (compareBounds(c.starts, i, c.ends, i - 1, wordsPerBound) <= 0) return false;
  return true;
}

function isSortedByStart(c: RangeColumns, wordsPerBound: number): boolean {
  for (let i = 1; i < c.count; i++) if (compareBounds(c.starts, i, c.starts, i - 1, wordsPerBound) < 0) return false;
  return true;
}

function boundAsBigint(column: Uint32Array, i: number, wordsPerBound: number): bigint {
  let value = 0n;
  for (let w = 0; w < wordsPerBound; w++) value = (value << 32n) | BigInt(column[i * wordsPerBound + w]);
  return value;
}

function pushBigint(column: GrowableU32, value: bigint, wordsPerBound: number): void {
  for (let w = wordsPerBound - 1; w >= 0; w--) column.push(Number((value >> BigInt(32 * w)) & 0xffffffffn));
}

/**
 * Makes the columns disjoint (see range-flatten.ts for which range wins). Sorted input, the
 * usual case, only has its overlapping clusters converted to bigint and flattened; the rest
 * is copied as is. Unsorted input is flattened whole.
 */
function flattenColumns(c: RangeColumns, wordsPerBound: number): RangeColumns {
  const starts = new GrowableU32();
  const ends = new GrowableU32();
  const records = new GrowableU32();
  const copyRow = (i: number): void => {
    for (let w = 0; w < wordsPerBound; w++) {
      starts.push(c.starts[i * wordsPerBound + w]);
      ends.push(c.ends[i * wordsPerBound + w]);
    }
    records.push(c.records[i]);
  };
  const flattenRows = (from: number, to: number): void => {
    const rows = Array.from({ length: to - from }, (_, k) => from + k);
    const flat = flattenRanges({
      starts: rows.map((i) => boundAsBigint(c.starts, i, wordsPerBound)),
      ends: rows.map((i) => boundAsBigint(c.ends, i, wordsPerBound)),
      values: rows.map((i) => c.records[i]),
    });
    for (let k = 0; k < flat.values.length; k++) {
      pushBigint(starts, flat.starts[k], wordsPerBound);
      pushBigint(ends, flat.ends[k], wordsPerBound);
      records.push(flat.values[k]);
    }
  };
  if (!isSortedByStart(c, wordsPerBound)) {
    flattenRows(0, c.count);
  } else {
    for (let i = 0; i < c.count; ) {
      // A cluster: rows that each start at or before the furthest end seen so far in it.
      let furthest = i;
      let j = i + 1;
      for (; j < c.count && compareBounds(c.starts, j, c.ends, furthest, wordsPerBound) <= 0; j++) {
        if (compareBounds(c.ends, j, c.ends, furthest, wordsPerBound) > 0) furthest = j;
      }
      if (j === i + 1) copyRow(i);
      else flattenRows(i, j);
      i = j;
    }
  }
  return { starts: starts.finish(), ends: ends.finish(), records: records.finish(), count: records.length };
}

/** Index of the IPv4 range holding `addr`, or -1; the one-word case of findRange, without the word loop. */
function findRangeIpv4(c: RangeColumns, addr: number): number {
  const { starts, ends } = c;
  let lo = 0;
  let hi = c.count - 1;
  let candidate = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (starts[mid] <= addr) {
      candidate = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return candidate >= 0 && ends[candidate] >= addr ? candidate : -1;
}

/** Index of the range holding `words`, or -1. */
function findRange(c: RangeColumns, wordsPerBound: number, words: ArrayLike<number>): number {
  let lo = 0;
  let hi = c.count - 1;
  let candidate = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (compareAt(c.starts, mid, wordsPerBound, words) <= 0) {
      candidate = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return candidate >= 0 && compareAt(c.ends, candidate, wordsPerBound, words) >= 0 ? candidate : -1;
}

export interface AsnTableStats {
  ipv4Ranges: number;
  ipv6Ranges: number;
  records: number;
  distinctOrgs: number;
  files: AsnCsvStats[];
}

export class AsnTable {
  private readonly four = new Uint32Array(4);

  private constructor(
    private readonly v4: RangeColumns,
    private readonly v6: RangeColumns,
    private readonly records: readonly AsnRecord[],
    readonly stats: AsnTableStats,
  ) {}

  /**
   * Loads CSV files (IPv4 and IPv6 ones, in any number). Where files overlap, rows that
   * start later win. Rejects with GeoDatabaseError naming the file when one cannot be read
   * or holds no valid row; other bad rows are only counted.
   */
  static async load(paths: readonly string[], opts: { chunkBytes?: number } = {}): Promise<AsnTable> {
    const interner = new AsnRecordInterner();
    const v4 = new RangeColumnsBuilder(1);
    const v6 = new RangeColumnsBuilder(4);
    const one = [0];
    const two = [0];
    const sink: AsnRangeSink = {
      addIpv4(start, end, record) {
        one[0] = start;
        two[0] = end;
        v4.add(one, two, record);
      },
      addIpv6: (start, end, record) => v6.add(start, end, record),
    };
    const files: AsnCsvStats[] = [];
    for (const path of paths) {
      let stats: AsnCsvStats;
      try {
        stats = await readAsnCsv(path, interner, sink, opts);
      } catch (err) {
        throw geoFileError(path, err);
      }
      if (stats.ipv4Rows + stats.ipv6Rows === 0) {
        throw new GeoDatabaseError(path, 'corrupt', `no ASN rows (start_ip,end_ip,asn,organisation) among ${stats.skippedRows} lines`);
      }
      files.push(stats);
    }
    const v4Columns = v4.finish();
    const v6Columns = v6.finish();
    return new AsnTable(v4Columns, v6Columns, interner.records, {
      ipv4Ranges: v4Columns.count,
      ipv6Ranges: v6Columns.count,
      records: interner.records.length,
      distinctOrgs: interner.distinctOrgs,
      files,
    });
  }

  /** The AS announcing `ip` (text, IPv4 or IPv6; IPv4-mapped IPv6 counts as IPv4), or null. */
  lookup(ip: string): AsnRecord | null {
    if (!looksLikeIpv6(ip)) {
      const v4 = parseIpv4(ip);
      return v4 < 0 ? null : this.lookupIpv4(v4);
    }
    if (!parseIpv6(ip, this.four)) return null;
    const mapped = embeddedIpv4(this.four);
    return mapped >= 0 ? this.lookupIpv4(mapped) : this.lookupIpv6(this.four);
  }

  lookupIpv4(addr: number): AsnRecord | null {
    const i = findRangeIpv4(this.v4, addr);
    return i < 0 ? null : this.records[this.v4.records[i]];
  }

  /** `words`: the address as four 32-bit words, most significant first. */
  lookupIpv6(words: ArrayLike<number>): AsnRecord | null {
    const i = findRange(this.v6, 4, words);
    return i < 0 ? null : this.records[this.v6.records[i]];
  }
}
