/**
 * Builds classic pcap and pcapng capture files in memory, for tests. Every length, magic
 * and version field can be overridden so tests can also write deliberately broken files.
 *
 * Classic pcap: https://www.tcpdump.org/manpages/pcap-savefile.5.html
 * pcapng: draft-ietf-opsawg-pcapng (SHB, IDB, EPB, SPB, obsolete PB).
 */

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;
/** Kuznetsov's patched libpcap: 24-byte record headers (ifindex, protocol, pkt_type, pad). */
export const PCAP_MAGIC_MODIFIED = 0xa1b2cd34;

export const PcapngBlockType = {
  SHB: 0x0a0d0d0a,
  IDB: 1,
  PB: 2,
  SPB: 3,
  NRB: 4,
  ISB: 5,
  EPB: 6,
  CUSTOM: 0x00000bad,
} as const;

export const PcapngOption = {
  END: 0,
  COMMENT: 1,
  IF_NAME: 2,
  IF_TSRESOL: 9,
  IF_TSOFFSET: 14,
} as const;

/** Concatenates byte arrays into one Buffer. */
export function concatBytes(parts: readonly Uint8Array[]): Buffer {
  return Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength))));
}

function u16(value: number, le: boolean): Buffer {
  const b = Buffer.alloc(2);
  if (le) b.writeUInt16LE(value & 0xffff);
  else b.writeUInt16BE(value & 0xffff);
  return b;
}

function u32(value: number, le: boolean): Buffer {
  const b = Buffer.alloc(4);
  if (le) b.writeUInt32LE(value >>> 0);
  else b.writeUInt32BE(value >>> 0);
  return b;
}

function pad4(data: Uint8Array): Buffer {
  const padded = Buffer.alloc((data.length + 3) & ~3);
  padded.set(data);
  return padded;
}

// ---------------------------------------------------------------- classic pcap

export interface PcapHeaderOptions {
  linkType: number;
  littleEndian?: boolean;
  /** Nanosecond timestamps (magic 0xa1b23c4d). */
  nanos?: boolean;
  /** Kuznetsov's format (magic 0xa1b2cd34), whose records carry 8 more header bytes. */
  modified?: boolean;
  snapLen?: number;
  versionMajor?: number;
  versionMinor?: number;
  /** Overrides the magic number (written in the file's byte order). */
  magic?: number;
}

export interface PcapPacket {
  data: Uint8Array;
  /** Seconds since the epoch. */
  tsSec?: number;
  /** Microseconds, or nanoseconds with `nanos`. */
  tsFrac?: number;
  /** Original length on the wire; default the data length. */
  origLen?: number;
  /** Overrides the captured-length field without changing the bytes written. */
  capLenField?: number;
}

export function pcapHeader(o: PcapHeaderOptions): Buffer {
  const le = o.littleEndian ?? true;
  return concatBytes([
    u32(o.magic ?? (o.modified ? PCAP_MAGIC_MODIFIED : o.nanos ? PCAP_MAGIC_NS : PCAP_MAGIC_US), le),
    u16(o.versionMajor ?? 2, le),
    u16(o.versionMinor ?? 4, le),
    u32(0, le), // thiszone
    u32(0, le), // sigfigs
    u32(o.snapLen ?? 262_144, le),
    u32(o.linkType, le),
  ]);
}

export function pcapRecord(p: PcapPacket, littleEndian = true, modified = false): Buffer {
  const le = littleEndian;
  return concatBytes([
    u32(p.tsSec ?? 1_700_000_000, le),
    u32(p.tsFrac ?? 0, le),
    u32(p.capLenField ?? p.data.length, le),
    u32(p.origLen ?? p.data.length, le),
    modified ? Buffer.alloc(8) : Buffer.alloc(0), // ifindex, protocol, pkt_type, pad
    p.data,
  ]);
}

/** A whole classic pcap file. */
export function pcapFile(o: PcapHeaderOptions, packets: readonly PcapPacket[]): Buffer {
  const le = o.littleEndian ?? true;
  return concatBytes([pcapHeader(o), ...packets.map((p) => pcapRecord(p, le, o.modified ?? false))]);
}

// ---------------------------------------------------------------- pcapng

export interface PcapngBlockOptions {
  littleEndian?: boolean;
  /** Overrides the leading block total length. */
  lengthField?: number;
  /** Overrides the trailing block total length. */
  trailerField?: number;
}

/** One option (code, length, value padded to 4 bytes); `lengthField` overrides the length. */
export function pcapngOption(code: number, value: Uint8Array, littleEndian = true, lengthField?: number): Buffer {
  return concatBytes([u16(code, littleEndian), u16(lengthField ?? value.length, littleEndian), pad4(value)]);
}

/** The opt_endofopt marker. */
export function pcapngEndOfOptions(): Buffer {
  return Buffer.alloc(4);
}

/** A generic block: type, total length, body padded to 4 bytes, total length again. */
export function pcapngBlock(type: number, body: Uint8Array, o: PcapngBlockOptions = {}): Buffer {
  const le = o.littleEndian ?? true;
  const padded = pad4(body);
  const total = padded.length + 12;
  return concatBytes([u32(type, le), u32(o.lengthField ?? total, le), padded, u32(o.trailerField ?? total, le)]);
}

export interface ShbOptions extends PcapngBlockOptions {
  versionMajor?: number;
  versionMinor?: number;
  /** Overrides the byte-order magic (0x1a2b3c4d), written in the block's byte order. */
  byteOrderMagic?: number;
  options?: readonly Uint8Array[];
}

export function pcapngShb(o: ShbOptions = {}): Buffer {
  const le = o.littleEndian ?? true;
  const body = concatBytes([
    u32(o.byteOrderMagic ?? 0x1a2b3c4d, le),
    u16(o.versionMajor ?? 1, le),
    u16(o.versionMinor ?? 0, le),
    Buffer.alloc(8, 0xff), // section length: -1, unspecified
    ...(o.options ?? []),
  ]);
  return pcapngBlock(PcapngBlockType.SHB, body, o);
}

export interface IdbOptions extends PcapngBlockOptions {
  linkType: number;
  snapLen?: number;
  /** Raw option bytes (see pcapngOption, tsresolOption); an end marker is not added. */
  options?: readonly Uint8Array[];
}

export function pcapngIdb(o: IdbOptions): Buffer {
  const le = o.littleEndian ?? true;
  const body = concatBytes([u16(o.linkType, le), u16(0, le), u32(o.snapLen ?? 0, le), ...(o.options ?? [])]);
  return pcapngBlock(PcapngBlockType.IDB, body, o);
}

/** if_tsresol: MSB clear means 10^-n seconds per unit, MSB set means 2^-n. */
export function tsresolOption(resol: number, littleEndian = true): Buffer {
  return pcapngOption(PcapngOption.IF_TSRESOL, Uint8Array.of(resol & 0xff), littleEndian);
}

/** if_tsoffset: seconds added to every timestamp of the interface (signed 64-bit). */
export function tsoffsetOption(seconds: bigint, littleEndian = true): Buffer {
  const b = Buffer.alloc(8);
  if (littleEndian) b.writeBigInt64LE(seconds);
  else b.writeBigInt64BE(seconds);
  return pcapngOption(PcapngOption.IF_TSOFFSET, b, littleEndian);
}

export interface EpbOptions extends PcapngBlockOptions {
  interfaceId?: number;
  /** Timestamp in interface units (64-bit). */
  timestamp?: bigint;
  data: Uint8Array;
  origLen?: number;
  /** Overrides the captured-length field without changing the bytes written. */
  capLenField?: number;
  options?: readonly Uint8Array[];
}

export function pcapngEpb(o: EpbOptions): Buffer {
  const le = o.littleEndian ?? true;
  const ts = o.timestamp ?? 1_700_000_000_000_000n;
  const body = concatBytes([
    u32(o.interfaceId ?? 0, le),
    u32(Number((ts >> 32n) & 0xffffffffn), le),
    u32(Number(ts & 0xffffffffn), le),
    u32(o.capLenField ?? o.data.length, le),
    u32(o.origLen ?? o.data.length, le),
    pad4(o.data),
    ...(o.options ?? []),
  ]);
  return pcapngBlock(PcapngBlockType.EPB, body, o);
}

export interface SpbOptions extends PcapngBlockOptions {
  data: Uint8Array;
  /** Original packet length; default the data length. */
  origLen?: number;
}

export function pcapngSpb(o: SpbOptions): Buffer {
  const le = o.littleEndian ?? true;
  return pcapngBlock(PcapngBlockType.SPB, concatBytes([u32(o.origLen ?? o.data.length, le), pad4(o.data)]), o);
}

/** The obsolete Packet Block (type 2): 16-bit interface id and drops count. */
export function pcapngPb(o: Omit<EpbOptions, 'options'> & { drops?: number }): Buffer {
  const le = o.littleEndian ?? true;
  const ts = o.timestamp ?? 1_700_000_000_000_000n;
  const body = concatBytes([
    u16(o.interfaceId ?? 0, le),
    u16(o.drops ?? 0, le),
    u32(Number((ts >> 32n) & 0xffffffffn), le),
    u32(Number(ts & 0xffffffffn), le),
    u32(o.capLenField ?? o.data.length, le),
    u32(o.origLen ?? o.data.length, le),
    pad4(o.data),
  ]);
  return pcapngBlock(PcapngBlockType.PB, body, o);
}

export interface PcapngFileOptions {
  linkType: number;
  littleEndian?: boolean;
  snapLen?: number;
  /** if_tsresol byte; default none (microseconds). */
  tsresol?: number;
}

/** One section, one interface, one EPB per packet. `timestamp` is in interface units. */
export function pcapngFile(
  o: PcapngFileOptions,
  packets: readonly { data: Uint8Array; timestamp?: bigint; origLen?: number }[],
): Buffer {
  const le = o.littleEndian ?? true;
  const idbOptions = o.tsresol === undefined ? [] : [tsresolOption(o.tsresol, le), pcapngEndOfOptions()];
  return concatBytes([
    pcapngShb({ littleEndian: le }),
    pcapngIdb({ linkType: o.linkType, snapLen: o.snapLen, littleEndian: le, options: idbOptions }),
    ...packets.map((p) => pcapngEpb({ ...p, littleEndian: le })),
  ]);
}

// ---------------------------------------------------------------- frames
// Just enough of each protocol to build valid packets to start from. Checksums are left 0:
// the agent does not verify them.

export const EtherTypeNum = { IPV4: 0x0800, ARP: 0x0806, VLAN: 0x8100, IPV6: 0x86dd, MPLS: 0x8847, PPPOE: 0x8864, QINQ: 0x88a8 } as const;

function be16(v: number): Buffer {
  return u16(v, false);
}

function be32(v: number): Buffer {
  return u32(v, false);
}

/** "10.0.0.1" or "2001:db8::1" to bytes. */
export function ipBytes(addr: string): Buffer {
  if (addr.includes(':')) {
    const [head, tail = ''] = addr.split('::');
    const words = (s: string): number[] => (s === '' ? [] : s.split(':').map((w) => parseInt(w, 16)));
    const h = words(head);
    const t = addr.includes('::') ? words(tail) : [];
    const all = [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t];
    return concatBytes(all.map((w) => be16(w)));
  }
  return Buffer.from(addr.split('.').map(Number));
}

/** Ethernet II, optionally with VLAN tags (outermost first; TPID 0x8100 unless given). */
export function ethernetFrame(etherType: number, payload: Uint8Array, vlans: readonly { id: number; tpid?: number }[] = []): Buffer {
  // Destination and source MACs, then per tag its TPID and TCI, then the inner ethertype.
  const tags = vlans.map((v) => concatBytes([be16(v.tpid ?? EtherTypeNum.VLAN), be16(v.id & 0x0fff)]));
  return concatBytes([Buffer.from('020000000002020000000001', 'hex'), ...tags, be16(etherType), payload]);
}

export interface Ipv4Options {
  src?: string;
  dst?: string;
  ttl?: number;
  id?: number;
  /** Fragment offset in 8-byte units. */
  fragOffset?: number;
  moreFragments?: boolean;
}

export function ipv4Packet(proto: number, payload: Uint8Array, o: Ipv4Options = {}): Buffer {
  const flagsFrag = (o.moreFragments ? 0x2000 : 0) | ((o.fragOffset ?? 0) & 0x1fff);
  return concatBytes([
    Uint8Array.of(0x45, 0),
    be16(20 + payload.length),
    be16(o.id ?? 1),
    be16(flagsFrag),
    Uint8Array.of(o.ttl ?? 64, proto),
    be16(0),
    ipBytes(o.src ?? '10.0.0.1'),
    ipBytes(o.dst ?? '10.0.0.2'),
    payload,
  ]);
}

export function ipv6Packet(nextHeader: number, payload: Uint8Array, o: { src?: string; dst?: string } = {}): Buffer {
  return concatBytes([
    be32(0x60000000),
    be16(payload.length),
    Uint8Array.of(nextHeader, 64),
    ipBytes(o.src ?? '2001:db8::1'),
    ipBytes(o.dst ?? '2001:db8::2'),
    payload,
  ]);
}

export function udpDatagram(sport: number, dport: number, payload: Uint8Array): Buffer {
  return concatBytes([be16(sport), be16(dport), be16(8 + payload.length), be16(0), payload]);
}

export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

export function tcpSegment(sport: number, dport: number, flags: number, payload: Uint8Array = new Uint8Array(0), seq = 1, ack = 0): Buffer {
  return concatBytes([be16(sport), be16(dport), be32(seq), be32(ack), Uint8Array.of(0x50, flags), be16(65535), be16(0), be16(0), payload]);
}

function dnsName(name: string): Buffer {
  return concatBytes([...name.split('.').map((label) => concatBytes([Uint8Array.of(label.length), Buffer.from(label, 'ascii')])), Uint8Array.of(0)]);
}

/** A DNS query (or, with `rcode`, a response without answers). */
export function dnsMessage(name: string, qtype = 1, rcode?: number): Buffer {
  const flags = rcode === undefined ? 0x0100 : 0x8180 | (rcode & 15);
  return concatBytes([be16(0x1234), be16(flags), be16(1), be16(0), be16(0), be16(0), dnsName(name), be16(qtype), be16(1)]);
}

/** A TLS 1.2 record holding a ClientHello with server_name and ALPN extensions. */
export function tlsClientHello(sni: string, alpn: readonly string[] = []): Buffer {
  const host = Buffer.from(sni, 'ascii');
  const sniList = concatBytes([Uint8Array.of(0), be16(host.length), host]);
  const sniExt = concatBytes([be16(0), be16(sniList.length + 2), be16(sniList.length), sniList]);
  const protos = concatBytes(alpn.map((p) => concatBytes([Uint8Array.of(p.length), Buffer.from(p, 'ascii')])));
  const alpnExt = alpn.length === 0 ? Buffer.alloc(0) : concatBytes([be16(16), be16(protos.length + 2), be16(protos.length), protos]);
  const extensions = concatBytes([sniExt, alpnExt]);
  const hello = concatBytes([
    be16(0x0303),
    Buffer.alloc(32, 7), // random
    Uint8Array.of(0), // session id
    be16(4), be16(0x1301), be16(0xc02f), // cipher suites
    Uint8Array.of(1, 0), // compression: null
    be16(extensions.length),
    extensions,
  ]);
  const handshake = concatBytes([Uint8Array.of(1, hello.length >> 16, (hello.length >> 8) & 255, hello.length & 255), hello]);
  return concatBytes([Uint8Array.of(0x16, 3, 1), be16(handshake.length), handshake]);
}

export function httpRequest(method: string, path: string, host: string): Buffer {
  return Buffer.from(`${method} ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: nta-test\r\nAccept: */*\r\n\r\n`, 'ascii');
}

/** LINKTYPE_LINUX_SLL (cooked v1) header in front of a network-layer packet. */
export function linuxSllFrame(protocol: number, payload: Uint8Array): Buffer {
  return concatBytes([be16(0), be16(1), be16(6), Buffer.from('020000000001', 'hex'), be16(0), be16(protocol), payload]);
}

/** LINKTYPE_LINUX_SLL2 header in front of a network-layer packet. */
export function linuxSll2Frame(protocol: number, payload: Uint8Array): Buffer {
  return concatBytes([be16(protocol), be16(0), be32(1), be16(1), Uint8Array.of(0, 6), Buffer.from('0200000000010000', 'hex'), payload]);
}

/** LINKTYPE_NULL (family in host order, little-endian here) or LINKTYPE_LOOP (network order). */
export function loopbackFrame(family: number, payload: Uint8Array, networkOrder = false): Buffer {
  return concatBytes([u32(family, !networkOrder), payload]);
}

/** MPLS label stack (bottom-of-stack set on the last label) in front of an IP packet. */
export function mplsStack(labels: readonly number[], payload: Uint8Array): Buffer {
  return concatBytes([...labels.map((label, i) => be32(((label & 0xfffff) << 12) | (i === labels.length - 1 ? 0x100 : 0) | 64)), payload]);
}

/** PPPoE session header + PPP protocol (0x0021 IPv4, 0x0057 IPv6). */
export function pppoeSession(pppProtocol: number, payload: Uint8Array): Buffer {
  return concatBytes([Uint8Array.of(0x11, 0), be16(1), be16(payload.length + 2), be16(pppProtocol), payload]);
}
