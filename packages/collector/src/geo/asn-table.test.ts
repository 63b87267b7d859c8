import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AsnTable } from './asn-table.js';
import { GeoDatabaseError } from './geo-errors.js';

const dir = mkdtempSync(join(tmpdir(), 'nta-asn-'));
let n = 0;
function csvFile(content: string | Buffer, name = `t${n++}.csv`): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const asnPackageDir = dirname(createRequire(import.meta.url).resolve('@ip-location-db/asn/package.json'));

const sample = [
  'start_ip,end_ip,asn,organisation',
  '1.0.0.0,1.0.0.255,13335,"Cloudflare, Inc."',
  '2.26.200.0,2.26.215.255,201907,"LLC ""SPUTNIK"""',
  '5.0.0.0,5.0.0.255,3352,Telefónica de España',
  '',
  'not,a,row',
  '9.0.0.10,9.0.0.1,64500,End before start',
  '9.1.0.0,9.1.0.255,abc,Bad ASN',
  '9.2.0.0,9.2.0.255,0,AS zero',
  '9.3.0.0,9.3.0.255,64501',
  '2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,64496,Doc Net',
  '2c0f:fff0::,2c0f:fff0:ffff:ffff:ffff:ffff:ffff:ffff,37125,Layer3 Limited',
  '100.0.0.0,100.255.255.255,64510,',
  '200.0.0.0,200.0.0.255,64511,Last Row No Newline',
].join('\r\n');

describe('asn-table (synthetic CSV)', () => {
  let table: AsnTable;
  beforeAll(async () => {
    table = await AsnTable.load([csvFile(sample)]);
  });

  it('asn-table - reads quoted, escaped and non-ASCII organisation names', () => {
    expect(table.lookup('1.0.0.1')).toEqual({ asn: 13335, org: 'Cloudflare, Inc.' });
    expect(table.lookup('2.26.210.7')).toEqual({ asn: 201907, org: 'LLC "SPUTNIK"' });
    expect(table.lookup('5.0.0.255')).toEqual({ asn: 3352, org: 'Telefónica de España' });
    expect(table.lookup('100.1.2.3')).toEqual({ asn: 64510, org: null });
    expect(table.lookup('200.0.0.0')).toEqual({ asn: 64511, org: 'Last Row No Newline' });
  });

  it('asn-table - finds range edges and nothing just outside them', () => {
    expect(table.lookup('1.0.0.0')?.asn).toBe(13335);
    expect(table.lookup('1.0.0.255')?.asn).toBe(13335);
    expect(table.lookup('0.255.255.255')).toBeNull();
    expect(table.lookup('1.0.1.0')).toBeNull();
    expect(table.lookup('255.255.255.255')).toBeNull();
    expect(table.lookup('0.0.0.0')).toBeNull();
  });

  it('asn-table - looks up IPv6, and IPv4-mapped IPv6 as IPv4', () => {
    expect(table.lookup('2001:db8::1')).toEqual({ asn: 64496, org: 'Doc Net' });
    expect(table.lookup('2001:db8:ffff:ffff:ffff:ffff:ffff:ffff')?.asn).toBe(64496);
    expect(table.lookup('2001:db9::')).toBeNull();
    expect(table.lookup('2c0f:fff0:1::1')?.asn).toBe(37125);
    expect(table.lookup('::ffff:1.0.0.7')?.asn).toBe(13335);
  });

  it('asn-table - counts the header and bad rows as skipped and keeps the good ones', () => {
    expect(table.stats.files[0]).toMatchObject({ ipv4Rows: 5, ipv6Rows: 2, skippedRows: 6 });
    expect(table.lookup('9.0.0.5')).toBeNull();
    expect(table.lookup('9.1.0.1')).toBeNull();
    expect(table.lookup('9.2.0.1')).toBeNull();
  });

  it('asn-table - answers null for strings that are not addresses', () => {
    for (const text of ['', 'garbage', '1.2.3', '::g', '1.0.0.1 ']) expect(table.lookup(text)).toBeNull();
  });

  it('asn-table - gives the same answers when lines are split across tiny read chunks', async () => {
    const chunked = await AsnTable.load([csvFile(sample)], { chunkBytes: 7 });
    expect(chunked.stats.files[0]).toMatchObject({ ipv4Rows: 5, ipv6Rows: 2, skippedRows: 6 });
    for (const ip of ['1.0.0.1', '2.26.210.7', '5.0.0.255', '100.1.2.3', '200.0.0.0', '2001:db8::1', '9.0.0.5']) {
      expect(chunked.lookup(ip), ip).toEqual(table.lookup(ip));
    }
  });
});

describe('asn-table (robustness)', () => {
  it('asn-table - nested and overlapping rows: the later-starting range wins, the outer one resumes', async () => {
    const path = csvFile(['10.0.0.0,10.0.255.255,1,Outer', '10.0.1.0,10.0.1.255,2,Inner', '10.0.200.0,10.1.0.255,3,Overlap'].join('\n'));
    const table = await AsnTable.load([path]);
    expect(table.lookup('10.0.0.255')?.asn).toBe(1);
    expect(table.lookup('10.0.1.0')?.asn).toBe(2);
    expect(table.lookup('10.0.2.0')?.asn).toBe(1);
    expect(table.lookup('10.0.199.255')?.asn).toBe(1);
    expect(table.lookup('10.0.200.0')?.asn).toBe(3);
    expect(table.lookup('10.1.0.255')?.asn).toBe(3);
    expect(table.lookup('10.1.1.0')).toBeNull();
  });

  it('asn-table - sorts unsorted input and merges several files', async () => {
    const a = csvFile(['30.0.0.0,30.0.0.255,30,C', '10.0.0.0,10.0.0.255,10,A'].join('\n'));
    const b = csvFile(['20.0.0.0,20.0.0.255,20,B', '2001:db8:2::,2001:db8:2::ffff,62,V6B', '2001:db8:1::,2001:db8:1::ffff,61,V6A'].join('\n'));
    const table = await AsnTable.load([a, b]);
    expect(['10.0.0.9', '20.0.0.9', '30.0.0.9', '2001:db8:1::9', '2001:db8:2::9'].map((ip) => table.lookup(ip)?.asn)).toEqual([10, 20, 30, 61, 62]);
  });

  it('asn-table - reads the -num files, telling IPv6 from IPv4 by the file name', async () => {
    const v4 = csvFile('16777216,16777471,13335,"Cloudflare, Inc."\n', 'x-ipv4-num.csv');
    const v6 = csvFile('42541956101370907050197289607612071936,42541956180599069564461627201156022271,15169,Google LLC\n', 'x-ipv6-num.csv');
    const table = await AsnTable.load([v4, v6]);
    expect(table.lookup('1.0.0.1')?.asn).toBe(13335);
    expect(table.lookup('2001:4860::1')?.asn).toBe(15169);
    expect(table.stats).toMatchObject({ ipv4Ranges: 1, ipv6Ranges: 1 });
  });

  it('asn-table - drops an over-long binary line and goes on with the next row', async () => {
    const junk = Buffer.alloc(200_000, 0xff);
    const path = csvFile(Buffer.concat([Buffer.from('1.0.0.0,1.0.0.255,1,A\n'), junk, Buffer.from('\n2.0.0.0,2.0.0.255,2,B\n')]));
    const table = await AsnTable.load([path], { chunkBytes: 16_384 });
    expect(table.lookup('1.0.0.1')?.asn).toBe(1);
    expect(table.lookup('2.0.0.1')?.asn).toBe(2);
    expect(table.stats.files[0].skippedRows).toBe(1);
  });

  it('asn-table - keeps one record per ASN and name, sharing it across rows', async () => {
    const path = csvFile(['1.0.0.0,1.0.0.255,7,Same', '2.0.0.0,2.0.0.255,7,Same', '3.0.0.0,3.0.0.255,7,Renamed', '4.0.0.0,4.0.0.255,8,Same'].join('\n'));
    const table = await AsnTable.load([path]);
    expect(table.lookup('1.0.0.1')).toBe(table.lookup('2.0.0.1'));
    expect(table.lookup('3.0.0.1')).toEqual({ asn: 7, org: 'Renamed' });
    expect(table.stats).toMatchObject({ records: 3, distinctOrgs: 2 });
  });

  it('asn-table - a missing file or one with no valid row is an error naming the path', async () => {
    const missing = join(dir, 'does-not-exist.csv');
    await expect(AsnTable.load([missing])).rejects.toThrow(GeoDatabaseError);
    await expect(AsnTable.load([missing])).rejects.toThrow(missing);
    const empty = csvFile('');
    await expect(AsnTable.load([empty])).rejects.toMatchObject({ path: empty, problem: 'corrupt' });
    const binary = csvFile(Buffer.from([0, 1, 2, 3, 10, 255, 254, 10]));
    await expect(AsnTable.load([binary])).rejects.toMatchObject({ path: binary, problem: 'corrupt' });
  });
});

describe('asn-table (bundled @ip-location-db/asn data)', () => {
  let table: AsnTable;
  beforeAll(async () => {
    table = await AsnTable.load([join(asnPackageDir, 'asn-ipv4.csv'), join(asnPackageDir, 'asn-ipv6.csv')]);
  });

  it('asn-table - knows Google and Cloudflare', () => {
    expect(table.lookup('8.8.8.8')).toEqual({ asn: 15169, org: 'Google LLC' });
    expect(table.lookup('1.1.1.1')).toEqual({ asn: 13335, org: 'Cloudflare, Inc.' });
    expect(table.lookup('2001:4860:4860::8888')).toEqual({ asn: 15169, org: 'Google LLC' });
    expect(table.lookup('2606:4700:4700::1111')?.asn).toBe(13335);
    expect(table.lookup('10.0.0.1')).toBeNull();
  });

  it('asn-table - agrees with the numeric twin files on sampled rows (start, end and middle)', () => {
    // The -num files state the same ranges as decimal integers: an independent reading of the data.
    const check = (file: string, toWords: (n: bigint) => number[]) => {
      const rows = readFileSync(join(asnPackageDir, file), 'utf8').split('\n').filter(Boolean);
      const parsed = rows.map((line) => {
        const [start, end, asn] = line.split(',');
        return { start: BigInt(start), end: BigInt(end), asn: Number(asn) };
      });
      let checked = 0;
      for (let i = 1; i < parsed.length - 1; i += 211) {
        const r = parsed[i];
        // Rows overlapping a neighbour are resolved by the loader; compare only clean ones.
        if (parsed[i - 1].end >= r.start || parsed[i + 1].start <= r.end) continue;
        for (const addr of [r.start, r.end, (r.start + r.end) / 2n]) {
          const words = toWords(addr);
          const found = words.length === 1 ? table.lookupIpv4(words[0]) : table.lookupIpv6(words);
          expect(found?.asn, `${file} row ${i} addr ${addr}`).toBe(r.asn);
        }
        checked++;
      }
      return checked;
    };
    const v4 = check('asn-ipv4-num.csv', (a) => [Number(a)]);
    const v6 = check('asn-ipv6-num.csv', (a) => [0, 1, 2, 3].map((w) => Number((a >> BigInt(96 - 32 * w)) & 0xffffffffn)));
    expect(v4).toBeGreaterThan(1000);
    expect(v6).toBeGreaterThan(300);
  });

  it('asn-table - loads every row and dedupes organisation names', () => {
    const lines = (file: string) => readFileSync(join(asnPackageDir, file), 'utf8').split('\n').filter(Boolean).length;
    const { files, records, distinctOrgs } = table.stats;
    expect(files.map((f) => f.ipv4Rows + f.ipv6Rows)).toEqual([lines('asn-ipv4.csv'), lines('asn-ipv6.csv')]);
    expect(files.every((f) => f.skippedRows === 0)).toBe(true);
    expect(distinctOrgs).toBeLessThanOrEqual(records);
    expect(records).toBeLessThan(files[0].ipv4Rows / 2);
  });
});
