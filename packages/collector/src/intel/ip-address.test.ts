import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { canonicalIp, formatIpv6, parseIpv4, parseIpv6Into, parseRange, rangeSize } from './ip-address.js';

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Node's WHATWG URL parser serialises IPv6 hosts canonically: an independent reference. */
function nodeCanonicalIpv6(text: string): string {
  return new URL(`http://[${text}]/`).hostname.slice(1, -1);
}

describe('ip-address', () => {
  it('ip-address - parses dotted quads including the edges and rejects near misses', () => {
    expect(parseIpv4('0.0.0.0')).toBe(0);
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIpv4('192.168.1.20')).toBe(((192 << 24) >>> 0) + (168 << 16) + (1 << 8) + 20);
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.-1', '01.2.3.4', '1..2.3', '1.2.3.4 ', ' 1.2.3.4', '1.2.3.', 'a.b.c.d', '1.2.3.4/32']) {
      expect(parseIpv4(bad), bad).toBe(-1);
    }
  });

  it('ip-address - agrees with node:net on which random strings are IPv6 addresses', () => {
    const random = mulberry32(7);
    const alphabet = '0123456789abcdefABCDEF::::..';
    let valid = 0;
    const out = new Uint32Array(4);
    for (let n = 0; n < 20_000; n++) {
      const len = 2 + Math.floor(random() * 30);
      let s = '';
      for (let k = 0; k < len; k++) s += alphabet[Math.floor(random() * alphabet.length)];
      const ours = parseIpv6Into(out, s);
      expect(ours, s).toBe(isIP(s) === 6);
      if (ours) {
        valid++;
        expect(formatIpv6(out), s).toBe(nodeCanonicalIpv6(s));
      }
    }
    // The alphabet is chosen so a fair share of strings is valid; otherwise the test proves little.
    expect(valid).toBeGreaterThan(50);
  });

  it('ip-address - parses every IPv6 spelling of generated addresses to the value node:net sees', () => {
    const random = mulberry32(11);
    const out = new Uint32Array(4);
    for (let n = 0; n < 5_000; n++) {
      // Many zero groups so that "::" compression happens often.
      const groups = Array.from({ length: 8 }, () => (random() < 0.5 ? 0 : Math.floor(random() * 0x10000)));
      const full = groups.map((g) => g.toString(16).padStart(random() < 0.5 ? 4 : 1, '0')).join(':');
      const upper = random() < 0.3 ? full.toUpperCase() : full;
      const withV4 =
        random() < 0.3 ? `${groups.slice(0, 6).map((g) => g.toString(16)).join(':')}:${groups[6] >> 8}.${groups[6] & 255}.${groups[7] >> 8}.${groups[7] & 255}` : upper;
      expect(parseIpv6Into(out, withV4), withV4).toBe(true);
      const canonical = nodeCanonicalIpv6(withV4);
      expect(formatIpv6(out)).toBe(canonical);
      expect(parseIpv6Into(out, canonical)).toBe(true);
      expect(formatIpv6(out)).toBe(canonical);
    }
  });

  it('ip-address - rejects zone ids, double gaps, too many groups and misplaced IPv4 tails', () => {
    const out = new Uint32Array(4);
    for (const bad of ['fe80::1%eth0', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8::', ':1::', '1:', '::1.2.3', '1.2.3.4::', '::1.2.3.4:5', '1:2:3:4:5:6:7:1.2.3.4', '12345::', '::g']) {
      expect(parseIpv6Into(out, bad), bad).toBe(false);
    }
    expect(parseIpv6Into(out, '::')).toBe(true);
    expect([...out]).toEqual([0, 0, 0, 0]);
    expect(parseIpv6Into(out, 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toBe(true);
    expect([...out]).toEqual([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]);
    expect(parseIpv6Into(out, '::ffff:192.0.2.1')).toBe(true);
    expect([...out]).toEqual([0, 0, 0xffff, 0xc0000201]);
  });

  it('ip-address - canonicalIp keeps dotted quads and normalises IPv6 spellings', () => {
    expect(canonicalIp('8.8.8.8')).toBe('8.8.8.8');
    expect(canonicalIp('2001:0DB8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(canonicalIp('not-an-ip')).toBeUndefined();
  });

  it('ip-address - parses networks, host-bit networks, dashed ranges and rejects the rest', () => {
    expect(parseRange('10.0.0.0/8')).toEqual({ version: 4, start: 0x0a000000, end: 0x0affffff });
    expect(parseRange('10.1.2.3/8')).toEqual({ version: 4, start: 0x0a000000, end: 0x0affffff });
    expect(parseRange('0.0.0.0/0')).toEqual({ version: 4, start: 0, end: 0xffffffff });
    expect(parseRange('1.2.3.4/32')).toEqual({ version: 4, start: 0x01020304, end: 0x01020304 });
    expect(parseRange('1.2.3.4 - 1.2.3.9')).toEqual({ version: 4, start: 0x01020304, end: 0x01020309 });
    expect(parseRange('2001:db8::/32')).toEqual({ version: 6, start: 0x20010db8n << 96n, end: (0x20010db8n << 96n) | ((1n << 96n) - 1n) });
    expect(parseRange('::/0')).toEqual({ version: 6, start: 0n, end: (1n << 128n) - 1n });
    expect(rangeSize(parseRange('192.0.2.0/24')!)).toBe(256n);
    for (const bad of ['1.2.3.4/33', '1.2.3.4/', '1.2.3.4/a', '::/129', '1.2.3.9-1.2.3.4', '1.2.3.4-::1', '1.2.3.4/24/1', '-', '/8']) {
      expect(parseRange(bad), bad).toBeUndefined();
    }
  });
});
