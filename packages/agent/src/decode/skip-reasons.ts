/**
 * Why a packet did not become part of a flow. Counted per reason, never thrown.
 * Indices are stable so the hot path counts into a typed array.
 */
export const SkipReason = {
  NONE: 0,
  UNSUPPORTED_LINK_TYPE: 1,
  TRUNCATED_LINK: 2,
  NON_IP: 3,
  ARP: 4,
  TRUNCATED_IPV4: 5,
  BAD_IPV4_HEADER: 6,
  TRUNCATED_IPV6: 7,
  BAD_IPV6_HEADER: 8,
  IP_FRAGMENT: 9,
  TRUNCATED_TCP: 10,
  BAD_TCP_HEADER: 11,
  TRUNCATED_UDP: 12,
  TRUNCATED_ICMP: 13,
  BAD_VERSION: 14,
  EMPTY_PACKET: 15,
  /** Negative, NaN, or past the last instant a Date holds (pcapng if_tsoffset/if_tsresol damage). */
  BAD_TIMESTAMP: 16,
} as const;
export type SkipReason = (typeof SkipReason)[keyof typeof SkipReason];

export const SKIP_REASON_COUNT = 17;

/** Names used in summaries, heartbeats and metrics. */
export const SKIP_REASON_NAMES: readonly string[] = [
  'none',
  'unsupported-link-type',
  'truncated-link-header',
  'non-ip',
  'arp',
  'truncated-ipv4',
  'bad-ipv4-header',
  'truncated-ipv6',
  'bad-ipv6-header',
  'ip-fragment',
  'truncated-tcp',
  'bad-tcp-header',
  'truncated-udp',
  'truncated-icmp',
  'bad-ip-version',
  'empty-packet',
  'bad-timestamp',
];

export function skipCountsToRecord(counts: ArrayLike<number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 1; i < SKIP_REASON_COUNT; i++) if (counts[i] > 0) out[SKIP_REASON_NAMES[i]] = counts[i];
  return out;
}
