import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { describe, expect, it } from 'vitest';
import { formatIpv4, formatIpv6Full, parseIpv4, parseIpv6 } from './ip-parse.js';

// Node's own address parser is the reference: it and ours must agree on what is an address.
const candidates = [
  '0.0.0.0', '1.2.3.4', '255.255.255.255', '8.8.8.8', '10.0.0.1', '256.1.1.1', '1.2.3', '1.2.3.4.5', '1.2.3.', '.1.2.3',
  '01.2.3.4', '1.2.3.04', '1..2.3', '1.2.3.4 ', ' 1.2.3.4', '1.2.3.-4', '1.2.3.4a', '', '.', '1234.1.1.1', '99999999999.1.1.1',
  '::', '::1', '1::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '1::8', '2001:db8::ff00:42:8329',
  '2001:DB8::FF00:42:8329', '::ffff:10.0.0.1', '::ffff:1.2.3.4', '64:ff9b::192.0.2.33', '1:2:3:4:5:6:1.2.3.4',
  '::1.2.3.4', 'fe80::1%eth0', 'fe80::1%1', '1:2:3:4:5:6:7:8:9', '1::2::3', ':1', '1:', ':::', '1:::2', '12345::',
  'g::1', '1:2:3:4:5:6:7', '::ffff:1.2.3', '::ffff:256.1.1.1', '1:2:3:4:5:6:7:1.2.3.4', '::ffff:01.2.3.4', '::%',
  '2001:4860:4860::8888', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '0:0:0:0:0:0:0:0', '1:2:3:4:5:6:7::8', 'garbage',
  '[::1]', '1.2.3.4/24', '::1/128', 'localhost',
];

describe('ip-parse', () => {
  it('ip-parse - accepts exactly the IPv4 strings node:net accepts, with the right value', () => {
    for (const text of candidates) {
      const value = parseIpv4(text);
      expect(value >= 0, text).toBe(isIPv4(text));
      if (value >= 0) expect(formatIpv4(value)).toBe(text);
    }
  });

  it('ip-parse - accepts exactly the IPv6 strings node:net accepts, naming the same address', () => {
    const words = new Uint32Array(4);
    for (const text of candidates) {
      const ok = parseIpv6(text, words);
      expect(ok, text).toBe(isIPv6(text));
      if (!ok) continue;
      const same = new BlockList();
      same.addAddress(formatIpv6Full(words), 'ipv6');
      expect(same.check(text.replace(/%.*$/, ''), 'ipv6'), text).toBe(true);
    }
  });

  it('ip-parse - gives the words of known addresses', () => {
    const words = new Uint32Array(4);
    expect(parseIpv6('2001:db8::ff00:42:8329', words)).toBe(true);
    expect([...words]).toEqual([0x20010db8, 0, 0x0000ff00, 0x00428329]);
    expect(parseIpv6('::ffff:192.168.1.2', words)).toBe(true);
    expect([...words]).toEqual([0, 0, 0xffff, 0xc0a80102]);
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIpv4('172.16.0.1')).toBe(0xac100001);
  });
});
