import { BlockList } from 'node:net';
import { describe, expect, it } from 'vitest';
import { formatIpv4, formatIpv6Groups, parseAddressOrCidr } from '@nta/shared';
import { compileAddressMatcher } from './address-matcher.js';

function matcher(cidr: string): (address: string) => boolean {
  const parsed = parseAddressOrCidr(cidr);
  if (!parsed.ok) throw new Error(parsed.message);
  return compileAddressMatcher(parsed.value);
}

/** A deterministic generator, so a failure names a reproducible case. */
function random(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2147483648);
}

describe('address-matcher - IPv4', () => {
  it('matches networks at their edges', () => {
    const m = matcher('10.0.0.0/8');
    expect(m('10.0.0.0')).toBe(true);
    expect(m('10.255.255.255')).toBe(true);
    expect(m('9.255.255.255')).toBe(false);
    expect(m('11.0.0.0')).toBe(false);
    expect(matcher('0.0.0.0/0')('203.0.113.1')).toBe(true);
    expect(matcher('192.168.1.7')('192.168.1.7')).toBe(true);
    expect(matcher('192.168.1.7')('192.168.1.70')).toBe(false);
  });

  it('never matches the other family or garbage', () => {
    expect(matcher('0.0.0.0/0')('::ffff:10.0.0.1')).toBe(false);
    expect(matcher('0.0.0.0/0')('::1')).toBe(false);
    expect(matcher('0.0.0.0/0')('not an address')).toBe(false);
    expect(matcher('0.0.0.0/0')('')).toBe(false);
  });

  it("agrees with Node's BlockList on random networks and addresses", () => {
    const next = random(1);
    for (let i = 0; i < 300; i++) {
      const prefix = next() % 33;
      const network = formatIpv4(next() * 2 + (next() % 2));
      const reference = new BlockList();
      reference.addSubnet(network, prefix, 'ipv4');
      const m = matcher(`${network}/${prefix}`);
      for (let j = 0; j < 20; j++) {
        // Half the probes share the network's first octets, so both answers occur.
        const probe = j % 2 === 0 ? formatIpv4(next() * 2 + (next() % 2)) : network.replace(/\.\d+$/, `.${next() % 256}`);
        expect(m(probe), `${probe} in ${network}/${prefix}`).toBe(reference.check(probe, 'ipv4'));
      }
    }
  });
});

describe('address-matcher - IPv6', () => {
  it('matches networks at their edges and every text form of an address', () => {
    const m = matcher('2001:db8::/32');
    expect(m('2001:db8::1')).toBe(true);
    expect(m('2001:0DB8:ffff:ffff:ffff:ffff:ffff:ffff')).toBe(true);
    expect(m('2001:db9::')).toBe(false);
    expect(m('10.0.0.1')).toBe(false);
    expect(matcher('::/0')('fe80::1')).toBe(true);
    expect(matcher('::/0')('1.2.3.4')).toBe(false);
    expect(matcher('::ffff:0:0/96')('::ffff:10.0.0.5')).toBe(true);
    expect(matcher('::1')('0:0:0:0:0:0:0:1')).toBe(true);
  });

  it("agrees with Node's BlockList on random networks and addresses", () => {
    const next = random(2);
    const groups = (): number[] => Array.from({ length: 8 }, () => next() % 65536);
    for (let i = 0; i < 300; i++) {
      const prefix = next() % 129;
      const base = groups();
      const network = formatIpv6Groups(base);
      const reference = new BlockList();
      reference.addSubnet(network, prefix, 'ipv6');
      const m = matcher(`${network}/${prefix}`);
      for (let j = 0; j < 20; j++) {
        // Probes keep a random number of the network's leading groups, so both answers occur.
        const keep = next() % 9;
        const probe = formatIpv6Groups(groups().map((g, k) => (k < keep ? base[k] : g)));
        expect(m(probe), `${probe} in ${network}/${prefix}`).toBe(reference.check(probe, 'ipv6'));
      }
    }
  });
});
