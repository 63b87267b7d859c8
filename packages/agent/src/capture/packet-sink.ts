/** LINKTYPE_* values from pcap/pcapng headers (tcpdump.org/linktypes.html) that the agent decodes. */
export const LinkType = {
  NULL: 0, // BSD loopback, host byte order family
  ETHERNET: 1,
  RAW_BSD_12: 12, // DLT_RAW on some BSDs, as written by old captures
  RAW_BSD_14: 14,
  RAW: 101,
  LOOP: 108, // OpenBSD loopback, network byte order family
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;
export type LinkType = (typeof LinkType)[keyof typeof LinkType];

/**
 * Where a packet source (file reader or live capture) delivers packets. `buf` is valid
 * only during the call: both libpcap and the file reader reuse it for the next packet,
 * so a sink copies out what it keeps. `tsMs` is the capture time in epoch milliseconds
 * (fractional for sub-millisecond resolution). `wireLen` is the original length on the
 * wire, `capLen` what was captured (at most the snap length).
 */
export interface PacketSink {
  packet(linkType: number, tsMs: number, buf: Uint8Array, off: number, capLen: number, wireLen: number): void;
}
