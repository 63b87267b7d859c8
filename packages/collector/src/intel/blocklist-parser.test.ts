import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseBlocklist } from './blocklist-parser.js';
import { parseRange } from './ip-address.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));

describe('blocklist-parser', () => {
  it('blocklist-parser - reads a FireHOL netset and rejects its networks broader than /8', () => {
    const result = parseBlocklist(fixture('firehol_level1.netset'));
    // 12 data lines; 224.0.0.0/3 (fullbogons) is broader than /8.
    expect(result.entries).toHaveLength(11);
    expect(result.entries).toContainEqual(parseRange('1.10.16.0/20'));
    expect(result.entries).toContainEqual(parseRange('185.220.101.4'));
    expect(result.invalidLines).toBe(1);
    expect(result.firstErrors).toEqual([{ line: 45, text: '224.0.0.0/3', reason: 'broader than /8' }]);
  });

  it('blocklist-parser - reads a FireHOL ipset of single addresses', () => {
    const result = parseBlocklist(fixture('blocklist_de.ipset'));
    expect(result.entries).toHaveLength(5);
    expect(result.entries[0]).toEqual(parseRange('1.12.60.103'));
    expect(result.invalidLines).toBe(0);
  });

  it('blocklist-parser - reads Spamhaus DROP text with CRLF, header comments and SBL references', () => {
    const result = parseBlocklist(fixture('spamhaus_drop.txt'));
    expect(result.entries).toEqual(['1.10.16.0/20', '1.19.0.0/16', '1.32.128.0/18', '2.56.192.0/22', '5.134.128.0/19'].map((c) => parseRange(c)));
    expect(result.invalidLines).toBe(0);
  });

  it('blocklist-parser - reads Spamhaus drop_v4.json and drop_v6.json and skips their metadata line', () => {
    const v4 = parseBlocklist(fixture('drop_v4.json'));
    const text = parseBlocklist(fixture('spamhaus_drop.txt'));
    expect(v4.entries).toEqual(text.entries);
    expect(v4.invalidLines).toBe(0);
    const v6 = parseBlocklist(fixture('drop_v6.json'));
    expect(v6.entries).toEqual(['2001:678:738::/48', '2a06:e480::/29', '2a0b:4340:a6::/48'].map((c) => parseRange(c)));
    expect(v6.invalidLines).toBe(0);
  });

  it('blocklist-parser - reads a plain list with a BOM, CRLF, blank lines, trailing comments and a dashed range', () => {
    const result = parseBlocklist(fixture('custom-watchlist.txt'));
    expect(result.entries).toEqual([
      parseRange('198.51.100.7'),
      parseRange('198.51.100.10-198.51.100.20'),
      parseRange('2001:db8:bad::/48'),
      parseRange('203.0.113.0/25'),
    ]);
    expect(result.invalidLines).toBe(0);
  });

  it('blocklist-parser - reports bad lines with their numbers and reasons, keeping only the first ones', () => {
    const lines = ['1.2.3.4', 'hello', '{"cidr":42}', '{broken json', '1.2.3.4 extra words', '::/0', '0.0.0.0/0', '2001:db8::/8', '9.9.9.9'];
    for (let i = 0; i < 20; i++) lines.push(`bad-${i}`);
    const result = parseBlocklist(lines.join('\r\n'));
    expect(result.entries).toEqual([parseRange('1.2.3.4'), parseRange('9.9.9.9')]);
    expect(result.invalidLines).toBe(27);
    expect(result.firstErrors).toHaveLength(10);
    expect(result.firstErrors.slice(0, 7)).toEqual([
      { line: 2, text: 'hello', reason: 'not an IP address, network or range' },
      { line: 3, text: '{"cidr":42}', reason: 'JSON line without a "cidr" string' },
      { line: 4, text: '{broken json', reason: 'invalid JSON' },
      { line: 5, text: '1.2.3.4 extra words', reason: 'not an IP address, network or range' },
      { line: 6, text: '::/0', reason: 'broader than /16' },
      { line: 7, text: '0.0.0.0/0', reason: 'broader than /8' },
      { line: 8, text: '2001:db8::/8', reason: 'broader than /16' },
    ]);
  });

  it('blocklist-parser - the prefix limits are options', () => {
    const result = parseBlocklist('0.0.0.0/0\n10.0.0.0/7\n::/0', { minPrefixV4: 0, minPrefixV6: 0 });
    expect(result.entries).toHaveLength(3);
  });

  it('blocklist-parser - survives binary garbage, a 10 MB line and a 10 MB JSON-looking line', () => {
    const garbage = randomBytes(1 << 20);
    const fromGarbage = parseBlocklist(garbage);
    expect(fromGarbage.entries.length).toBeLessThan(5);
    expect(fromGarbage.firstErrors.every((e) => e.text.length <= 120)).toBe(true);

    const hugeLine = `1.2.3.4\n${'7'.repeat(10 * 1024 * 1024)}\n5.6.7.8`;
    const fromHuge = parseBlocklist(hugeLine);
    expect(fromHuge.entries).toEqual([parseRange('1.2.3.4'), parseRange('5.6.7.8')]);
    expect(fromHuge.firstErrors[0]).toMatchObject({ line: 2, reason: 'line longer than 4096 characters' });

    const hugeJson = parseBlocklist(`{"cidr":"${'1'.repeat(10 * 1024 * 1024)}"}`);
    expect(hugeJson.invalidLines).toBe(1);
    expect(parseBlocklist('').entries).toEqual([]);
    expect(parseBlocklist('\u0000\u0000\n\uffff').invalidLines).toBe(2);
  });
});
