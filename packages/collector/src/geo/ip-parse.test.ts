import { BlockList, isIPv6 } from 'node:net';
import { formatIpv6Full } from '@nta/shared';
import { describe, expect, it } from 'vitest';
import { parseIpv6 } from './ip-parse.js';

// The shared parser is tested against Node in packages/shared/src/net/ip-text.test.ts; this is
// only geo's difference from it: zone ids are ignored, as Node's isIPv6 accepts them.
const candidates = [
  '::1', 'fe80::1', 'fe80::1%eth0', 'fe80::1%1', 'fe80::1%', '%eth0', '::%', '::1%%', 'fe80::1%eth0%eth1', '1::2::3%eth0',
  '::ffff:10.0.0.1%3', '1.2.3.4%eth0', '1.2.3.4', '', 'garbage', 'fe80::1%' + 'z'.repeat(1000),
];

describe('ip-parse', () => {
  it('ip-parse - accepts exactly the IPv6 strings node:net accepts, zones included, naming the same address', () => {
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

  it('ip-parse - allows the same zone characters node:net allows', () => {
    const words = new Uint32Array(4);
    for (let c = 0; c < 0x180; c++) {
      const text = `fe80::1%a${String.fromCharCode(c)}`;
      expect(parseIpv6(text, words), `char ${c}`).toBe(isIPv6(text));
    }
  });

  it('ip-parse - reads the address before the zone', () => {
    const words = new Uint32Array(4);
    expect(parseIpv6('fe80::abcd%eth0', words)).toBe(true);
    expect([...words]).toEqual([0xfe800000, 0, 0, 0xabcd]);
  });
});
