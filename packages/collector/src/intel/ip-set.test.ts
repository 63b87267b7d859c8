import { describe, expect, it } from 'vitest';
import { formatIpv6Words } from '@nta/shared';
import { IpRangeSet } from './ip-set.js';
import type { TaggedRange } from './ip-set.js';

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface RefRange {
  tag: string;
  start: bigint;
  end: bigint;
}

/** The obvious matcher: every range checked, every time. */
function bruteForce(ranges: readonly RefRange[], address: bigint): string[] {
  return [...new Set(ranges.filter((r) => r.start <= address && address <= r.end).map((r) => r.tag))].sort();
}

const v4Text = (a: bigint): string => [24n, 16n, 8n, 0n].map((s) => String((a >> s) & 255n)).join('.');
const v6Words = (a: bigint): number[] => [96n, 64n, 32n, 0n].map((s) => Number((a >> s) & 0xffffffffn));
/** Written out in full (no "::"), so the text does not depend on the formatter under test. */
const v6FullText = (a: bigint): string =>
  Array.from({ length: 8 }, (_, k) => ((a >> BigInt(112 - 16 * k)) & 0xffffn).toString(16).padStart(4, '0')).join(':');

function randomRanges(random: () => number, count: number, bits: number, clusters: bigint[], maxHostBits: number): RefRange[] {
  const tags = ['firehol', 'spamhaus', 'custom'];
  const ranges: RefRange[] = [];
  for (let i = 0; i < count; i++) {
    const hostBits = BigInt(Math.floor(random() * maxHostBits));
    const cluster = clusters[Math.floor(random() * clusters.length)];
    const offset = BigInt(Math.floor(random() * 2 ** 20)) << hostBits;
    const max = (1n << BigInt(bits)) - 1n;
    const start = (((cluster + offset) & max) >> hostBits) << hostBits;
    const end = random() < 0.5 ? start + (1n << hostBits) - 1n : start + BigInt(Math.floor(random() * 5000));
    ranges.push({ tag: tags[Math.floor(random() * tags.length)], start, end: end > max ? max : end });
  }
  return ranges;
}

function probeAddresses(random: () => number, ranges: readonly RefRange[], bits: number): bigint[] {
  const max = (1n << BigInt(bits)) - 1n;
  const probes: bigint[] = [0n, max];
  for (const r of ranges) {
    probes.push(r.start, r.end);
    if (r.start > 0n) probes.push(r.start - 1n);
    if (r.end < max) probes.push(r.end + 1n);
    probes.push(r.start + ((r.end - r.start) * BigInt(Math.floor(random() * 1000))) / 1000n);
  }
  return probes;
}

describe('ip-set', () => {
  it('ip-set - IPv4 lookups equal a brute-force matcher on random overlapping ranges', () => {
    const random = mulberry32(1);
    const clusters = [0x0a000000n, 0x0a100000n, 0xc6336400n, 0xfffff000n];
    const ranges = randomRanges(random, 3_000, 32, clusters, 12);
    const set = IpRangeSet.build(ranges.map((r) => ({ tag: r.tag, range: `${v4Text(r.start)}-${v4Text(r.end)}` })));
    expect(set.size).toBe(ranges.length);
    let multi = 0;
    for (const a of probeAddresses(random, ranges, 32)) {
      const expected = bruteForce(ranges, a);
      if (expected.length > 1) multi++;
      expect([...set.match(v4Text(a))].sort(), v4Text(a)).toEqual(expected);
    }
    expect(multi).toBeGreaterThan(100);
  });

  it('ip-set - IPv6 lookups equal a brute-force matcher on random overlapping ranges', () => {
    const random = mulberry32(2);
    const clusters = [0n, 0x20010db8n << 96n, 0x2a0204f8n << 96n, ((1n << 128n) - 1n) ^ ((1n << 40n) - 1n)];
    const ranges = randomRanges(random, 1_500, 128, clusters, 40);
    const entries: TaggedRange[] = ranges.map((r) => ({ tag: r.tag, range: `${v6FullText(r.start)}-${formatIpv6Words(v6Words(r.end))}` }));
    const set = IpRangeSet.build(entries);
    expect(set.size).toBe(ranges.length);
    let hits = 0;
    for (const a of probeAddresses(random, ranges, 128)) {
      const expected = bruteForce(ranges, a);
      if (expected.length > 0) hits++;
      expect([...set.match(v6FullText(a))].sort(), v6FullText(a)).toEqual(expected);
    }
    expect(hits).toBeGreaterThan(1000);
  });

  it('ip-set - the very first and last addresses of both families match whole-space and edge ranges', () => {
    const set = IpRangeSet.build([
      { tag: 'all4', range: '0.0.0.0/0' },
      { tag: 'low4', range: '0.0.0.0' },
      { tag: 'high4', range: '255.255.255.255/32' },
      { tag: 'all6', range: '::/0' },
      { tag: 'low6', range: '::' },
      { tag: 'high6', range: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff' },
    ]);
    expect(set.match('0.0.0.0')).toEqual(['all4', 'low4']);
    expect(set.match('255.255.255.255')).toEqual(['all4', 'high4']);
    expect(set.match('128.0.0.1')).toEqual(['all4']);
    expect(set.match('::')).toEqual(['all6', 'low6']);
    expect(set.match('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toEqual(['all6', 'high6']);
    expect(set.match('8000::')).toEqual(['all6']);
  });

  it('ip-set - adjacent ranges of one feed merge, adjacent ranges of two feeds stay apart', () => {
    const set = IpRangeSet.build([
      { tag: 'a', range: '10.0.0.0/25' },
      { tag: 'a', range: '10.0.0.128/25' },
      { tag: 'b', range: '10.0.1.0/24' },
      { tag: 'b', range: '10.0.1.7' },
    ]);
    expect(set.segmentCount).toBe(2);
    expect(set.match('10.0.0.127')).toEqual(['a']);
    expect(set.match('10.0.0.128')).toEqual(['a']);
    expect(set.match('10.0.0.255')).toEqual(['a']);
    expect(set.match('10.0.1.0')).toEqual(['b']);
    expect(set.match('10.0.1.7')).toEqual(['b']);
    expect(set.match('10.0.2.0')).toEqual([]);
    expect(set.match('9.255.255.255')).toEqual([]);
  });

  it('ip-set - IPv4-mapped IPv6 addresses match IPv4 ranges; garbage and zone ids match nothing', () => {
    const set = IpRangeSet.build([
      { tag: 'v4feed', range: '198.51.100.0/24' },
      { tag: 'v6feed', range: '::ffff:0:0/96' },
      { tag: 'v6feed', range: '2001:db8::/32' },
    ]);
    expect([...set.match('::ffff:198.51.100.9')].sort()).toEqual(['v4feed', 'v6feed']);
    expect(set.match('198.51.100.9')).toEqual(['v4feed']);
    expect(set.match('2001:db8::1')).toEqual(['v6feed']);
    for (const junk of ['', 'garbage', '2001:db8::1%eth0', '198.51.100.09', '\u0000\uffff']) expect(set.match(junk)).toEqual([]);
  });

  it('ip-set - counts entries whose text is not a range and keeps the rest', () => {
    const set = IpRangeSet.build([
      { tag: 'x', range: '1.2.3.0/24' },
      { tag: 'x', range: 'nonsense' },
      { tag: 'x', range: '1.2.3.4/40' },
      { tag: 'x', range: '  5.6.7.8  ' },
    ]);
    expect(set.size).toBe(2);
    expect(set.invalidEntries).toBe(2);
    expect(set.match('5.6.7.8')).toEqual(['x']);
  });

  it('ip-set - builds 200k IPv4 entries and matches them like a brute-force check (lookup rate logged)', () => {
    const random = mulberry32(3);
    const entries: TaggedRange[] = [];
    const ref: RefRange[] = [];
    for (let i = 0; i < 200_000; i++) {
      const start = Math.floor(random() * 2 ** 32);
      const prefix = random() < 0.7 ? 32 : 20 + Math.floor(random() * 12);
      const hostSize = 2 ** (32 - prefix);
      const net = start - (start % hostSize);
      const tag = i % 10 === 0 ? 'level2' : 'level1';
      entries.push({ tag, range: { version: 4, start: net, end: net + hostSize - 1 } });
      ref.push({ tag, start: BigInt(net), end: BigInt(net + hostSize - 1) });
    }
    const buildStarted = performance.now();
    const set = IpRangeSet.build(entries);
    const buildMs = performance.now() - buildStarted;
    expect(set.size).toBe(200_000);

    const probes = probeAddresses(random, ref.slice(0, 100), 32);
    for (let k = 0; k < 200; k++) probes.push(BigInt(Math.floor(random() * 2 ** 32)));
    for (const a of probes) expect([...set.match(v4Text(a))].sort()).toEqual(bruteForce(ref, a));

    const lookups = Array.from({ length: 1_000_000 }, (_, k) => (k % 2 === 0 ? v4Text(ref[k % ref.length].start) : v4Text(BigInt(Math.floor(random() * 2 ** 32)))));
    const started = performance.now();
    let matched = 0;
    for (const ip of lookups) if (set.match(ip).length > 0) matched++;
    const lookupMs = performance.now() - started;
    expect(matched).toBeGreaterThanOrEqual(500_000);
    console.log(`ip-set: built 200k entries (${set.segmentCount} segments) in ${buildMs.toFixed(0)} ms; 1M IPv4 lookups in ${lookupMs.toFixed(0)} ms (${((1e6 / lookupMs) * 1000 / 1e6).toFixed(2)} M/s)`);
  });
});
