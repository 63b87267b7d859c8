import { isIPv4, isIPv6 } from 'node:net';
import { describe, expect, it } from 'vitest';
import { formatIpv4, formatIpv6, parseAddressOrCidr, parseIpv4, parseIpv6 } from './ip-address.js';

/** The WHATWG URL parser is an independent IPv6 reader and RFC 5952 writer. */
function urlCanonical(address: string): string {
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

function randomGroups(next: () => number): number[] {
  // Zero runs are common in real addresses and are what `::` compression is about.
  return Array.from({ length: 8 }, () => (next() % 3 === 0 ? 0 : next() % 65536));
}

describe('ip-address - IPv4', () => {
  it('reads dotted quads into unsigned numbers', () => {
    expect(parseIpv4('0.0.0.0')).toBe(0);
    expect(parseIpv4('255.255.255.255')).toBe(4294967295);
    expect(parseIpv4('10.1.2.3')).toBe(0x0a010203);
    expect(parseIpv4('192.168.0.1')).toBe(0xc0a80001);
  });

  it.each(['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '1..2.3', '1.2.3.', '.1.2.3', '01.2.3.4', '1.2.3.4 ', 'a.b.c.d', '1.2.3.-4'])(
    'rejects %j as Node does',
    (text) => {
      expect(parseIpv4(text)).toBe(-1);
      expect(isIPv4(text)).toBe(false);
    },
  );

  it('round-trips through formatIpv4', () => {
    for (const text of ['0.0.0.0', '1.2.3.4', '100.64.0.1', '255.255.255.255']) expect(formatIpv4(parseIpv4(text))).toBe(text);
  });
});

describe('ip-address - IPv6', () => {
  it('reads the usual forms', () => {
    const out = new Uint16Array(8);
    expect(parseIpv6('::', out)).toBe(true);
    expect([...out]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIpv6('::1', out)).toBe(true);
    expect([...out]).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(parseIpv6('fe80::', out)).toBe(true);
    expect([...out]).toEqual([0xfe80, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIpv6('2001:DB8:0:0:1::2', out)).toBe(true);
    expect([...out]).toEqual([0x2001, 0xdb8, 0, 0, 1, 0, 0, 2]);
    expect(parseIpv6('::ffff:192.0.2.128', out)).toBe(true);
    expect([...out]).toEqual([0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0280]);
    expect(parseIpv6('1:2:3:4:5:6:7:8', out)).toBe(true);
    expect([...out]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it.each([':', ':::', '1:2', '1::2::3', '1:2:3:4:5:6:7:8:9', '1::2:3:4:5:6:7:8', '12345::', 'g::', '1:', ':1', '::1.2.3', '1:2:3:4:5:6:7:1.2.3.4', '1.2.3.4'])(
    'rejects %j as Node does',
    (text) => {
      expect(parseIpv6(text, new Uint16Array(8))).toBe(false);
      expect(isIPv6(text)).toBe(false);
    },
  );

  it('refuses zone ids, which Node accepts but a filter value cannot use', () => {
    expect(parseIpv6('fe80::1%eth0', new Uint16Array(8))).toBe(false);
  });

  it('agrees with the URL parser on random addresses, compressed and not', () => {
    let seed = 7;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648);
    const out = new Uint16Array(8);
    for (let i = 0; i < 500; i++) {
      const groups = randomGroups(next);
      const full = groups.map((g) => g.toString(16)).join(':');
      const canonical = urlCanonical(full);
      expect(formatIpv6(groups)).toBe(canonical);
      expect(parseIpv6(canonical, out)).toBe(true);
      expect([...out]).toEqual(groups);
      expect(parseIpv6(full.toUpperCase(), out)).toBe(true);
      expect([...out]).toEqual(groups);
    }
  });
});

describe('ip-address - parseAddressOrCidr', () => {
  it('clears host bits and marks exact addresses', () => {
    expect(parseAddressOrCidr('192.168.77.1/20')).toEqual({
      ok: true,
      value: { type: 'address', family: 4, address: '192.168.64.0', prefixLength: 20, exact: false },
    });
    expect(parseAddressOrCidr('10.0.0.1/0')).toMatchObject({ ok: true, value: { address: '0.0.0.0', prefixLength: 0 } });
    expect(parseAddressOrCidr('2001:db8:abcd:1234::1/50')).toMatchObject({ ok: true, value: { family: 6, address: '2001:db8:abcd::', prefixLength: 50 } });
    expect(parseAddressOrCidr('2001:db8:abcd:ffff::1/52')).toMatchObject({ ok: true, value: { address: '2001:db8:abcd:f000::' } });
  });

  it.each(['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/08', '10.0.0.0/-1', '::/129', '10.0.0.0/8/8', 'x/8'])('rejects %j', (text) => {
    expect(parseAddressOrCidr(text)).toEqual({ ok: false, message: `invalid CIDR "${text}"` });
  });
});
