import { describe, expect, it } from 'vitest';
import { isPublicAddress } from './public-address.js';

describe('public-address', () => {
  it('public-address - routable IPv4 and IPv6 addresses are public', () => {
    for (const ip of ['8.8.8.8', '1.1.1.1', '185.220.101.4', '223.255.255.255', '2a00:1450:4001:80b::200e', '2606:4700::1111', '::ffff:8.8.8.8']) {
      expect(isPublicAddress(ip), ip).toBe(true);
    }
  });

  it('public-address - private, loopback, link-local, CGNAT, multicast, documentation and reserved space is not', () => {
    const notPublic = [
      '0.0.0.0', '10.1.2.3', '100.64.0.1', '127.0.0.1', '169.254.1.1', '172.16.0.1', '172.31.255.255', '192.168.1.1',
      '192.0.2.10', '198.51.100.1', '203.0.113.5', '198.18.0.1', '224.0.0.251', '239.255.255.250', '255.255.255.255',
      '::', '::1', 'fe80::1', 'fd00::1', 'ff02::1', '2001:db8::1', '::ffff:10.0.0.1', '::ffff:127.0.0.1', '64:ff9b::1.2.3.4',
    ];
    for (const ip of notPublic) expect(isPublicAddress(ip), ip).toBe(false);
  });

  it('public-address - the edges of the private blocks are decided correctly', () => {
    expect(isPublicAddress('172.15.255.255')).toBe(true);
    expect(isPublicAddress('172.32.0.0')).toBe(true);
    expect(isPublicAddress('100.63.255.255')).toBe(true);
    expect(isPublicAddress('100.128.0.0')).toBe(true);
    expect(isPublicAddress('1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toBe(false);
    expect(isPublicAddress('2000::')).toBe(true);
    expect(isPublicAddress('3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toBe(true);
    expect(isPublicAddress('4000::')).toBe(false);
  });

  it('public-address - text that is not an address is not public', () => {
    for (const junk of ['', 'example.com', '8.8.8.8.8', 'fe80::1%eth0', '08.8.8.8']) expect(isPublicAddress(junk), junk).toBe(false);
  });
});
