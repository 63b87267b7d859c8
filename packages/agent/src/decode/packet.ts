/**
 * The decoded headers of one packet. One instance is reused for every packet so the
 * hot path allocates nothing; a consumer copies out what it keeps.
 *
 * Addresses are 32-bit words in network order: IPv4 uses word 0 only, IPv6 all four.
 */
export class DecodedPacket {
  tsMs = 0;
  wireLen = 0;
  family = 0; // 4 or 6
  ipProto = 0;
  src0 = 0; src1 = 0; src2 = 0; src3 = 0;
  dst0 = 0; dst1 = 0; dst2 = 0; dst3 = 0;
  /** Ports for TCP/UDP/SCTP; for ICMP the flow-keying type pair (see transport.ts). */
  sport = 0;
  dport = 0;
  tcpFlags = 0;
  /** Outermost 802.1Q VLAN id, or 0 when untagged. */
  vlan = 0;
  /** First fragment of a fragmented IP datagram (it still carries the ports). */
  firstFragment = false;
  /** Transport payload as captured: [payloadOff, payloadOff + payloadCapLen) in the packet buffer. */
  payloadOff = 0;
  payloadCapLen = 0;
  /** Transport payload length as the IP header declares it (the wire, not the snap length). */
  payloadLen = 0;
  /** Where the network layer starts and what it is (ethertype) while decoding. */
  netOff = 0;
  netType = 0;
}
