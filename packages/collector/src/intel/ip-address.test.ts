import { BlockList } from 'node:net';
import { formatIpv4, formatIpv6Words } from '@nta/shared';
import { describe, expect, it } from 'vitest';
import { bigintToWords, parseIpv6Into, parseRange, rangeSize, wordsToBigint } from './ip-address.js';

// Address parsing itself is the shared parser's, tested against Node in
// packages/shared/src/net/ip-text.test.ts; this covers the blocklist range forms on top.

describe('ip-address', () => {
  it('ip-address - parses networks, host-bit networks, dashed ranges and rejects the rest', () => {
    expect(parseRange('10.0.0.0/8')).toEqual({ version: 4, start: 0x0a000000, end: 0x0affffff });
    expect(parseRange('10.1.2.3/8')).toEqual({ version: 4, start: 0x0a000000, end: 0x0affffff });
    expect(parseRange('0.0.0.0/0')).toEqual({ version: 4, start: 0, end: 0xffffffff });
    expect(parseRange('1.2.3.4/32')).toEqual({ version: 4, start: 0x01020304, end: 0x01020304 });
    expect(parseRange('1.2.3.4 - 1.2.3.9')).toEqual({ version: 4, start: 0x01020304, end: 0x01020309 });
    expect(parseRange('2001:db8::/32')).toEqual({ version: 6, start: 0x20010db8n << 96n, end: (0x20010db8n << 96n) | ((1n << 96n) - 1n) });
    expect(parseRange('::/0')).toEqual({ version: 6, start: 0n, end: (1n << 128n) - 1n });
    expect(parseRange('::ffff:192.0.2.1')).toEqual({ version: 6, start: 0xffffc0000201n, end: 0xffffc0000201n });
    expect(rangeSize(parseRange('192.0.2.0/24')!)).toBe(256n);
    for (const bad of ['1.2.3.4/33', '1.2.3.4/', '1.2.3.4/a', '::/129', '1.2.3.9-1.2.3.4', '1.2.3.4-::1', '1.2.3.4/24/1', '-', '/8', '01.2.3.4/8', 'fe80::%eth0/64']) {
      expect(parseRange(bad), bad).toBeUndefined();
    }
  });

  it('ip-address - a CIDR range holds exactly the addresses a node:net subnet holds', () => {
    const cidrs = ['192.0.2.0/24', '10.128.0.0/9', '2001:db8:8000::/33', 'fe80::/10'];
    for (const cidr of cidrs) {
      const range = parseRange(cidr)!;
      const [network, prefix] = cidr.split('/');
      const subnet = new BlockList();
      subnet.addSubnet(network, Number(prefix), range.version === 4 ? 'ipv4' : 'ipv6');
      const text = (value: number | bigint): string => {
        if (range.version === 4) return formatIpv4(Number(value));
        const words = new Uint32Array(4);
        bigintToWords(BigInt(value), words);
        return formatIpv6Words(words);
      };
      const family = range.version === 4 ? 'ipv4' : 'ipv6';
      expect(subnet.check(text(range.start), family), cidr).toBe(true);
      expect(subnet.check(text(range.end), family), cidr).toBe(true);
      if (range.version === 4) {
        expect(subnet.check(text(range.start - 1), family), cidr).toBe(false);
        expect(subnet.check(text(range.end + 1), family), cidr).toBe(false);
      } else {
        expect(subnet.check(text(range.start - 1n), family), cidr).toBe(false);
        expect(subnet.check(text(range.end + 1n), family), cidr).toBe(false);
      }
    }
  });

  it('ip-address - words and bigints convert both ways', () => {
    const words = new Uint32Array(4);
    expect(parseIpv6Into(words, '2001:db8::ff00:42:8329')).toBe(true);
    const value = wordsToBigint(words);
    expect(value).toBe(0x20010db8000000000000ff0000428329n);
    const back = new Uint32Array(8);
    bigintToWords(value, back, 4);
    expect([...back.subarray(4)]).toEqual([...words]);
    expect(parseIpv6Into(words, 'x[::1]', 2, 5)).toBe(true);
    expect([...words]).toEqual([0, 0, 0, 1]);
  });
});
