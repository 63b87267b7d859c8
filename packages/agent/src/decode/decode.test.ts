import { describe, expect, it } from 'vitest';
import { LinkType } from '../capture/packet-sink.js';
import {
  bytes, ethernet, icmp, ipv4Packet, ipv6Packet, linuxSll, linuxSll2, tcp, udp,
} from '../../test-support/packets.js';
import { decodePacket, DecodedPacket, SkipReason } from './index.js';

function decode(linkType: number, frame: number[]): { reason: number; pkt: DecodedPacket } {
  const pkt = new DecodedPacket();
  const buf = bytes(frame);
  return { reason: decodePacket(linkType, buf, 0, buf.length, pkt), pkt };
}

const IPV4 = 0x0800;
const IPV6 = 0x86dd;

describe('decode', () => {
  it('decode - Ethernet IPv4 TCP gives addresses, ports, flags and payload', () => {
    const { reason, pkt } = decode(LinkType.ETHERNET, ethernet(IPV4, ipv4Packet('10.0.0.1', '192.168.1.2', tcp(40000, 443, 'PA', [1, 2, 3]))));
    expect(reason).toBe(SkipReason.NONE);
    expect(pkt.family).toBe(4);
    expect(pkt.ipProto).toBe(6);
    expect(pkt.src0).toBe(0x0a000001);
    expect(pkt.dst0).toBe(0xc0a80102);
    expect([pkt.sport, pkt.dport]).toEqual([40000, 443]);
    expect(pkt.tcpFlags).toBe(0x18);
    expect(pkt.payloadLen).toBe(3);
    expect(pkt.payloadCapLen).toBe(3);
  });

  it('decode - 802.1Q and QinQ tags are skipped and the outer VLAN id kept', () => {
    const frame = ethernet(IPV4, ipv4Packet('1.1.1.1', '2.2.2.2', udp(5000, 53)), [
      { tpid: 0x88a8, vid: 100 },
      { tpid: 0x8100, vid: 200 },
    ]);
    const { reason, pkt } = decode(LinkType.ETHERNET, frame);
    expect(reason).toBe(SkipReason.NONE);
    expect(pkt.vlan).toBe(100);
    expect([pkt.sport, pkt.dport]).toEqual([5000, 53]);
  });

  it('decode - Linux cooked SLL and SLL2 reach the IP layer', () => {
    const ip = ipv4Packet('10.1.1.1', '10.2.2.2', udp(1, 2));
    expect(decode(LinkType.LINUX_SLL, linuxSll(IPV4, ip)).reason).toBe(SkipReason.NONE);
    const sll2 = decode(LinkType.LINUX_SLL2, linuxSll2(IPV4, ip));
    expect(sll2.reason).toBe(SkipReason.NONE);
    expect(sll2.pkt.dst0).toBe(0x0a020202);
  });

  it('decode - raw IP and BSD loopback in either byte order', () => {
    const ip = ipv4Packet('10.1.1.1', '10.2.2.2', udp(1, 2));
    expect(decode(LinkType.RAW, ip).reason).toBe(SkipReason.NONE);
    expect(decode(LinkType.IPV4, ip).reason).toBe(SkipReason.NONE);
    expect(decode(LinkType.NULL, [2, 0, 0, 0, ...ip]).reason).toBe(SkipReason.NONE); // little-endian AF_INET
    expect(decode(LinkType.NULL, [0, 0, 0, 2, ...ip]).reason).toBe(SkipReason.NONE); // big-endian AF_INET
    const ip6 = ipv6Packet('2001:db8::1', '2001:db8::2', udp(1, 2));
    expect(decode(LinkType.NULL, [30, 0, 0, 0, ...ip6]).pkt.family).toBe(6); // macOS AF_INET6
    expect(decode(LinkType.LOOP, [0, 0, 0, 24, ...ip6]).reason).toBe(SkipReason.NONE); // OpenBSD AF_INET6
    expect(decode(LinkType.RAW, [0x55, ...ip.slice(1)]).reason).toBe(SkipReason.BAD_VERSION);
  });

  it('decode - IPv6 walks extension headers to the transport', () => {
    const hopByHop = { type: 0, bytes: [0, 1, 4, 0, 0, 0, 0] };
    const destOpts = { type: 60, bytes: [0, 1, 4, 0, 0, 0, 0] };
    const { reason, pkt } = decode(LinkType.ETHERNET, ethernet(IPV6, ipv6Packet('2001:db8::1', 'fe80::2', tcp(1234, 80, 'S'), [hopByHop, destOpts])));
    expect(reason).toBe(SkipReason.NONE);
    expect(pkt.ipProto).toBe(6);
    expect([pkt.src0, pkt.src3]).toEqual([0x20010db8, 1]);
    expect(pkt.dst0).toBe(0xfe800000);
    expect([pkt.sport, pkt.dport, pkt.tcpFlags]).toEqual([1234, 80, 2]);
  });

  it('decode - non-first IPv4 and IPv6 fragments are counted as fragments with their protocol', () => {
    const v4 = decode(LinkType.RAW, ipv4Packet('1.1.1.1', '2.2.2.2', udp(1, 2, [9, 9]), { fragOffset: 185 }));
    expect(v4.reason).toBe(SkipReason.IP_FRAGMENT);
    expect([v4.pkt.family, v4.pkt.ipProto]).toEqual([4, 17]);
    const first = decode(LinkType.RAW, ipv4Packet('1.1.1.1', '2.2.2.2', udp(7, 8), { moreFragments: true }));
    expect(first.reason).toBe(SkipReason.NONE);
    expect(first.pkt.firstFragment).toBe(true);
    const fragHeader = { type: 44, bytes: [0, 0x05, 0x00, 0, 0, 0, 1] }; // offset 160, last fragment
    const v6 = decode(LinkType.RAW, ipv6Packet('::1', '::2', udp(1, 2), [fragHeader]));
    expect(v6.reason).toBe(SkipReason.IP_FRAGMENT);
    expect(v6.pkt.ipProto).toBe(17);
  });

  it('decode - ICMP echo request and reply are keyed as a pair', () => {
    const req = decode(LinkType.RAW, ipv4Packet('1.1.1.1', '2.2.2.2', icmp(8, 0))).pkt;
    expect([req.sport, req.dport]).toEqual([8, 0]);
    const reply = decode(LinkType.RAW, ipv4Packet('2.2.2.2', '1.1.1.1', icmp(0, 0))).pkt;
    expect([reply.sport, reply.dport]).toEqual([0, 8]);
    const unreachable = decode(LinkType.RAW, ipv4Packet('2.2.2.2', '1.1.1.1', icmp(3, 3))).pkt;
    expect([unreachable.sport, unreachable.dport]).toEqual([3, 3]);
  });

  it('decode - MPLS and PPPoE shims reach the IP layer', () => {
    const ip = ipv4Packet('10.0.0.1', '10.0.0.2', udp(1, 2));
    const mpls = decode(LinkType.ETHERNET, ethernet(0x8847, [0, 1, 0, 64, 0, 2, 1, 64, ...ip]));
    expect(mpls.reason).toBe(SkipReason.NONE);
    const pppoe = decode(LinkType.ETHERNET, ethernet(0x8864, [0x11, 0, 0, 1, 0, ip.length + 2, 0, 0x21, ...ip]));
    expect(pppoe.reason).toBe(SkipReason.NONE);
  });

  it('decode - ARP, other ethertypes and unknown link types are skipped by reason', () => {
    expect(decode(LinkType.ETHERNET, ethernet(0x0806, new Array(28).fill(0))).reason).toBe(SkipReason.ARP);
    expect(decode(LinkType.ETHERNET, ethernet(0x88cc, [1, 2, 3])).reason).toBe(SkipReason.NON_IP);
    expect(decode(105, [1, 2, 3, 4]).reason).toBe(SkipReason.UNSUPPORTED_LINK_TYPE);
  });

  it('decode - every truncation of a valid frame is skipped by reason, never thrown', () => {
    const frame = ethernet(IPV4, ipv4Packet('10.0.0.1', '10.0.0.2', tcp(1, 2, 'S')));
    const seen = new Set<number>();
    for (let len = 0; len < 14 + 20 + 14; len++) {
      const pkt = new DecodedPacket();
      const reason = decodePacket(LinkType.ETHERNET, bytes(frame), 0, len, pkt);
      expect(reason).not.toBe(SkipReason.NONE);
      seen.add(reason);
    }
    expect([...seen].sort((a, b) => a - b)).toEqual([SkipReason.TRUNCATED_LINK, SkipReason.TRUNCATED_IPV4, SkipReason.TRUNCATED_TCP, SkipReason.EMPTY_PACKET].sort((a, b) => a - b));
  });

  it('decode - a snap-length cut keeps the wire payload length from the IP header', () => {
    const frame = ethernet(IPV4, ipv4Packet('10.0.0.1', '10.0.0.2', udp(53, 5353, new Array(500).fill(7))));
    const pkt = new DecodedPacket();
    expect(decodePacket(LinkType.ETHERNET, bytes(frame), 0, 14 + 20 + 8 + 10, pkt)).toBe(SkipReason.NONE);
    expect(pkt.payloadLen).toBe(500);
    expect(pkt.payloadCapLen).toBe(10);
  });

  it('decode - bogus IPv4 header length and total length are reported', () => {
    const ip = ipv4Packet('10.0.0.1', '10.0.0.2', udp(1, 2));
    expect(decode(LinkType.RAW, [0x44, ...ip.slice(1)]).reason).toBe(SkipReason.BAD_IPV4_HEADER);
    const shortTotal = [...ip];
    shortTotal[3] = 10;
    expect(decode(LinkType.RAW, shortTotal).reason).toBe(SkipReason.BAD_IPV4_HEADER);
    const bigIhl = [...ip];
    bigIhl[0] = 0x4f;
    expect(decode(LinkType.RAW, bigIhl).reason).toBe(SkipReason.TRUNCATED_IPV4);
  });
});
