/**
 * A tagged set of IPv4 and IPv6 ranges for blocklist matching.
 *
 * `build` flattens every (range, tag) pair into disjoint segments, each labelled with the set of
 * tags covering it, so a lookup is one binary search over sorted typed arrays and returns a
 * shared, frozen tag list: no allocation per lookup. Overlapping feeds are both reported because
 * the overlap becomes its own segment labelled with both names.
 */
import { parseIpv4 } from '@nta/shared';
import { bigintToWords, mappedIpv4, parseIpv6Into, parseRange } from './ip-address.js';
import type { IpRange } from './ip-address.js';

export interface TaggedRange {
  /** The feed (or any label) reported when an address falls in the range. */
  tag: string;
  /** A parsed range, or text: "1.2.3.4", "1.2.3.0/24", "1.2.3.4-1.2.3.9", and the IPv6 forms. */
  range: IpRange | string;
}

const NO_TAGS: readonly string[] = Object.freeze([]);
// Events are sorted as one number: position * 2^17 + tag * 2 + isClose, exact below 2^53.
const MAX_TAGS = 65_536;
const EVENT_SHIFT = 131_072;

/** Interns each distinct combination of tags once, so segments store a small id. */
class TagSetTable {
  private readonly ids = new Map<string, number>();
  readonly sets: (readonly string[])[] = [];

  constructor(private readonly tagNames: readonly string[]) {}

  idOf(activeTags: readonly number[]): number {
    const key = activeTags.join(',');
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.sets.length;
      this.ids.set(key, id);
      this.sets.push(Object.freeze(activeTags.map((t) => this.tagNames[t])));
    }
    return id;
  }
}

/**
 * Walks events sorted by position and reports each maximal stretch covered by the same non-empty
 * tag combination. Ranges of one tag are merged beforehand, so a tag is open at most once.
 */
function sweep<P extends number | bigint>(
  positions: readonly P[],
  codes: readonly number[],
  tagSets: TagSetTable,
  emit: (start: P, endExclusive: P, setId: number) => void,
): void {
  const active: number[] = [];
  for (let i = 0; i < positions.length; ) {
    const pos = positions[i];
    while (i < positions.length && positions[i] === pos) {
      const tag = codes[i] >> 1;
      if ((codes[i] & 1) === 0) active.splice(sortedInsertAt(active, tag), 0, tag);
      else active.splice(active.indexOf(tag), 1);
      i++;
    }
    if (active.length > 0 && i < positions.length) emit(pos, positions[i], tagSets.idOf(active));
  }
}

function sortedInsertAt(sorted: readonly number[], value: number): number {
  let k = 0;
  while (k < sorted.length && sorted[k] < value) k++;
  return k;
}

/** Sorts one tag's ranges and merges overlapping or adjacent ones. */
function mergeNumberRanges(ranges: [number, number][]): [number, number][] {
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1] + 1) {
      if (r[1] > last[1]) last[1] = r[1];
    } else {
      merged.push([r[0], r[1]]);
    }
  }
  return merged;
}

export class IpRangeSet {
  private constructor(
    private readonly v4Starts: Uint32Array,
    private readonly v4Ends: Uint32Array,
    private readonly v4SetIds: Uint32Array,
    /** Four big-endian words per bound. */
    private readonly v6Starts: Uint32Array,
    private readonly v6Ends: Uint32Array,
    private readonly v6SetIds: Uint32Array,
    private readonly tagSets: readonly (readonly string[])[],
    /** Entries accepted by `build`. */
    readonly size: number,
    /** Entries `build` skipped because their text was not an address, network or range. */
    readonly invalidEntries: number,
  ) {}

  static empty(): IpRangeSet {
    return IpRangeSet.build([]);
  }

  static build(entries: Iterable<TaggedRange>): IpRangeSet {
    const tagIndex = new Map<string, number>();
    const v4ByTag: [number, number][][] = [];
    const v6ByTag: [bigint, bigint][][] = [];
    let size = 0;
    let invalid = 0;
    for (const entry of entries) {
      const range = typeof entry.range === 'string' ? parseRange(entry.range.trim()) : entry.range;
      if (!range) {
        invalid++;
        continue;
      }
      let tag = tagIndex.get(entry.tag);
      if (tag === undefined) {
        tag = tagIndex.size;
        if (tag >= MAX_TAGS) throw new RangeError(`IpRangeSet supports at most ${MAX_TAGS} distinct tags`);
        tagIndex.set(entry.tag, tag);
        v4ByTag.push([]);
        v6ByTag.push([]);
      }
      if (range.version === 4) v4ByTag[tag].push([range.start, range.end]);
      else v6ByTag[tag].push([range.start, range.end]);
      size++;
    }
    const tagSets = new TagSetTable([...tagIndex.keys()]);
    const v4 = buildV4(v4ByTag, tagSets);
    const v6 = buildV6(v6ByTag, tagSets);
    return new IpRangeSet(v4.starts, v4.ends, v4.setIds, v6.starts, v6.ends, v6.setIds, tagSets.sets, size, invalid);
  }

  /** Disjoint stretches stored after merging (what a lookup searches). */
  get segmentCount(): number {
    return this.v4Starts.length + this.v6SetIds.length;
  }

  /**
   * Tags of every range containing `ip` (empty when none or when `ip` does not parse). An
   * IPv4-mapped IPv6 address (::ffff:a.b.c.d) also matches the IPv4 ranges. The returned array
   * is shared and frozen.
   */
  match(ip: string): readonly string[] {
    const v4 = parseIpv4(ip);
    if (v4 >= 0) return this.matchIpv4(v4);
    if (!parseIpv6Into(lookupWords, ip)) return NO_TAGS;
    const v6Tags = this.matchIpv6(lookupWords);
    const mapped = mappedIpv4(lookupWords);
    if (mapped < 0) return v6Tags;
    const v4Tags = this.matchIpv4(mapped);
    if (v6Tags.length === 0) return v4Tags;
    if (v4Tags.length === 0) return v6Tags;
    return Object.freeze([...new Set([...v4Tags, ...v6Tags])]);
  }

  /** `match` for an address already parsed to an unsigned 32-bit number. */
  matchIpv4(address: number): readonly string[] {
    const starts = this.v4Starts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid] <= address) lo = mid + 1;
      else hi = mid - 1;
    }
    if (hi < 0 || this.v4Ends[hi] < address) return NO_TAGS;
    return this.tagSets[this.v4SetIds[hi]];
  }

  /** `match` for an address already parsed to four big-endian 32-bit words. */
  matchIpv6(words: Uint32Array): readonly string[] {
    let lo = 0;
    let hi = this.v6SetIds.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (compareWords(this.v6Starts, mid * 4, words) <= 0) lo = mid + 1;
      else hi = mid - 1;
    }
    if (hi < 0 || compareWords(this.v6Ends, hi * 4, words) < 0) return NO_TAGS;
    return this.tagSets[this.v6SetIds[hi]];
  }
}

const lookupWords = new Uint32Array(4);

function compareWords(bounds: Uint32Array, offset: number, words: Uint32Array): number {
  for (let k = 0; k < 4; k++) {
    const d = bounds[offset + k] - words[k];
    if (d !== 0) return d;
  }
  return 0;
}

interface Segments {
  starts: Uint32Array;
  ends: Uint32Array;
  setIds: Uint32Array;
}

function buildV4(byTag: [number, number][][], tagSets: TagSetTable): Segments {
  let eventCount = 0;
  const mergedByTag = byTag.map(mergeNumberRanges);
  for (const merged of mergedByTag) eventCount += merged.length * 2;
  const keys = new Float64Array(eventCount);
  let e = 0;
  mergedByTag.forEach((merged, tag) => {
    for (const [start, end] of merged) {
      keys[e++] = start * EVENT_SHIFT + tag * 2;
      keys[e++] = (end + 1) * EVENT_SHIFT + tag * 2 + 1;
    }
  });
  keys.sort();
  const positions: number[] = new Array<number>(eventCount);
  const codes: number[] = new Array<number>(eventCount);
  for (let i = 0; i < eventCount; i++) {
    positions[i] = Math.floor(keys[i] / EVENT_SHIFT);
    codes[i] = keys[i] - positions[i] * EVENT_SHIFT;
  }
  const starts: number[] = [];
  const ends: number[] = [];
  const setIds: number[] = [];
  sweep(positions, codes, tagSets, (start, endExclusive, setId) => {
    starts.push(start);
    ends.push(endExclusive - 1);
    setIds.push(setId);
  });
  return { starts: Uint32Array.from(starts), ends: Uint32Array.from(ends), setIds: Uint32Array.from(setIds) };
}

function buildV6(byTag: [bigint, bigint][][], tagSets: TagSetTable): Segments {
  const events: { pos: bigint; code: number }[] = [];
  byTag.forEach((ranges, tag) => {
    for (const [start, end] of mergeBigintRanges(ranges)) {
      events.push({ pos: start, code: tag * 2 }, { pos: end + 1n, code: tag * 2 + 1 });
    }
  });
  events.sort((a, b) => (a.pos < b.pos ? -1 : a.pos > b.pos ? 1 : 0));
  const segments: { start: bigint; end: bigint; setId: number }[] = [];
  sweep(
    events.map((ev) => ev.pos),
    events.map((ev) => ev.code),
    tagSets,
    (start, endExclusive, setId) => segments.push({ start, end: endExclusive - 1n, setId }),
  );
  const starts = new Uint32Array(segments.length * 4);
  const ends = new Uint32Array(segments.length * 4);
  segments.forEach((s, i) => {
    bigintToWords(s.start, starts, i * 4);
    bigintToWords(s.end, ends, i * 4);
  });
  return { starts, ends, setIds: Uint32Array.from(segments.map((s) => s.setId)) };
}

function mergeBigintRanges(ranges: [bigint, bigint][]): [bigint, bigint][] {
  ranges.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const merged: [bigint, bigint][] = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1] + 1n) {
      if (r[1] > last[1]) last[1] = r[1];
    } else {
      merged.push([r[0], r[1]]);
    }
  }
  return merged;
}
