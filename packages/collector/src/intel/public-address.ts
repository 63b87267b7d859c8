/**
 * Whether an address is globally routable, so worth asking reputation services or matching
 * against blocklists. Private, loopback, link-local, CGNAT, multicast, documentation and
 * reserved space are not: no service knows anything about them, and feeds such as
 * firehol_level1 list them as "bogons", which would tag every internal flow.
 */
import { IpRangeSet } from './ip-set.js';

const MAX6 = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';

const NON_PUBLIC_RANGES = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4',
  // Everything outside global unicast 2000::/3, except ::ffff:0:0/96 whose IPv4-mapped
  // addresses are judged by their IPv4 part (IpRangeSet.match checks both).
  '::-::fffe:ffff:ffff',
  `::1:0:0:0-1fff:${MAX6.slice(5)}`,
  `4000::-${MAX6}`,
  '2001:2::/48',
  '2001:10::/28',
  '2001:20::/28',
  '2001:db8::/32',
];

// Every parseable address matches "any"; a non-public one also matches "non-public".
const scopes = IpRangeSet.build([
  { tag: 'any', range: '0.0.0.0/0' },
  { tag: 'any', range: '::/0' },
  ...NON_PUBLIC_RANGES.map((range) => ({ tag: 'non-public', range })),
]);

/** True for a parseable, globally routable address; false for anything else, including garbage. */
export function isPublicAddress(ip: string): boolean {
  return scopes.match(ip).length === 1;
}
