import { BlockList, isIP, isIPv4, isIPv6 } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  canonicalIp,
  formatIpv4,
  formatIpv6Full,
  formatIpv6Groups,
  formatIpv6Words,
  ipv4Mask,
  ipv6GroupMask,
  looksLikeIpv6,
  parseIpv4,
  parseIpv6Groups,
  parseIpv6Words,
  writeIpv4Bytes,
  writeIpv6Bytes,
} from './ip-text.js';

// Node is the reference: net.isIP and BlockList read addresses, and the WHATWG URL parser
// reads IPv6 and writes it back in RFC 5952 form. Ours must agree with them (zone ids aside).

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function urlCanonical(ipv6: string): string {
  return new URL(`http://[${ipv6}]/`).hostname.slice(1, -1);
}

const candidates = [
  '0.0.0.0', '1.2.3.4', '255.255.255.255', '8.8.8.8', '10.0.0.1', '256.1.1.1', '1.2.3', '1.2.3.4.5', '1.2.3.', '.1.2.3',
  '01.2.3.4', '1.2.3.04', '1..2.3', '1.2.3.4 ', ' 1.2.3.4', '1.2.3.-4', '1.2.3.4a', '', '.', '1234.1.1.1', '99999999999.1.1.1',
  'a.b.c.d', '1.2.3.4/32', '00.0.0.0', '0.0.0.00',
  '::', '::1', '1::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '1::8', '2001:db8::ff00:42:8329',
  '2001:DB8::FF00:42:8329', '::ffff:10.0.0.1', '::ffff:1.2.3.4', '64:ff9b::192.0.2.33', '1:2:3:4:5:6:1.2.3.4',
  '::1.2.3.4', 'fe80::1%eth0', 'fe80::1%1', '1:2:3:4:5:6:7:8:9', '1::2::3', ':1', '1:', ':::', '1:::2', '12345::',
  'g::1', '1:2:3:4:5:6:7', '::ffff:1.2.3', '::ffff:256.1.1.1', '1:2:3:4:5:6:7:1.2.3.4', '::ffff:01.2.3.4', '::%',
  '2001:4860:4860::8888', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '0:0:0:0:0:0:0:0', '1:2:3:4:5:6:7::8', 'garbage',
  '[::1]', '::1/128', 'localhost', ':', '1:2', '1::2:3:4:5:6:7:8', 'g::', '1:2:3:4:5:6:7:8::', ':1::', '1.2.3.4::',
  '::1.2.3.4:5', '::g', '0000:0000:0000:0000:0000:ffff:255.255.255.255', '00000::1', '::ffff:1.2.3.4.5', '1:2:3:4:5:6:7:8%eth0',
];

describe('ip-text - IPv4', () => {
  it('ip-text - accepts exactly the dotted quads node:net accepts, with the right value', () => {
    for (const text of candidates) {
      const value = parseIpv4(text);
      expect(value >= 0, text).toBe(isIPv4(text));
      if (value < 0) continue;
      const octets = text.split('.').map(Number);
      expect(value, text).toBe(((octets[0] * 256 + octets[1]) * 256 + octets[2]) * 256 + octets[3]);
      expect(formatIpv4(value)).toBe(text);
    }
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIpv4('172.16.0.1')).toBe(0xac100001);
  });

  it('ip-text - reads a dotted quad inside a longer text', () => {
    expect(parseIpv4('[10.1.2.3]', 1, 9)).toBe(0x0a010203);
    expect(parseIpv4('10.1.2.3/8', 0, 8)).toBe(0x0a010203);
    expect(parseIpv4('10.1.2.3/8', 0, 7)).toBe(-1); // "10.1.2." is not an address
  });

  it('ip-text - formats every address so that node:net reads the same address back', () => {
    const random = mulberry32(3);
    for (let n = 0; n < 2_000; n++) {
      const value = Math.floor(random() * 2 ** 32);
      const text = formatIpv4(value);
      expect(isIPv4(text), text).toBe(true);
      const only = new BlockList();
      only.addAddress(text, 'ipv4');
      expect(parseIpv4(text)).toBe(value);
      expect(only.check(formatIpv4(value ^ 1), 'ipv4')).toBe(false);
    }
  });

  it('ip-text - writes network-order bytes at an offset, and nothing when the text is not IPv4', () => {
    const out = new Uint8Array(8).fill(0xee);
    expect(writeIpv4Bytes('192.0.2.255', out, 2)).toBe(true);
    expect([...out]).toEqual([0xee, 0xee, 192, 0, 2, 255, 0xee, 0xee]);
    for (const bad of ['192.0.2', '192.0.2.256', '01.2.3.4', '::1', '']) {
      const before = [...out];
      expect(writeIpv4Bytes(bad, out, 0), bad).toBe(false);
      expect([...out]).toEqual(before);
    }
  });
});

describe('ip-text - IPv6', () => {
  it('ip-text - accepts exactly the IPv6 texts node:net accepts, except zone ids, naming the same address', () => {
    const words = new Uint32Array(4);
    for (const text of candidates) {
      const ok = parseIpv6Words(text, words);
      expect(ok, text).toBe(isIPv6(text) && !text.includes('%'));
      if (!ok) continue;
      const same = new BlockList();
      same.addAddress(formatIpv6Full(words), 'ipv6');
      expect(same.check(text, 'ipv6'), text).toBe(true);
      expect(formatIpv6Words(words), text).toBe(urlCanonical(text));
    }
  });

  it('ip-text - agrees with node:net on which random strings are IPv6 addresses', () => {
    const random = mulberry32(7);
    const alphabet = '0123456789abcdefABCDEF::::..';
    const out = new Uint32Array(4);
    let valid = 0;
    for (let n = 0; n < 20_000; n++) {
      const length = 2 + Math.floor(random() * 30);
      let s = '';
      for (let k = 0; k < length; k++) s += alphabet[Math.floor(random() * alphabet.length)];
      const ours = parseIpv6Words(s, out);
      expect(ours, s).toBe(isIP(s) === 6);
      if (ours) {
        valid++;
        expect(formatIpv6Words(out), s).toBe(urlCanonical(s));
      }
    }
    // The alphabet is chosen so a fair share of strings is valid; otherwise the test proves little.
    expect(valid).toBeGreaterThan(50);
  });

  it('ip-text - reads every spelling of generated addresses as the same words, groups and bytes', () => {
    const random = mulberry32(11);
    const words = new Uint32Array(4);
    const groups = new Uint16Array(8);
    const bytes = new Uint8Array(16);
    for (let n = 0; n < 5_000; n++) {
      // Many zero groups, so that `::` compression happens often.
      const expected = Array.from({ length: 8 }, () => (random() < 0.5 ? 0 : Math.floor(random() * 0x10000)));
      const full = expected.map((g) => g.toString(16).padStart(random() < 0.5 ? 4 : 1, '0')).join(':');
      const upper = random() < 0.3 ? full.toUpperCase() : full;
      const g6 = expected[6];
      const g7 = expected[7];
      const withV4 =
        random() < 0.3 ? `${expected.slice(0, 6).map((g) => g.toString(16)).join(':')}:${g6 >> 8}.${g6 & 255}.${g7 >> 8}.${g7 & 255}` : upper;
      const canonical = urlCanonical(withV4);
      for (const spelling of [withV4, canonical]) {
        expect(parseIpv6Groups(spelling, groups), spelling).toBe(true);
        expect([...groups], spelling).toEqual(expected);
        expect(parseIpv6Words(spelling, words), spelling).toBe(true);
        expect([...words], spelling).toEqual([0, 1, 2, 3].map((w) => expected[2 * w] * 65536 + expected[2 * w + 1]));
        expect(writeIpv6Bytes(spelling, bytes), spelling).toBe(true);
        expect([...bytes], spelling).toEqual(expected.flatMap((g) => [g >> 8, g & 255]));
      }
      expect(formatIpv6Words(words)).toBe(canonical);
      expect(formatIpv6Groups(groups)).toBe(canonical);
    }
  });

  it('ip-text - gives the words of known addresses', () => {
    const words = new Uint32Array(4);
    expect(parseIpv6Words('2001:db8::ff00:42:8329', words)).toBe(true);
    expect([...words]).toEqual([0x20010db8, 0, 0x0000ff00, 0x00428329]);
    expect(parseIpv6Words('::ffff:192.168.1.2', words)).toBe(true);
    expect([...words]).toEqual([0, 0, 0xffff, 0xc0a80102]);
    expect(parseIpv6Words('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', words)).toBe(true);
    expect([...words]).toEqual([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]);
    expect(parseIpv6Words('::', words)).toBe(true);
    expect([...words]).toEqual([0, 0, 0, 0]);
    const groups = new Uint16Array(8);
    expect(parseIpv6Groups('2001:DB8:0:0:1::2', groups)).toBe(true);
    expect([...groups]).toEqual([0x2001, 0xdb8, 0, 0, 1, 0, 0, 2]);
    expect(parseIpv6Groups('fe80::', groups)).toBe(true);
    expect([...groups]).toEqual([0xfe80, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('ip-text - refuses zone ids, which Node accepts but which are local to one host', () => {
    expect(isIPv6('fe80::1%eth0')).toBe(true);
    expect(parseIpv6Words('fe80::1%eth0', new Uint32Array(4))).toBe(false);
    expect(parseIpv6Groups('fe80::1%eth0', new Uint16Array(8))).toBe(false);
    expect(writeIpv6Bytes('fe80::1%eth0', new Uint8Array(16))).toBe(false);
    expect(canonicalIp('fe80::1%eth0')).toBeUndefined();
  });

  it('ip-text - reads an address inside a longer text, and a failed read leaves the buffer alone', () => {
    const words = new Uint32Array([7, 7, 7, 7]);
    expect(parseIpv6Words('[2001:db8::1]:443', words, 1, 12)).toBe(true);
    expect([...words]).toEqual([0x20010db8, 0, 0, 1]);
    words.fill(7);
    for (const bad of ['1::2::3', '::ffff:1.2.3', 'x'.repeat(100_000), '1:'.repeat(50_000), '::'.repeat(30)]) {
      expect(parseIpv6Words(bad, words), bad.slice(0, 20)).toBe(false);
      expect([...words]).toEqual([7, 7, 7, 7]);
    }
    const bytes = new Uint8Array(20).fill(0xee);
    expect(writeIpv6Bytes('::1', bytes, 2)).toBe(true);
    expect([...bytes]).toEqual([0xee, 0xee, ...new Array<number>(15).fill(0), 1, 0xee, 0xee]);
  });

  it('ip-text - tells IPv6 text from IPv4 text by its colon', () => {
    expect(looksLikeIpv6('::1')).toBe(true);
    expect(looksLikeIpv6('1.2.3.4')).toBe(false);
  });
});

describe('ip-text - formatting', () => {
  it('ip-text - writes RFC 5952 text as the URL parser does, for random addresses', () => {
    const random = mulberry32(5);
    for (let n = 0; n < 2_000; n++) {
      // Zero runs are common in real addresses and are what `::` compression is about.
      const groups = Array.from({ length: 8 }, () => (random() < 0.4 ? 0 : Math.floor(random() * 0x10000)));
      const expected = urlCanonical(groups.map((g) => g.toString(16)).join(':'));
      expect(formatIpv6Groups(groups)).toBe(expected);
      expect(formatIpv6Words([0, 1, 2, 3].map((w) => groups[2 * w] * 65536 + groups[2 * w + 1]))).toBe(expected);
    }
  });

  it('ip-text - compresses only the longest zero run, the first of equals, and never a single zero', () => {
    const cases: [number[], string][] = [
      [[0x2001, 0xdb8, 0, 1, 1, 1, 1, 1], '2001:db8:0:1:1:1:1:1'],
      [[0x2001, 0, 0, 1, 0, 0, 0, 1], '2001:0:0:1::1'],
      [[0x2001, 0xdb8, 0, 0, 1, 0, 0, 1], '2001:db8::1:0:0:1'],
      [[0, 0, 0, 0, 0, 0xffff, 0xc000, 0x201], '::ffff:c000:201'],
      [[1, 0, 0, 0, 0, 0, 0, 0], '1::'],
    ];
    for (const [groups, text] of cases) {
      expect(formatIpv6Groups(groups)).toBe(text);
      expect(urlCanonical(text)).toBe(text);
    }
  });

  it('ip-text - writes all eight groups in the full form', () => {
    expect(formatIpv6Full([0x20010db8, 0, 0, 1])).toBe('2001:db8:0:0:0:0:0:1');
  });

  it('ip-text - gives one spelling per address, and undefined for what is not one', () => {
    expect(canonicalIp('8.8.8.8')).toBe('8.8.8.8');
    expect(canonicalIp('2001:0DB8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(canonicalIp('::FFFF:192.0.2.1')).toBe('::ffff:c000:201');
    for (const bad of ['not-an-ip', '08.8.8.8', '', '1.2.3.4/32']) expect(canonicalIp(bad), bad).toBeUndefined();
  });
});

describe('ip-text - prefix masks', () => {
  it('ip-text - an IPv4 mask selects the same addresses as a node:net subnet', () => {
    const random = mulberry32(13);
    for (let n = 0; n < 2_000; n++) {
      const prefixLength = Math.floor(random() * 33);
      const network = Math.floor(random() * 2 ** 32);
      // Half the probes share the network's top bits, so both answers occur often.
      const probe = random() < 0.5 ? Math.floor(random() * 2 ** 32) : (network ^ Math.floor(random() * 2 ** (32 - prefixLength))) >>> 0;
      const subnet = new BlockList();
      subnet.addSubnet(formatIpv4(network), prefixLength, 'ipv4');
      const mask = ipv4Mask(prefixLength);
      expect(((probe & mask) >>> 0) === ((network & mask) >>> 0), `${formatIpv4(probe)} in ${formatIpv4(network)}/${prefixLength}`).toBe(
        subnet.check(formatIpv4(probe), 'ipv4'),
      );
    }
    expect(ipv4Mask(0)).toBe(0);
    expect(ipv4Mask(32)).toBe(0xffffffff);
  });

  it('ip-text - IPv6 group masks select the same addresses as a node:net subnet', () => {
    const random = mulberry32(17);
    for (let n = 0; n < 2_000; n++) {
      const prefixLength = Math.floor(random() * 129);
      const network = Array.from({ length: 8 }, () => Math.floor(random() * 0x10000));
      const keep = Math.floor(random() * 9);
      const probe = network.map((g, k) => (k < keep ? g : random() < 0.5 ? g ^ (1 << Math.floor(random() * 16)) : Math.floor(random() * 0x10000)));
      const subnet = new BlockList();
      subnet.addSubnet(formatIpv6Groups(network), prefixLength, 'ipv6');
      const inside = probe.every((g, k) => (g & ipv6GroupMask(prefixLength, k)) === (network[k] & ipv6GroupMask(prefixLength, k)));
      expect(inside, `${formatIpv6Groups(probe)} in ${formatIpv6Groups(network)}/${prefixLength}`).toBe(subnet.check(formatIpv6Groups(probe), 'ipv6'));
    }
  });
});
