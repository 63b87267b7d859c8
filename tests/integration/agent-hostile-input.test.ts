/**
 * The agent against hostile input: real packets mutated by the hundred thousand and fed
 * to FlowPipeline directly, mutated pcap/pcapng files read with readCaptureFile, and
 * broken files given to the CLI. Nothing may throw (except CaptureFormatError for files
 * that are not captures), hang, or hold memory without bound.
 *
 * Everything random comes from one seeded PRNG; the seed is printed, and
 * NTA_FUZZ_SEED=<seed> replays a run exactly.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DecodedPacket, FlowPipeline, decodePacket, readCaptureFile, type FileReadResult } from '../../packages/agent/src/index.js';
import { FlowRecord } from '../../packages/shared/src/index.js';
import * as W from '../helpers/pcap-writer.js';
import { collectGarbage } from '../helpers/gc.js';
import { CORPUS_DIR } from '../helpers/corpus.js';

const SEED = process.env.NTA_FUZZ_SEED !== undefined ? Number(process.env.NTA_FUZZ_SEED) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
console.info(`agent-hostile-input: seed ${SEED} (replay with NTA_FUZZ_SEED=${SEED})`);

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CLI = process.env.NTA_AGENT_CLI ?? join(REPO, 'packages/agent/dist/cli.js');

/** mulberry32: small, fast, and the same sequence everywhere for a given seed. */
class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  int(n: number): number {
    return n <= 0 ? 0 : this.u32() % n;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  chance(p: number): boolean {
    return this.u32() < p * 4294967296;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 255;
    return b;
  }
}

function memoryInUse(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

// ------------------------------------------------------------------ packets to start from

interface Sample {
  linkType: number;
  data: Uint8Array;
  origin: string;
}

/** Frames the corpus is short of: DNS, TLS ClientHello and HTTP on every link type the agent decodes. */
function syntheticSamples(): Sample[] {
  const dns = W.udpDatagram(40000, 53, W.dnsMessage('www.example.com', 1));
  const dnsReply = W.udpDatagram(53, 40000, W.dnsMessage('www.example.com', 28, 3));
  const mdns = W.udpDatagram(5353, 5353, W.dnsMessage('printer.local', 12));
  const dnsMsg = W.dnsMessage('a.very.long.name.with.many.labels.example.org', 16);
  const dnsTcp = W.tcpSegment(40001, 53, W.TcpFlag.PSH | W.TcpFlag.ACK, W.concatBytes([Uint8Array.of(dnsMsg.length >> 8, dnsMsg.length & 255), dnsMsg]));
  const tls = W.tcpSegment(40002, 443, W.TcpFlag.PSH | W.TcpFlag.ACK, W.tlsClientHello('secure.example.net', ['h2', 'http/1.1']));
  const http = W.tcpSegment(40003, 80, W.TcpFlag.PSH | W.TcpFlag.ACK, W.httpRequest('GET', '/index.html', 'www.example.com'));
  const syn = W.tcpSegment(40004, 22, W.TcpFlag.SYN);
  const icmpEcho = Buffer.from('0800f7ff00010001', 'hex');
  const icmp6Echo = Buffer.from('80007fff00010001', 'hex');
  const v4 = (proto: number, l4: Uint8Array): Buffer => W.ipv4Packet(proto, l4);
  const v6 = (next: number, l4: Uint8Array): Buffer => W.ipv6Packet(next, l4);
  const eth = (type: number, l3: Uint8Array, vlans: { id: number; tpid?: number }[] = []): Buffer => W.ethernetFrame(type, l3, vlans);
  const E = W.EtherTypeNum;
  const frames: [number, Buffer, string][] = [
    [1, eth(E.IPV4, v4(17, dns)), 'eth/ipv4/udp/dns-query'],
    [1, eth(E.IPV4, v4(17, dnsReply)), 'eth/ipv4/udp/dns-reply'],
    [1, eth(E.IPV6, v6(17, mdns)), 'eth/ipv6/udp/mdns'],
    [1, eth(E.IPV4, v4(6, dnsTcp)), 'eth/ipv4/tcp/dns'],
    [1, eth(E.IPV4, v4(6, tls), [{ id: 100 }]), 'eth/vlan/ipv4/tcp/tls-client-hello'],
    [1, eth(E.IPV6, v6(6, tls)), 'eth/ipv6/tcp/tls-client-hello'],
    [1, eth(E.IPV4, v4(6, http)), 'eth/ipv4/tcp/http'],
    [1, eth(E.IPV4, v4(6, W.tcpSegment(40005, 443, 0x18, W.tlsClientHello('x', [])))), 'eth/ipv4/tcp/tls-short-sni'],
    [1, eth(E.IPV4, v4(6, W.tcpSegment(40006, 8443, 0x18, W.tlsClientHello('a'.repeat(200) + '.example', ['h3', 'h2', 'spdy/3', 'http/1.1', 'x'.repeat(60)])))), 'eth/ipv4/tcp/tls-long'],
    [1, eth(E.IPV6, v6(6, W.tcpSegment(40007, 443, 0x18, W.tlsClientHello('api.example.org', ['h2']).subarray(0, 60)))), 'eth/ipv6/tcp/tls-truncated'],
    [1, eth(E.IPV4, v4(6, syn), [{ id: 10, tpid: E.QINQ }, { id: 20 }]), 'eth/qinq/ipv4/tcp-syn'],
    [1, eth(E.MPLS, W.mplsStack([100, 200], v4(17, dns))), 'eth/mpls/ipv4/udp/dns'],
    [1, eth(E.PPPOE, W.pppoeSession(0x0057, v6(58, icmp6Echo))), 'eth/pppoe/ipv6/icmpv6'],
    [1, eth(E.IPV4, W.ipv4Packet(17, dns.subarray(0, 16), { moreFragments: true })), 'eth/ipv4/first-fragment'],
    [1, eth(E.IPV4, W.ipv4Packet(17, dns.subarray(16), { fragOffset: 2 })), 'eth/ipv4/fragment'],
    [1, eth(E.IPV4, v4(132, Buffer.from('0b5a0b5a000000000000000001000014', 'hex'))), 'eth/ipv4/sctp'],
    [1, eth(E.IPV4, v4(47, Buffer.from('00000800', 'hex'))), 'eth/ipv4/gre'],
    [113, W.linuxSllFrame(E.IPV4, v4(1, icmpEcho)), 'sll/ipv4/icmp'],
    [113, W.linuxSllFrame(E.IPV4, v4(6, tls)), 'sll/ipv4/tcp/tls'],
    [276, W.linuxSll2Frame(E.IPV6, v6(17, dns)), 'sll2/ipv6/udp/dns'],
    [0, W.loopbackFrame(2, v4(6, dnsTcp)), 'null/ipv4/tcp/dns'],
    [0, W.loopbackFrame(30, v6(6, http)), 'null/ipv6/tcp/http'],
    [108, W.loopbackFrame(24, v6(17, dns), true), 'loop/ipv6/udp/dns'],
    [101, v4(6, http), 'raw/ipv4/tcp/http'],
    [228, v4(17, dnsReply), 'ipv4/udp/dns'],
    [229, v6(0, W.concatBytes([Uint8Array.of(44, 0, 0, 0, 0, 0, 0, 0), Uint8Array.of(17, 0, 0, 1, 0, 0, 0, 7), dns])), 'ipv6/hop-by-hop/fragment/udp'],
    [12, v4(6, syn), 'raw12/ipv4/tcp-syn'],
  ];
  return frames.map(([linkType, data, origin]) => ({ linkType, data, origin }));
}

/** Files rich in what the L7 hints parse: more of their packets are taken. */
const L7_RICH_FILES = /dns|tls|ssl|http|quic|smtp|imap|pop|ftp|rtsp|sip/i;

/** The first packets of every corpus file: thousands of real frames over some 30 link types. */
async function corpusSamples(perFile: number): Promise<Sample[]> {
  if (!existsSync(CORPUS_DIR)) return [];
  const out: Sample[] = [];
  for (const file of readdirSync(CORPUS_DIR).filter((f) => /\.pcap(ng)?$/.test(f)).sort()) {
    let n = 0;
    const limit = L7_RICH_FILES.test(file) ? 40 : perFile;
    try {
      await readCaptureFile(join(CORPUS_DIR, file), {
        packet(linkType, _ts, buf, off, capLen) {
          if (n++ < limit && capLen > 0) out.push({ linkType, data: buf.slice(off, off + capLen), origin: `${file}#${n}` });
        },
      });
    } catch {
      // Not a capture: nothing to take from it.
    }
  }
  return out;
}

// ------------------------------------------------------------------ where the length fields are

interface Field {
  off: number;
  /** Bytes, big-endian; 0.5 = high nibble, -0.5 = low nibble. */
  width: 0.5 | -0.5 | 1 | 2 | 3;
  name: string;
}

const isDnsPort = (p: number): boolean => p === 53 || p === 5353 || p === 5355;

interface Layout {
  fields: Field[];
  /** Where the client's port is, or -1: mutants of DNS/TLS fields get a fresh one, so each starts a
   * new flow and reaches the L7 parsers (which look only at the first packets of a flow). */
  clientPortOff: number;
  /** The transport payload [payloadOff, payloadEnd) when the frame decodes, else empty. */
  payloadOff: number;
  payloadEnd: number;
}

/** Finds the IP, transport, DNS and TLS length fields of a decodable frame. */
function lengthFields(s: Sample): Layout {
  const d = s.data;
  const pkt = new DecodedPacket();
  const reason = decodePacket(s.linkType, d, 0, d.length, pkt);
  const fields: Field[] = [];
  const layout: Layout = { fields, clientPortOff: -1, payloadOff: 0, payloadEnd: 0 };
  if (pkt.family === 0) return layout;
  const n = pkt.netOff;
  let t = -1;
  if (pkt.family === 4) {
    fields.push({ off: n, width: -0.5, name: 'ipv4.ihl' }, { off: n + 2, width: 2, name: 'ipv4.totalLength' });
    fields.push({ off: n + 6, width: 2, name: 'ipv4.fragment' }, { off: n + 9, width: 1, name: 'ipv4.protocol' });
    t = n + (d[n] & 15) * 4;
  } else {
    fields.push({ off: n + 4, width: 2, name: 'ipv6.payloadLength' }, { off: n + 6, width: 1, name: 'ipv6.nextHeader' });
    if (d[n + 6] === 6 || d[n + 6] === 17) t = n + 40;
  }
  if (reason !== 0 || t < 0) return layout;
  const tcp = pkt.ipProto === 6;
  if (tcp || pkt.ipProto === 17) {
    const serverSide = (p: number): boolean => isDnsPort(p) || p === 80 || p === 443;
    layout.clientPortOff = serverSide(pkt.sport) && !serverSide(pkt.dport) ? t + 2 : t;
  }
  if (tcp) fields.push({ off: t + 12, width: 0.5, name: 'tcp.dataOffset' });
  if (pkt.ipProto === 17) fields.push({ off: t + 4, width: 2, name: 'udp.length' });
  const p = pkt.payloadOff;
  const end = p + pkt.payloadCapLen;
  layout.payloadOff = p;
  layout.payloadEnd = end;
  if ((pkt.ipProto === 17 && (isDnsPort(pkt.sport) || isDnsPort(pkt.dport))) || (tcp && (pkt.sport === 53 || pkt.dport === 53))) {
    const m = tcp ? p + 2 : p;
    if (tcp) fields.push({ off: p, width: 2, name: 'dns.tcpLength' });
    if (end - m >= 12) {
      for (const [i, c] of ['qd', 'an', 'ns', 'ar'].entries()) fields.push({ off: m + 4 + 2 * i, width: 2, name: `dns.${c}count` });
      for (let q = m + 12, labels = 0; q < end && d[q] !== 0 && d[q] < 64 && labels < 32; q += d[q] + 1, labels++) {
        fields.push({ off: q, width: 1, name: 'dns.labelLength' });
      }
    }
  }
  if (tcp && end - p >= 6 && d[p] === 0x16) tlsFields(d, p, end, fields);
  return layout;
}

function tlsFields(d: Uint8Array, p: number, end: number, fields: Field[]): void {
  const be16 = (o: number): number => (d[o] << 8) | d[o + 1];
  fields.push({ off: p + 3, width: 2, name: 'tls.recordLength' });
  if (end - p < 9) return;
  fields.push({ off: p + 6, width: 3, name: 'tls.handshakeLength' });
  let q = p + 9 + 2 + 32;
  if (q >= end) return;
  fields.push({ off: q, width: 1, name: 'tls.sessionIdLength' });
  q += 1 + d[q];
  if (q + 2 > end) return;
  fields.push({ off: q, width: 2, name: 'tls.cipherSuitesLength' });
  q += 2 + be16(q);
  if (q >= end) return;
  fields.push({ off: q, width: 1, name: 'tls.compressionLength' });
  q += 1 + d[q];
  if (q + 2 > end) return;
  fields.push({ off: q, width: 2, name: 'tls.extensionsLength' });
  q += 2;
  for (let i = 0; q + 4 <= end && i < 32; i++) {
    const type = be16(q);
    const len = be16(q + 2);
    fields.push({ off: q + 2, width: 2, name: 'tls.extensionLength' });
    if (type === 0 && q + 9 <= end) fields.push({ off: q + 4, width: 2, name: 'tls.sniListLength' }, { off: q + 7, width: 2, name: 'tls.sniNameLength' });
    if (type === 16 && q + 6 <= end) {
      fields.push({ off: q + 4, width: 2, name: 'tls.alpnListLength' });
      for (let a = q + 6; a < q + 4 + len && a < end; a += 1 + d[a]) fields.push({ off: a, width: 1, name: 'tls.alpnLength' });
    }
    q += 4 + len;
  }
}

function extremeValue(rng: Rng, width: Field['width'], original: number): number {
  switch (width) {
    case 0.5:
    case -0.5:
      return rng.pick([0, 1, 4, 5, 15, rng.int(16)]);
    case 1:
      return rng.pick([0, 1, 2, 0x3f, 0x40, 0x7f, 0x80, 0xc0, 0xff, (original + 1) & 0xff, (original - 1) & 0xff, rng.int(256)]);
    case 2:
      return rng.pick([0, 1, 2, 7, 8, 0xff, 0x100, 0x7fff, 0x8000, 0xfffe, 0xffff, (original + 1) & 0xffff, (original - 1) & 0xffff, rng.int(65536)]);
    default:
      return rng.pick([0, 1, 0xff, 0xffff, 0xffffff, (original + 1) & 0xffffff, rng.int(1 << 24)]);
  }
}

function writeField(d: Uint8Array, f: Field, v: number): void {
  if (f.off + Math.ceil(Math.abs(f.width)) > d.length) return;
  if (f.width === 0.5) d[f.off] = (d[f.off] & 0x0f) | ((v & 15) << 4);
  else if (f.width === -0.5) d[f.off] = (d[f.off] & 0xf0) | (v & 15);
  else for (let i = 0; i < f.width; i++) d[f.off + i] = (v >>> (8 * (f.width - 1 - i))) & 255;
}

function readField(d: Uint8Array, f: Field): number {
  if (f.width === 0.5) return d[f.off] >> 4;
  if (f.width === -0.5) return d[f.off] & 15;
  let v = 0;
  for (let i = 0; i < f.width; i++) v = v * 256 + (d[f.off + i] ?? 0);
  return v;
}

// ------------------------------------------------------------------ mutators

const LINK_TYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276] as const;
const ODD_LINK_TYPES = [2, 9, 50, 105, 127, 0xffff, 0x7fffffff, 0xffffffff, -1, 2 ** 40];
const VLAN_TPIDS = [0x8100, 0x88a8, 0x9100, 0x9200];
const INTERESTING_BYTES = [0, 1, 0x7f, 0x80, 0xff, 0x06, 0x11, 0x45, 0x60, 0x81, 0x88, 0xaa, 0x16];

/** One fed packet: bytes, link type and lengths handed to FlowPipeline.packet. */
interface Mutant {
  linkType: number;
  data: Uint8Array;
  capLen: number;
  kind: string;
}

function mutateFlip(rng: Rng, s: Sample): Mutant {
  const d = Uint8Array.from(s.data);
  for (let k = 1 + rng.int(8); k > 0; k--) {
    const i = rng.int(d.length);
    d[i] ^= 1 << rng.int(8);
  }
  return { linkType: s.linkType, data: d, capLen: d.length, kind: 'bit-flip' };
}

function mutateOverwrite(rng: Rng, s: Sample): Mutant {
  const d = Uint8Array.from(s.data);
  for (let k = 1 + rng.int(16); k > 0; k--) d[rng.int(d.length)] = rng.chance(0.5) ? rng.pick(INTERESTING_BYTES) : rng.int(256);
  return { linkType: s.linkType, data: d, capLen: d.length, kind: 'byte-overwrite' };
}

function mutateTruncate(rng: Rng, s: Sample): Mutant {
  return { linkType: s.linkType, data: s.data, capLen: rng.int(s.data.length + 1), kind: 'truncate' };
}

function mutateLengthField(rng: Rng, s: Sample, layout: Layout): Mutant {
  const fields = layout.fields;
  const d = Uint8Array.from(s.data);
  const f = rng.pick(fields);
  if ((f.name.startsWith('dns.') || f.name.startsWith('tls.')) && layout.clientPortOff >= 0) {
    writeField(d, { off: layout.clientPortOff, width: 2, name: 'port' }, 1024 + rng.int(64_512));
  }
  writeField(d, f, extremeValue(rng, f.width, readField(d, f)));
  if (rng.chance(0.3)) {
    const g = rng.pick(fields);
    writeField(d, g, extremeValue(rng, g.width, readField(d, g)));
  }
  return { linkType: s.linkType, data: d, capLen: rng.chance(0.2) ? rng.int(d.length + 1) : d.length, kind: `length-field ${f.name}` };
}

const PAYLOAD_BYTES = [0, 0x0d, 0x0a, 0x20, 0x3a, 0x2e, 0x3f, 0xc0, 0xff, 0x16, 0x03];

/** Damage inside the payload only (HTTP request lines, DNS names, TLS bodies), as a new flow. */
function mutatePayload(rng: Rng, s: Sample, layout: Layout): Mutant {
  const d = Uint8Array.from(s.data);
  const span = layout.payloadEnd - layout.payloadOff;
  for (let k = 1 + rng.int(6); k > 0; k--) d[layout.payloadOff + rng.int(span)] = rng.chance(0.6) ? rng.pick(PAYLOAD_BYTES) : rng.int(256);
  if (layout.clientPortOff >= 0) writeField(d, { off: layout.clientPortOff, width: 2, name: 'port' }, 1024 + rng.int(64_512));
  const capLen = rng.chance(0.3) ? layout.payloadOff + rng.int(span + 1) : d.length;
  return { linkType: s.linkType, data: d, capLen, kind: 'l7-payload' };
}

function mutateLinkType(rng: Rng, s: Sample): Mutant {
  const linkType = rng.chance(0.7) ? rng.pick(LINK_TYPES) : rng.chance(0.5) ? rng.pick(ODD_LINK_TYPES) : rng.int(300);
  return { linkType, data: s.data, capLen: s.data.length, kind: 'link-type' };
}

function randomPacket(rng: Rng): Mutant {
  const data = rng.bytes(rng.int(rng.chance(0.9) ? 200 : 1600));
  const linkType = rng.chance(0.9) ? rng.pick(LINK_TYPES) : rng.int(300);
  if (data.length > 0 && rng.chance(0.5)) data[linkType === 1 ? Math.min(14, data.length - 1) : 0] = rng.pick([0x45, 0x46, 0x4f, 0x60, 0x6f]);
  return { linkType, data, capLen: data.length, kind: 'random-bytes' };
}

/** Ethernet shims stacked deep: VLAN tags, MPLS labels, PPPoE, LLC/SNAP nested in 802.1Q. */
function mutateShim(rng: Rng, s: Sample): Mutant {
  const head = Buffer.from(s.data.subarray(0, 12));
  const rest = s.data.length > 14 ? Buffer.from(s.data.subarray(14)) : rng.bytes(rng.int(64));
  const be16 = (v: number): Buffer => Buffer.from([v >> 8, v & 255]);
  const parts: Buffer[] = [head];
  let kind: string;
  switch (rng.int(4)) {
    case 0: {
      const tags = 1 + rng.int(12);
      for (let i = 0; i < tags; i++) parts.push(be16(rng.pick(VLAN_TPIDS)), be16(rng.int(4096)));
      parts.push(be16(rng.pick([0x0800, 0x86dd, 0x8847, 0x8864, 0x0806, 0x05dc, rng.int(65536)])));
      kind = `vlan x${tags}`;
      break;
    }
    case 1: {
      const labels = 1 + rng.int(20);
      parts.push(be16(0x8847));
      for (let i = 0; i < labels; i++) parts.push(Buffer.from([rng.int(256), rng.int(256), rng.chance(0.1) ? 1 : 0, 64]));
      kind = `mpls x${labels}`;
      break;
    }
    case 2:
      parts.push(be16(0x8864), Buffer.from([0x11, 0, 0, 1]), be16(rng.int(65536)), be16(rng.pick([0x0021, 0x0057, 0xc021, rng.int(65536)])));
      kind = 'pppoe';
      break;
    default: {
      // 802.3 length, LLC/SNAP carrying 802.1Q, whose inner type is again an 802.3 length: nesting.
      const levels = rng.chance(0.05) ? 5000 + rng.int(17000) : 1 + rng.int(64);
      parts.push(be16(0x0040));
      const level = Buffer.from('aaaa03000000810000010040', 'hex');
      for (let i = 0; i < levels; i++) parts.push(level);
      kind = `llc-snap-vlan nesting x${levels}`;
    }
  }
  parts.push(rest);
  const data = Buffer.concat(parts);
  return { linkType: 1, data, capLen: data.length, kind };
}

// ------------------------------------------------------------------ timestamps

const ODD_TIMES = [0, -0, -1, -1e12, 1e20, -1e20, Number.MAX_VALUE, -Number.MAX_VALUE, 8.64e15, 8.64e15 + 1, NaN, Infinity, -Infinity, 4294967295999.999];

/** Packet time as a fuzzed source might produce it: mostly advancing, sometimes absurd. */
class FuzzClock {
  private ms = 1_700_000_000_000;
  private mode = 0;
  constructor(private readonly rng: Rng) {}

  /** Called every few thousand packets: how time behaves for the next stretch. */
  shift(): void {
    this.mode = this.rng.int(6);
    if (this.mode === 2) this.ms = 0;
    if (this.mode === 3) this.ms = -1e12;
  }

  next(): number {
    const r = this.rng;
    switch (this.mode) {
      case 0: // advancing, with idle gaps that expire flows
        this.ms += r.chance(0.01) ? 20_000 + r.int(400_000) : r.int(50);
        return this.ms;
      case 1: // going backwards
        this.ms -= r.int(2000);
        return this.ms;
      case 2: // stuck at zero
        return 0;
      case 3: // negative and advancing
        this.ms += r.int(1000);
        return this.ms;
      case 4: // jumping around
        this.ms += r.int(2_000_000) - 1_000_000;
        return this.ms;
      default:
        return r.chance(0.1) ? r.pick(ODD_TIMES) : (this.ms += r.int(100));
    }
  }
}

// ------------------------------------------------------------------ the fuzz harness

interface FuzzFailure {
  kind: string;
  origin: string;
  linkType: number;
  tsMs: number;
  capLen: number;
  error: string;
  bytes: string;
}

/**
 * Feeds mutants to a pipeline, swapping in a fresh one every `perPipeline` packets (with a
 * different small maxFlows) so each gets finished and checked. Checks: nothing escapes;
 * the pipeline counted every packet; flows stay within maxFlows and all leave at finish();
 * every packet lands in exactly one flow or one skip counter.
 */
class FuzzHarness {
  readonly failures: FuzzFailure[] = [];
  readonly invariantErrors: string[] = [];
  fed = 0;
  pipelines = 0;
  flowsOut = 0;
  private pipeline!: FlowPipeline;
  private maxFlows = 16;
  private fedHere = 0;
  private flowPackets = 0;
  private readonly maxFlowsChoices = [16, 64, 256];

  constructor(
    private readonly rng: Rng,
    private readonly clock: FuzzClock,
    private readonly perPipeline: number,
  ) {
    this.fresh();
  }

  private fresh(): void {
    this.maxFlows = this.rng.pick(this.maxFlowsChoices);
    this.fedHere = 0;
    this.flowPackets = 0;
    this.pipelines++;
    this.pipeline = new FlowPipeline(
      { agentId: 'fuzz', flowTable: { maxFlows: this.maxFlows, activeTimeoutMs: this.rng.pick([0, 1000, 60_000]) } },
      {
        onFlow: (f) => {
          this.flowsOut++;
          this.flowPackets += f.packets;
          if (!(f.packets >= 1 && f.packets === f.packetsToDst + f.packetsToSrc && (f.family === 4 || f.family === 6) && f.sport >= 0 && f.sport <= 65535 && f.dport >= 0 && f.dport <= 65535 && f.src.length > 0)) {
            if (this.invariantErrors.length < 10) this.invariantErrors.push(`malformed flow record ${JSON.stringify(f).slice(0, 300)}`);
          }
        },
      },
    );
  }

  feed(m: Mutant, origin: string): void {
    const tsMs = this.clock.next();
    const wireLen = this.rng.chance(0.02) ? this.rng.pick([0, 0xffffffff, m.capLen + 1]) : m.capLen;
    try {
      // Now and then time advances without a packet, as on a quiet live link.
      if (this.rng.chance(0.001)) this.pipeline.tick(this.clock.next());
      this.pipeline.packet(m.linkType, tsMs, m.data, 0, m.capLen, wireLen);
    } catch (err) {
      this.fail(m, origin, tsMs, err);
      this.fresh();
      return;
    }
    this.fed++;
    this.fedHere++;
    if ((this.fedHere & 1023) === 0 && this.pipeline.stats().activeFlows > Math.max(16, this.maxFlows)) {
      this.invariantErrors.push(`${this.pipeline.stats().activeFlows} active flows with maxFlows ${this.maxFlows}`);
    }
    if ((this.fed & 4095) === 0) this.clock.shift();
    if (this.fedHere >= this.perPipeline) this.close();
  }

  /** Finishes the current pipeline, checks its totals, and starts another. */
  close(): void {
    try {
      this.pipeline.finish();
    } catch (err) {
      this.fail({ linkType: -1, data: new Uint8Array(0), capLen: 0, kind: 'finish()' }, '', NaN, err);
    }
    const s = this.pipeline.stats();
    const skipped = Object.values(s.skipped).reduce((a, b) => a + b, 0);
    if (s.packets !== this.fedHere) this.invariantErrors.push(`pipeline counted ${s.packets} packets, fed ${this.fedHere}`);
    if (s.activeFlows !== 0) this.invariantErrors.push(`${s.activeFlows} flows active after finish()`);
    if (this.failures.length === 0 && this.flowPackets + skipped !== s.packets) {
      this.invariantErrors.push(`packets in flows (${this.flowPackets}) + skipped (${skipped}) != packets (${s.packets})`);
    }
    this.fresh();
  }

  private readonly failureKinds = new Map<string, number>();

  /** Keeps the first three failures of each kind of mutation and error, so one bug does not hide another. */
  private fail(m: Mutant, origin: string, tsMs: number, err: unknown): void {
    const key = `${m.kind.split(' ')[0]} ${err instanceof Error ? err.name + err.message.slice(0, 40) : String(err).slice(0, 40)}`;
    const seen = this.failureKinds.get(key) ?? 0;
    this.failureKinds.set(key, seen + 1);
    if (seen >= 3 || this.failures.length >= 30) return;
    this.failures.push({
      kind: m.kind,
      origin,
      linkType: m.linkType,
      tsMs,
      capLen: m.capLen,
      error: err instanceof Error ? `${err.name}: ${err.message} @ ${err.stack?.split('\n')[1]?.trim() ?? ''}` : String(err),
      bytes: hex(m.data.subarray(0, Math.min(m.capLen, 256))) + (m.capLen > 256 ? `... (${m.capLen} bytes)` : ''),
    });
  }
}

// ------------------------------------------------------------------ tests

let samples: Sample[] = [];
let workDir = '';

beforeAll(async () => {
  samples = [...syntheticSamples(), ...(await corpusSamples(6))];
  workDir = mkdtempSync(join(tmpdir(), 'nta-hostile-'));
});

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** Mutants of real and synthetic packets, then packets of random bytes on top. */
const MUTATED_PACKETS = 320_000;
const RANDOM_PACKETS = 30_000;

describe('fuzz: mutated packets through FlowPipeline', () => {
  test('fuzz - 350k mutated packets: nothing escapes, counters add up, memory bounded', () => {
    const rng = new Rng(SEED);
    const clock = new FuzzClock(rng);
    const harness = new FuzzHarness(rng, clock, 50_000);
    expect(samples.length).toBeGreaterThan(20);
    const linkTypes = new Set(samples.map((s) => s.linkType));
    collectGarbage();
    const before = memoryInUse();
    let peak = before;
    const started = performance.now();
    const kinds = new Map<string, number>();
    const count = (kind: string): void => {
      // 'length-field dns.qdcount' counts as 'length-field:dns'.
      const [head, detail = ''] = kind.split(' ');
      const k = head === 'length-field' ? `${head}:${detail.split('.')[0]}` : head;
      kinds.set(k, (kinds.get(k) ?? 0) + 1);
    };
    const feed = (m: Mutant, origin: string): void => {
      harness.feed(m, origin);
      count(m.kind);
    };

    // Passes over the samples until enough mutants went in; the first pass also truncates
    // every fifth sample (and every synthetic one) at every length up to 512 bytes.
    const layouts = samples.map(lengthFields);
    const isL7 = (f: Field): boolean => f.name.startsWith('dns.') || f.name.startsWith('tls.');
    const l7Layouts = layouts.map((l) => ({ ...l, fields: l.fields.filter(isL7) }));
    for (let pass = 0; harness.fed < MUTATED_PACKETS; pass++) {
      for (const [i, s] of samples.entries()) {
        if (harness.fed >= MUTATED_PACKETS) break;
        const layout = layouts[i];
        for (let k = 0; k < 15; k++) feed(mutateFlip(rng, s), s.origin);
        for (let k = 0; k < 15; k++) feed(mutateOverwrite(rng, s), s.origin);
        for (let k = 0; k < 8; k++) feed(mutateTruncate(rng, s), s.origin);
        for (let k = 0; k < 25; k++) feed(layout.fields.length > 0 ? mutateLengthField(rng, s, layout) : mutateFlip(rng, s), s.origin);
        for (let k = 0; k < 4; k++) feed(mutateLinkType(rng, s), s.origin);
        if (s.linkType === 1) for (let k = 0; k < 4; k++) feed(mutateShim(rng, s), s.origin);
        // DNS and TLS samples get extra mutants aimed at their own length fields only.
        const l7 = l7Layouts[i];
        if (l7.fields.length > 0) {
          const extra = l7.fields.some((f) => f.name.startsWith('tls.')) ? 600 : 60;
          for (let k = 0; k < extra; k++) feed(mutateLengthField(rng, s, l7), s.origin);
        }
        // Payloads the L7 hints parse: DNS, TLS, and HTTP request lines (an upper-case first byte).
        const http = l7.payloadEnd > l7.payloadOff && s.data[l7.payloadOff] >= 0x41 && s.data[l7.payloadOff] <= 0x5a;
        if (l7.fields.length > 0 || http) for (let k = 0; k < (http ? 200 : 40); k++) feed(mutatePayload(rng, s, l7), s.origin);
        if (pass === 0 && (i % 5 === 0 || s.origin.indexOf('#') < 0)) {
          const upTo = Math.min(s.data.length, 512);
          for (let len = 0; len <= upTo; len++) feed({ linkType: s.linkType, data: s.data, capLen: len, kind: 'truncate-every-length' }, s.origin);
        }
        if ((i & 63) === 0) peak = Math.max(peak, memoryInUse());
      }
    }
    for (let k = 0; k < RANDOM_PACKETS; k++) feed(randomPacket(rng), 'random');
    harness.close();
    const elapsedS = (performance.now() - started) / 1000;
    const exact = collectGarbage();
    const grewMb = (memoryInUse() - before) / 2 ** 20;
    const peakMb = (peak - before) / 2 ** 20;
    console.info(
      `fuzz seed ${SEED}: ${harness.fed} packets from ${samples.length} samples (${linkTypes.size} link types) through ${harness.pipelines} pipelines, ` +
        `${harness.flowsOut} flows, ${elapsedS.toFixed(1)} s, memory +${grewMb.toFixed(1)} MB (peak +${peakMb.toFixed(1)} MB); ` +
        [...kinds].map(([k, v]) => `${k} ${v}`).join(', '),
    );
    expect(harness.failures, `seed ${SEED}: exceptions escaped FlowPipeline.packet/finish`).toEqual([]);
    expect(harness.invariantErrors, `seed ${SEED}`).toEqual([]);
    expect(harness.fed).toBeGreaterThanOrEqual(MUTATED_PACKETS + RANDOM_PACKETS);
    expect(grewMb, `seed ${SEED}: memory retained after the fuzz`).toBeLessThan(exact ? 32 : 512);
    expect(peakMb, `seed ${SEED}: memory during the fuzz`).toBeLessThan(512);
  });

  test('fuzz - nested LLC/SNAP + 802.1Q headers in one large frame do not overflow the stack', () => {
    // 10,000 levels of [LLC/SNAP -> 802.1Q -> 802.3 length] = 120 KB, within the pcap reader's 256 KiB record limit.
    const level = Buffer.from('aaaa03000000810000010040', 'hex');
    const frame = Buffer.concat([Buffer.from('0200000000020200000000010040', 'hex'), Buffer.alloc(level.length * 10_000, level)]);
    const pkt = new DecodedPacket();
    expect(() => decodePacket(1, frame, 0, frame.length, pkt)).not.toThrow();
  });

  test('fuzz - crafted hash collisions do not make the flow table or the talker table quadratic', () => {
    // The agent's hashes as they stand: flow/hash.ts hash2 = finalize(mix(mix(mix(mix(0x9747b28c, a), b), ports), proto))
    // and host-counters.ts finalize32. Both are invertible and unseeded, so a sender can choose where its
    // flows land: the same bucket chain, or one long linear-probing run. Once the tables are seeded with
    // a secret, these "colliding" packets are ordinary ones and the two timings match.
    const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));
    const rotr = (x: number, r: number): number => (x >>> r) | (x << (32 - r));
    const mix = (h: number, k: number): number => {
      k = rotl(Math.imul(k, 0xcc9e2d51), 15);
      h = rotl(h ^ Math.imul(k, 0x1b873593), 13);
      return (Math.imul(h, 5) + 0xe6546b64) | 0;
    };
    const inverse = (a: number): number => {
      let x = a;
      for (let i = 0; i < 5; i++) x = Math.imul(x, 2 - Math.imul(a, x));
      return x;
    };
    /** The k for which mix(h, k) === out. */
    const solveMix = (h: number, out: number): number => {
      const t = rotr(Math.imul((out - 0xe6546b64) | 0, inverse(5)), 13) ^ h;
      return Math.imul(rotr(Math.imul(t, inverse(0x1b873593)), 15), inverse(0xcc9e2d51)) >>> 0;
    };
    /** The address whose finalize32 is h. */
    const unfinalize32 = (h: number): number => {
      h ^= h >>> 16;
      h = Math.imul(h, inverse(0xc2b2ae35));
      h ^= (h >>> 13) ^ (h >>> 26);
      h = Math.imul(h, inverse(0x85ebca6b));
      return (h ^ (h >>> 16)) >>> 0;
    };
    const frame = W.ethernetFrame(W.EtherTypeNum.IPV4, W.ipv4Packet(17, W.udpDatagram(1, 1, new Uint8Array(8)), { dst: '10.0.0.2' }));
    const dst = 0x0a000002;
    const run = (n: number, maxFlows: number, packet: (i: number) => [src: number, ports: number]): number => {
      const pipeline = new FlowPipeline({ agentId: 'fuzz', flowTable: { maxFlows } }, { onFlow: () => {} });
      const started = performance.now();
      for (let i = 1; i <= n; i++) {
        const [src, ports] = packet(i);
        frame.writeUInt32BE(src, 26);
        frame.writeUInt32BE(ports, 34);
        pipeline.packet(1, 1_700_000_000_000, frame, 0, frame.length, frame.length);
      }
      pipeline.finish();
      return performance.now() - started;
    };
    const ordinaryFlow = (i: number): [number, number] => [i, ((1024 + (i % 60_000)) << 16) | 53];
    run(2_000, 1 << 17, ordinaryFlow); // warm-up, so the JIT is not what gets measured
    // 25,000 flows from sources below dst (so they are endpoint A) whose ports make every hash equal.
    const flowsOrdinary = run(25_000, 1 << 17, ordinaryFlow);
    const flowsColliding = run(25_000, 1 << 17, (i) => [i, solveMix(mix(mix(0x9747b28c, i), dst), 0x12345678)]);
    // 24,000 sources in one second whose talker-table hashes share their low 16 bits.
    const talkersOrdinary = run(24_000, 16, (i) => [0x0b000000 + i, 0x04000035]);
    const talkersColliding = run(24_000, 16, (i) => [unfinalize32(i << 16), 0x04000035]);
    const timings = JSON.stringify({ flowsOrdinary, flowsColliding, talkersOrdinary, talkersColliding }, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v) : v));
    expect.soft(flowsColliding, `flow table, ms: ${timings}`).toBeLessThan(3 * flowsOrdinary + 200);
    expect.soft(talkersColliding, `talker table, ms: ${timings}`).toBeLessThan(3 * talkersOrdinary + 200);
  });

  test('fuzz - memory stays bounded after one packet from the far future (time stands still for the host counters)', () => {
    // One record with ts_sec 0xffffffff, then 300,000 one-packet flows from distinct sources
    // over 300 s of ordinary packet time. Seconds should keep rolling and flows keep expiring,
    // so what is held stays small.
    const pipeline = new FlowPipeline({ agentId: 'fuzz', flowTable: { maxFlows: 256 } }, { onFlow: () => {} });
    const v4 = W.ethernetFrame(W.EtherTypeNum.IPV4, W.ipv4Packet(17, W.udpDatagram(1000, 53, new Uint8Array(8))));
    const v6 = W.ethernetFrame(W.EtherTypeNum.IPV6, W.ipv6Packet(17, W.udpDatagram(1000, 53, new Uint8Array(8))));
    const t0 = 1_700_000_000_000;
    pipeline.packet(1, t0, v4, 0, v4.length, v4.length);
    pipeline.packet(1, 4294967295 * 1000, v4, 0, v4.length, v4.length);
    collectGarbage();
    const before = memoryInUse();
    for (let i = 0; i < 300_000; i++) {
      const frame = i & 1 ? v6 : v4;
      if (i & 1) frame.writeUInt32BE(i, 14 + 8 + 12);
      else frame.writeUInt32BE(i, 14 + 12);
      pipeline.packet(1, t0 + i, frame, 0, frame.length, frame.length);
    }
    const exact = collectGarbage();
    const grewMb = (memoryInUse() - before) / 2 ** 20;
    pipeline.finish();
    expect(pipeline.stats().packets).toBe(300_002);
    expect(grewMb, 'MB held for 256 flows after 300k packets').toBeLessThan(exact ? 16 : 256);
  });
});

// ------------------------------------------------------------------ mutated files

/** A capture built from parts, so mutations can target one record or block. */
interface BaseFile {
  name: string;
  format: 'pcap' | 'pcapng';
  le: boolean;
  header: Buffer; // pcap file header; empty for pcapng
  units: Buffer[]; // pcap records, or pcapng blocks
  packets: number;
}

function samplesOf(rng: Rng, linkType: number, n: number): Uint8Array[] {
  const pool = samples.filter((s) => s.linkType === linkType);
  const from = pool.length > 0 ? pool : samples;
  return Array.from({ length: n }, () => rng.pick(from).data);
}

function baseFiles(rng: Rng): BaseFile[] {
  const out: BaseFile[] = [];
  const classic = (name: string, o: W.PcapHeaderOptions, n: number): void => {
    const le = o.littleEndian ?? true;
    const units = samplesOf(rng, o.linkType, n).map((data, i) =>
      W.pcapRecord({ data, tsSec: 1_700_000_000 + i, tsFrac: i * 1000, origLen: data.length + (i % 3) }, le, o.modified ?? false),
    );
    out.push({ name, format: 'pcap', le, header: W.pcapHeader(o), units, packets: n });
  };
  classic('pcap-le-us-ethernet', { linkType: 1 }, 12);
  classic('pcap-be-us-sll', { linkType: 113, littleEndian: false }, 8);
  classic('pcap-le-ns-null', { linkType: 0, nanos: true }, 8);
  classic('pcap-be-ns-raw', { linkType: 101, littleEndian: false, nanos: true }, 8);
  classic('pcap-modified-ethernet', { linkType: 1, modified: true }, 8);

  const le = true;
  const opt = (code: number, text: string): Buffer => W.pcapngOption(code, Buffer.from(text));
  const eth = samplesOf(rng, 1, 10);
  out.push({
    name: 'pcapng-le-options-spb',
    format: 'pcapng',
    le,
    header: Buffer.alloc(0),
    units: [
      W.pcapngShb({ options: [opt(W.PcapngOption.COMMENT, 'made by agent-hostile-input'), W.pcapngEndOfOptions()] }),
      W.pcapngIdb({ linkType: 1, snapLen: 65535, options: [opt(W.PcapngOption.IF_NAME, 'eth0'), W.tsresolOption(6), W.pcapngEndOfOptions()] }),
      ...eth.slice(0, 6).map((data, i) => W.pcapngEpb({ data, timestamp: 1_700_000_000_000_000n + BigInt(i), options: [opt(W.PcapngOption.COMMENT, `packet ${i}`), W.pcapngEndOfOptions()] })),
      W.pcapngBlock(W.PcapngBlockType.NRB, Buffer.from('0100080a0000010a0000000100000000', 'hex')),
      W.pcapngSpb({ data: eth[6] }),
      W.pcapngBlock(W.PcapngBlockType.ISB, Buffer.alloc(12)),
      W.pcapngBlock(W.PcapngBlockType.CUSTOM, Buffer.from('0000a0b0deadbeef', 'hex')),
      ...eth.slice(7).map((data) => W.pcapngEpb({ data })),
    ],
    packets: 10,
  });
  const sll = samplesOf(rng, 113, 4);
  const raw = samplesOf(rng, 101, 4);
  out.push({
    name: 'pcapng-be-three-interfaces-pb',
    format: 'pcapng',
    le: false,
    header: Buffer.alloc(0),
    units: [
      W.pcapngShb({ littleEndian: false }),
      W.pcapngIdb({ linkType: 1, littleEndian: false, options: [W.tsresolOption(9, false), W.pcapngEndOfOptions()] }),
      W.pcapngIdb({ linkType: 113, littleEndian: false, options: [W.tsresolOption(0x86, false), W.tsoffsetOption(3600n, false), W.pcapngEndOfOptions()] }),
      W.pcapngIdb({ linkType: 101, snapLen: 96, littleEndian: false }),
      ...eth.slice(0, 4).map((data, i) => W.pcapngEpb({ data, interfaceId: 0, timestamp: 1_700_000_000_000_000_000n + BigInt(i), littleEndian: false })),
      ...sll.map((data, i) => W.pcapngEpb({ data, interfaceId: 1, timestamp: BigInt(1_700_000_000 * 64 + i), littleEndian: false })),
      ...raw.map((data) => W.pcapngPb({ data, interfaceId: 2, littleEndian: false })),
    ],
    packets: 12,
  });
  out.push({
    name: 'pcapng-two-sections',
    format: 'pcapng',
    le: true,
    header: Buffer.alloc(0),
    units: [
      W.pcapngShb(),
      W.pcapngIdb({ linkType: 1 }),
      ...eth.slice(0, 3).map((data) => W.pcapngEpb({ data })),
      W.pcapngShb({ littleEndian: false }),
      W.pcapngIdb({ linkType: 101, littleEndian: false }),
      ...raw.slice(0, 3).map((data) => W.pcapngEpb({ data, littleEndian: false })),
    ],
    packets: 6,
  });
  return out;
}

const u32At = (b: Buffer, off: number, v: number, le: boolean): void => {
  if (off + 4 > b.length) return;
  if (le) b.writeUInt32LE(v >>> 0, off);
  else b.writeUInt32BE(v >>> 0, off);
};
const u16At = (b: Buffer, off: number, v: number, le: boolean): void => {
  if (off + 2 > b.length) return;
  if (le) b.writeUInt16LE(v & 0xffff, off);
  else b.writeUInt16BE(v & 0xffff, off);
};

const U32_EXTREMES = [0, 1, 2, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

/** One structural mutation of a pcap file; returns its name. */
function mutatePcap(rng: Rng, f: BaseFile, header: Buffer, units: Buffer[]): string {
  const le = f.le;
  if (rng.chance(0.35)) {
    const field = rng.pick(['magic', 'version', 'snaplen', 'linktype', 'thiszone'] as const);
    switch (field) {
      case 'magic':
        u32At(header, 0, rng.pick([0, 0xd4c3b2a1, 0x4d3cb2a1, 0x34cdb2a1, 0x0a0d0d0a, 0xa1b2c3d5, rng.u32()]), le);
        break;
      case 'version':
        u16At(header, 4, rng.pick([0, 1, 3, 0xffff]), le);
        u16At(header, 6, rng.pick([0, 0xffff]), le);
        break;
      case 'snaplen':
        u32At(header, 16, rng.pick([0, 1, 14, ...U32_EXTREMES]), le);
        break;
      case 'linktype':
        u32At(header, 20, rng.pick([0xffffffff, 0x0fff0001, 0x10000001, 0xf0000071, 0xffff, rng.int(300), rng.u32()]), le);
        break;
      default:
        u32At(header, 8, rng.u32(), le);
    }
    return `pcap header ${field}`;
  }
  const i = rng.int(units.length);
  const r = Buffer.from(units[i]);
  units[i] = r;
  const dataLen = r.length - (f.name.includes('modified') ? 24 : 16);
  const field = rng.pick(['caplen', 'caplen', 'len', 'ts', 'frac'] as const);
  const off = { ts: 0, frac: 4, caplen: 8, len: 12 }[field];
  const values = field === 'caplen' ? [...U32_EXTREMES, 262_144, 262_145, 16 << 20, dataLen + 1, dataLen - 1, dataLen + 16] : U32_EXTREMES;
  u32At(r, off, rng.pick(field === 'frac' ? [...values, 999_999, 1_000_000, 999_999_999, 1_000_000_000] : values), le);
  return `pcap record ${i} ${field}`;
}

/** One structural mutation of a pcapng file; returns its name. */
function mutatePcapng(rng: Rng, f: BaseFile, units: Buffer[]): string {
  const i = rng.int(units.length);
  const b = Buffer.from(units[i]);
  units[i] = b;
  // Each block is written in its own section's byte order: find it from the block's length field.
  const le = b.readUInt32LE(4) === b.length ? true : b.readUInt32BE(4) === b.length ? false : f.le;
  const type = le ? b.readUInt32LE(0) : b.readUInt32BE(0);
  const len = b.length;
  const choice = rng.int(10);
  if (choice < 3) {
    const v = rng.pick([0, 4, 8, 11, 12, 13, 14, len - 4, len + 4, len + 1, len + 2, 0xfffffffc, 0xffffffff, (16 << 20) + 4, 0x7ffffffc, (rng.u32() & ~3) >>> 0]);
    const where = rng.pick(['leading', 'trailer', 'both'] as const);
    if (where !== 'trailer') u32At(b, 4, v, le);
    if (where !== 'leading') u32At(b, len - 4, v, le);
    return `pcapng block ${i} length ${where} = ${v}`;
  }
  if (choice === 3) {
    const v = rng.pick([0, 0xffffffff, 0x0a0d0d0a, 1, 2, 3, 6, 0x80000001, rng.u32()]);
    u32At(b, 0, v, le);
    return `pcapng block ${i} type = ${v}`;
  }
  if (type === W.PcapngBlockType.SHB) {
    if (rng.chance(0.5)) u32At(b, 8, rng.pick([0, 0x1a2b3c4e, rng.u32()]), true);
    else u16At(b, 12, rng.pick([0, 2, 0xffff]), le);
    return `pcapng SHB ${i} byte-order magic/version`;
  }
  if (type === W.PcapngBlockType.IDB) {
    const what = rng.int(5);
    if (what === 0) u16At(b, 8, rng.pick([0xffff, 0, 147, rng.int(65536)]), le);
    else if (what === 1) u32At(b, 12, rng.pick(U32_EXTREMES), le);
    else if (what === 2 && len > 20) {
      // Garbage where the options are.
      const garbage = rng.bytes(len - 20);
      garbage.copy(b, 16);
    } else {
      // Rebuild the options: if_tsresol and if_tsoffset at their extremes, or an option claiming 0xffff bytes.
      const options = [
        W.tsresolOption(rng.pick([0, 1, 6, 9, 18, 19, 0x3f, 0x7f, 0x80, 0x86, 0xbf, 0xff]), le),
        rng.chance(0.5) ? W.tsoffsetOption(rng.pick([-(2n ** 63n), 2n ** 63n - 1n, -1n, 2n ** 53n, -(2n ** 40n)]), le) : Buffer.alloc(0),
        rng.chance(0.3) ? W.pcapngOption(rng.int(65536), rng.bytes(rng.int(12)), le, rng.pick([0xffff, 0xfffc, 13])) : Buffer.alloc(0),
        W.pcapngEndOfOptions(),
      ];
      units[i] = W.pcapngIdb({ linkType: le ? b.readUInt16LE(8) : b.readUInt16BE(8), snapLen: rng.pick([0, 65535, 1]), littleEndian: le, options });
      return `pcapng IDB ${i} options`;
    }
    return `pcapng IDB ${i} field ${what}`;
  }
  if (type === W.PcapngBlockType.EPB || type === W.PcapngBlockType.PB) {
    const field = rng.pick(['iface', 'tsHigh', 'tsLow', 'caplen', 'caplen', 'len'] as const);
    const off = { iface: 8, tsHigh: 12, tsLow: 16, caplen: 20, len: 24 }[field];
    const body = len - 12;
    const v = rng.pick(field === 'caplen' ? [...U32_EXTREMES, body - 20, body - 19, body - 17, 65536] : field === 'iface' ? [1, 2, 3, 7, 0xffff, 0xffffffff] : U32_EXTREMES);
    if (field === 'iface' && type === W.PcapngBlockType.PB) u16At(b, 8, v, le);
    else u32At(b, off, v, le);
    return `pcapng packet block ${i} ${field} = ${v}`;
  }
  if (type === W.PcapngBlockType.SPB) {
    u32At(b, 8, rng.pick([0, 1, 65536, ...U32_EXTREMES]), le);
    return `pcapng SPB ${i} original length`;
  }
  rng.bytes(len - 12).copy(b, 8);
  return `pcapng block ${i} (type ${type}) body garbage`;
}

/** Whole-file damage, regardless of format. */
function damageBytes(rng: Rng, file: Buffer): { bytes: Buffer; what: string } {
  switch (rng.int(6)) {
    case 0: {
      const at = rng.int(file.length);
      return { bytes: file.subarray(0, at), what: `truncated at ${at}` };
    }
    case 1: {
      const b = Buffer.from(file);
      const n = 1 + rng.int(8);
      for (let k = 0; k < n; k++) b[rng.int(b.length)] = rng.int(256);
      return { bytes: b, what: `${n} random bytes` };
    }
    case 2: {
      const at = rng.int(file.length);
      return { bytes: Buffer.concat([file.subarray(0, at), rng.bytes(1 + rng.int(64)), file.subarray(at)]), what: `bytes inserted at ${at}` };
    }
    case 3: {
      const at = rng.int(file.length);
      const n = 1 + rng.int(64);
      return { bytes: Buffer.concat([file.subarray(0, at), file.subarray(at + n)]), what: `${n} bytes deleted at ${at}` };
    }
    case 4:
      return { bytes: Buffer.concat([file, rng.bytes(1 + rng.int(100))]), what: 'garbage appended' };
    default: {
      // A record/block header at the end claiming far more than follows.
      const tail = Buffer.alloc(16);
      tail.writeUInt32LE(6, 0);
      tail.writeUInt32LE(rng.pick([0x100, 0xffff, 262_144, 0xfffffff0]), 4);
      tail.writeUInt32LE(rng.pick([0x100, 0xffff, 262_144, 0xfffffff0]), 8);
      return { bytes: Buffer.concat([file, tail.subarray(0, 8 + rng.int(9))]), what: 'huge header at the end' };
    }
  }
}

interface FileOutcome {
  result?: FileReadResult;
  thrown?: unknown;
  sinkPackets: number;
  flows: FlowRecord[];
}

/** readCaptureFile into a pipeline, with a deadline, a packet budget and a racing timer against hangs. */
async function readGuarded(path: string, chunkBytes: number | undefined, timeoutMs = 5_000): Promise<FileOutcome> {
  const out: FileOutcome = { sinkPackets: 0, flows: [] };
  const pipeline = new FlowPipeline({ agentId: 'hostile', flowTable: { maxFlows: 64 } }, { onFlow: (f) => out.flows.push(f) });
  const budget = Math.ceil(statSync(path).size / 12) + 1;
  const deadline = performance.now() + timeoutMs;
  let timer: NodeJS.Timeout | undefined;
  try {
    out.result = await Promise.race([
      readCaptureFile(
        path,
        {
          packet(linkType, tsMs, buf, off, capLen, wireLen) {
            if (++out.sinkPackets > budget) throw new Error(`more packets than the file can hold (${budget})`);
            if (off < 0 || capLen < 0 || off + capLen > buf.length) throw new Error(`packet [${off}, ${off + capLen}) outside its ${buf.length}-byte buffer`);
            if (wireLen < capLen) throw new Error(`wire length ${wireLen} < capture length ${capLen}`);
            pipeline.packet(linkType, tsMs, buf, off, capLen, wireLen);
          },
        },
        { chunkBytes, shouldStop: () => performance.now() > deadline },
      ),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no end after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    if (performance.now() > deadline) throw new Error(`no end after ${timeoutMs} ms`);
    pipeline.finish();
  } catch (err) {
    out.thrown = err;
  } finally {
    clearTimeout(timer);
  }
  return out;
}

/** Only a CaptureFormatError may escape readCaptureFile. */
function unexpectedOutcome(o: FileOutcome): string | undefined {
  if (o.thrown !== undefined) {
    const e = o.thrown as Error;
    if (e?.name === 'CaptureFormatError' && (e as { code?: string }).code === 'NTA_ERR_CAPTURE_FORMAT' && e.message.length > 0) return undefined;
    return `threw ${e?.name}: ${e?.message} ${e?.stack?.split('\n')[1]?.trim() ?? ''}`;
  }
  const r = o.result;
  if (r === undefined) return 'no result';
  if (r.packets !== o.sinkPackets) return `result.packets ${r.packets} but the sink saw ${o.sinkPackets}`;
  if (r.format !== 'pcap' && r.format !== 'pcapng') return `format ${String(r.format)}`;
  if (r.error !== undefined && (typeof r.error !== 'string' || r.error.length === 0)) return `error ${JSON.stringify(r.error)}`;
  return undefined;
}

const CHUNK_SIZES = [16, 64, 256, 4096, undefined];

describe('mutated capture files through readCaptureFile', () => {
  test('files - unmutated base files read back every packet at any chunk size', async () => {
    const rng = new Rng(SEED ^ 0x5eed);
    for (const f of baseFiles(rng)) {
      const path = join(workDir, `base-${f.name}.${f.format}`);
      writeFileSync(path, Buffer.concat([f.header, ...f.units]));
      for (const chunkBytes of CHUNK_SIZES) {
        const o = await readGuarded(path, chunkBytes);
        expect(unexpectedOutcome(o), `${f.name} chunk ${chunkBytes}`).toBeUndefined();
        expect({ name: f.name, chunkBytes, packets: o.result?.packets, error: o.result?.error }).toEqual({ name: f.name, chunkBytes, packets: f.packets, error: undefined });
      }
    }
  });

  test('files - 1,600 mutated pcap/pcapng files: a result or CaptureFormatError, never another exception or a hang', async () => {
    const rng = new Rng(SEED ^ 0xf11e);
    // Outside workDir: the files of a failing run stay for a look (the seed also recreates them).
    const dir = mkdtempSync(join(tmpdir(), 'nta-mutated-'));
    const bases = baseFiles(rng);
    const problems: string[] = [];
    const outcomes = { ok: 0, withError: 0, refused: 0 };
    const started = performance.now();
    let n = 0;
    for (const f of bases) {
      for (let k = 0; k < 200; k++, n++) {
        const header = Buffer.from(f.header);
        const units = [...f.units];
        const whats: string[] = [];
        const structural = rng.chance(0.85);
        if (structural) {
          for (let m = rng.chance(0.2) ? 2 : 1; m > 0; m--) whats.push(f.format === 'pcap' ? mutatePcap(rng, f, header, units) : mutatePcapng(rng, f, units));
        }
        let bytes: Buffer = Buffer.concat([header, ...units]);
        if (!structural || rng.chance(0.25)) {
          const d = damageBytes(rng, bytes);
          bytes = d.bytes;
          whats.push(d.what);
        }
        const path = join(dir, `m${String(n).padStart(4, '0')}-${f.name}.${f.format}`);
        writeFileSync(path, bytes);
        const chunkBytes = rng.pick(CHUNK_SIZES);
        const o = await readGuarded(path, chunkBytes);
        const problem = unexpectedOutcome(o);
        if (problem !== undefined) problems.push(`${path} (${whats.join('; ')}; chunkBytes ${chunkBytes}): ${problem}`);
        else if (o.thrown !== undefined) outcomes.refused++;
        else if (o.result?.error !== undefined) outcomes.withError++;
        else outcomes.ok++;
      }
    }
    console.info(`files seed ${SEED}: ${n} mutated files in ${((performance.now() - started) / 1000).toFixed(1)} s: ${JSON.stringify(outcomes)}`);
    if (problems.length === 0) rmSync(dir, { recursive: true, force: true });
    expect(problems.slice(0, 10), `seed ${SEED}: ${problems.length} files ended badly (kept in ${dir})`).toEqual([]);
    expect(outcomes.ok + outcomes.withError).toBeGreaterThan(n / 2);
  });

  test('files - precise damage gives a precise outcome', async () => {
    const rng = new Rng(SEED ^ 0xcafe);
    const frames = samplesOf(rng, 1, 5);
    const records = frames.map((data) => W.pcapRecord({ data }));
    const header = W.pcapHeader({ linkType: 1 });
    const shb = W.pcapngShb();
    const idb = W.pcapngIdb({ linkType: 1 });
    const epbs = frames.map((data) => W.pcapngEpb({ data }));
    const cases: { name: string; bytes: Buffer; packets: number; error?: RegExp; skippedBlocks?: number }[] = [
      { name: 'pcap cut mid-record', bytes: Buffer.concat([header, ...records.slice(0, 3), records[3].subarray(0, 20)]), packets: 3, error: /truncated last record/ },
      { name: 'pcap cut mid-header', bytes: header.subarray(0, 20), packets: 0, error: /truncated file header/ },
      { name: 'pcap record caplen 0xffffffff', bytes: Buffer.concat([header, records[0], W.pcapRecord({ data: frames[1], capLenField: 0xffffffff }), records[2]]), packets: 1, error: /capture length 4294967295 exceeds/ },
      { name: 'pcap record caplen 0', bytes: Buffer.concat([header, W.pcapRecord({ data: new Uint8Array(0), origLen: 60 }), records[0]]), packets: 2 },
      { name: 'pcapng block length 13', bytes: Buffer.concat([shb, idb, W.pcapngEpb({ data: frames[0], lengthField: 13 })]), packets: 0, error: /block length 13/ },
      { name: 'pcapng trailer mismatch', bytes: Buffer.concat([shb, idb, epbs[0], W.pcapngEpb({ data: frames[1], trailerField: 8 }), epbs[2]]), packets: 1, error: /trailing length 8 differs/ },
      { name: 'pcapng block length 2 GiB', bytes: Buffer.concat([shb, idb, epbs[0], W.pcapngEpb({ data: frames[1], lengthField: 0x80000000 })]), packets: 1, error: /exceeds/ },
      { name: 'pcapng EPB for a missing interface', bytes: Buffer.concat([shb, idb, epbs[0], W.pcapngEpb({ data: frames[1], interfaceId: 5 }), epbs[2]]), packets: 2, skippedBlocks: 1 },
      { name: 'pcapng EPB caplen past its block', bytes: Buffer.concat([shb, idb, W.pcapngEpb({ data: frames[0], capLenField: 0xffffffff }), epbs[1]]), packets: 1, skippedBlocks: 1 },
      { name: 'pcapng SPB before any IDB', bytes: Buffer.concat([shb, W.pcapngSpb({ data: frames[0] }), idb, epbs[1]]), packets: 1, skippedBlocks: 1 },
      { name: 'pcapng cut mid-block', bytes: Buffer.concat([shb, idb, epbs[0], epbs[1].subarray(0, 30)]), packets: 1, error: /truncated last block/ },
      { name: 'pcapng bad byte-order magic', bytes: Buffer.concat([W.pcapngShb({ byteOrderMagic: 0x12345678 }), idb]), packets: 0, error: /byte-order magic/ },
    ];
    for (const c of cases) {
      const path = join(workDir, `precise-${c.name.replace(/\W+/g, '-')}`);
      writeFileSync(path, c.bytes);
      const o = await readGuarded(path, rng.pick(CHUNK_SIZES));
      expect(unexpectedOutcome(o), c.name).toBeUndefined();
      expect({ name: c.name, packets: o.result?.packets, skippedBlocks: o.result?.skippedBlocks ?? 0 }).toEqual({ name: c.name, packets: c.packets, skippedBlocks: c.skippedBlocks ?? 0 });
      if (c.error) expect(o.result?.error, c.name).toMatch(c.error);
      else expect(o.result?.error, c.name).toBeUndefined();
    }
  });

  test('files - timestamps: µs, ns, if_tsresol and if_tsoffset are honoured', async () => {
    const frame = samplesOf(new Rng(SEED), 1, 1)[0];
    // Compared to the microsecond: a double near 1.7e12 holds no finer than ~0.24 µs anyway.
    const read = async (bytes: Buffer): Promise<number[]> => {
      const path = join(workDir, 'timestamps');
      writeFileSync(path, bytes);
      const times: number[] = [];
      await readCaptureFile(path, { packet: (_l, tsMs) => times.push(Math.round(tsMs * 1000) / 1000) });
      return times;
    };
    expect(await read(W.pcapFile({ linkType: 1 }, [{ data: frame, tsSec: 1_700_000_000, tsFrac: 123_456 }]))).toEqual([1_700_000_000_123.456]);
    expect(await read(W.pcapFile({ linkType: 1, nanos: true, littleEndian: false }, [{ data: frame, tsSec: 1_700_000_000, tsFrac: 123_456_789 }]))).toEqual([1_700_000_000_123.457]);
    const ng = (options: Buffer[], timestamp: bigint): Buffer => Buffer.concat([W.pcapngShb(), W.pcapngIdb({ linkType: 1, options: [...options, W.pcapngEndOfOptions()] }), W.pcapngEpb({ data: frame, timestamp })]);
    expect(await read(ng([], 1_700_000_000_123_456n))).toEqual([1_700_000_000_123.456]);
    expect(await read(ng([W.tsresolOption(9)], 1_700_000_000_123_456_789n))).toEqual([1_700_000_000_123.457]);
    expect(await read(ng([W.tsresolOption(0x80 | 10)], 1024n * 1_700_000_000n + 512n))).toEqual([1_700_000_000_500]);
    expect(await read(ng([W.tsoffsetOption(1_700_000_000n)], 1_000_000n))).toEqual([1_700_000_001_000]);
  });

  test('files - flows from files with out-of-range timestamps still satisfy the FlowRecord schema', async () => {
    const frame = W.ethernetFrame(W.EtherTypeNum.IPV4, W.ipv4Packet(17, W.udpDatagram(1000, 53, new Uint8Array(8))));
    const ng = (options: Buffer[], timestamp: bigint): Buffer => Buffer.concat([W.pcapngShb(), W.pcapngIdb({ linkType: 1, options: [...options, W.pcapngEndOfOptions()] }), W.pcapngEpb({ data: frame, timestamp })]);
    const files = {
      'negative if_tsoffset': ng([W.tsoffsetOption(-2_000_000_000n)], 0n),
      'timestamp 2^64-1 µs': ng([], 0xffffffffffffffffn),
      'if_tsresol 0 (1 s units)': ng([W.tsresolOption(0)], 0xffffffffffffn),
    };
    const invalid: string[] = [];
    for (const [name, bytes] of Object.entries(files)) {
      const path = join(workDir, 'schema');
      writeFileSync(path, bytes);
      const o = await readGuarded(path, undefined);
      expect(unexpectedOutcome(o), name).toBeUndefined();
      expect(o.sinkPackets, name).toBe(1);
      // The packet may be skipped for its timestamp; a flow made from it must be a valid record.
      for (const flow of o.flows) {
        const r = FlowRecord.safeParse(flow);
        if (!r.success) invalid.push(`${name}: firstSeenMs ${flow.firstSeenMs}: ${r.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
      }
    }
    expect(invalid).toEqual([]);
  });

  test('files - 65,536 interface blocks with distinct link types read in linear time', async () => {
    // 1.3 MB of IDBs. Each section may hold 65,536 interfaces and a file any number of sections,
    // so a per-IDB cost that grows with the link types seen turns a small file into minutes of CPU.
    // Timed against the same number of IDBs that all share one link type.
    const time = async (name: string, linkType: (i: number) => number): Promise<number> => {
      const path = join(workDir, name);
      writeFileSync(path, W.concatBytes([W.pcapngShb(), ...Array.from({ length: 65_536 }, (_, i) => W.pcapngIdb({ linkType: linkType(i) }))]));
      const started = performance.now();
      const o = await readGuarded(path, undefined, 20_000);
      expect(unexpectedOutcome(o), name).toBeUndefined();
      expect(o.result?.error, name).toBeUndefined();
      return performance.now() - started;
    };
    const same = await time('idbs-one-link-type.pcapng', () => 1);
    const distinct = await time('idbs-distinct-link-types.pcapng', (i) => i);
    expect(distinct, `ms for 65,536 IDBs: ${Math.round(distinct)} with distinct link types, ${Math.round(same)} with one`).toBeLessThan(3 * same + 300);
  });

  test('files - a directory is refused without leaking its file descriptor', async () => {
    if (!existsSync('/proc/self/fd')) return;
    const dir = join(workDir, 'a-directory');
    mkdirSync(dir, { recursive: true });
    const fds = (): number => readdirSync('/proc/self/fd').length;
    const before = fds();
    for (let i = 0; i < 10; i++) {
      const o = await readGuarded(dir, 64);
      expect((o.thrown as Error | undefined)?.name).toBe('CaptureFormatError');
      expect((o.thrown as Error).message).toMatch(/is a directory/);
    }
    expect(fds() - before, 'file descriptors left open').toBe(0);
  });
});

// ------------------------------------------------------------------ the CLI

interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function runCli(args: string[], timeoutMs = 15_000): Promise<CliRun> {
  return new Promise((resolveRun, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code, signal) => resolveRun({ code, signal, stdout, stderr, ms: performance.now() - started }));
  });
}

const STACK_FRAME = /^\s+at\s/m;
const USAGE_HINT = "Run 'nta-agent --help' for usage.";

describe('broken files through the CLI', () => {
  // `npm test` builds first; a missing CLI fails here rather than skipping the CLI tests.
  test('cli - the built CLI is there', () => {
    expect(existsSync(CLI), `${CLI} missing: build first (pnpm run build)`).toBe(true);
  });

  test('cli - every broken input ends with one clear stderr line, a defined exit code, and no stack trace', async () => {
    const dir = join(workDir, 'cli');
    mkdirSync(join(dir, 'a-directory'), { recursive: true });
    const rng = new Rng(SEED ^ 0xc11);
    const frames = samplesOf(rng, 1, 4);
    const write = (name: string, bytes: Uint8Array): string => {
      writeFileSync(join(dir, name), bytes);
      return join(dir, name);
    };
    const good = W.pcapFile({ linkType: 1 }, frames.map((data) => ({ data })));
    const deepSnap = Buffer.concat([Buffer.from('0200000000020200000000010040', 'hex'), Buffer.alloc(12 * 10_000, Buffer.from('aaaa03000000810000010040', 'hex'))]);
    const huge = Buffer.concat([W.pcapngShb(), W.pcapngIdb({ linkType: 1 }), W.pcapngEpb({ data: frames[0], timestamp: 0xffffffffffffffffn })]);
    type Expect = { args: string[]; name: string; code: number; line: RegExp; json?: Record<string, unknown> };
    const cases: Expect[] = [
      { name: 'empty file', args: ['read', write('empty.pcap', new Uint8Array(0)), '--format', 'none'], code: 1, line: /^nta-agent: error: .*empty file/ },
      { name: '3-byte file', args: ['read', write('three.pcap', Buffer.from('abc')), '--format', 'none'], code: 1, line: /^nta-agent: error: .*only 3 bytes/ },
      { name: 'bad magic', args: ['read', write('text.pcap', Buffer.from('this is not a capture file\n')), '--format', 'none'], code: 1, line: /^nta-agent: error: .*not a pcap or pcapng capture/ },
      { name: 'pcap cut mid-record', args: ['read', write('cut.pcap', good.subarray(0, good.length - 10)), '--format', 'none'], code: 1, line: /^\{/, json: { packets: 3, format: 'pcap' } },
      { name: 'absurd capture length', args: ['read', write('caplen.pcap', W.pcapFile({ linkType: 1 }, [{ data: frames[0] }, { data: frames[1], capLenField: 0xfffffff0 }])), '--format', 'none'], code: 1, line: /^\{/, json: { packets: 1 } },
      { name: 'pcapng broken block', args: ['read', write('broken.pcapng', Buffer.concat([W.pcapngShb(), W.pcapngIdb({ linkType: 1 }), W.pcapngEpb({ data: frames[0] }), W.pcapngEpb({ data: frames[1], trailerField: 4 })])), '--format', 'none'], code: 1, line: /^\{/, json: { packets: 1, format: 'pcapng' } },
      { name: 'a directory', args: ['read', join(dir, 'a-directory'), '--format', 'none'], code: 1, line: /^nta-agent: error: .*is a directory/ },
      { name: 'a missing file', args: ['read', join(dir, 'no-such-file.pcap'), '--format', 'none'], code: 1, line: /^nta-agent: error: .*no such file/ },
      { name: 'a bad flag', args: ['read', join(dir, 'empty.pcap'), '--bogus'], code: 2, line: /^nta-agent: read: .*--bogus/ },
      { name: 'a bad flag value', args: ['read', join(dir, 'empty.pcap'), '--max-flows', 'lots'], code: 2, line: /^nta-agent: .*--max-flows/ },
      { name: 'a good file', args: ['read', write('good.pcap', good), '--format', 'none'], code: 0, line: /^\{/, json: { packets: 4 } },
      { name: 'nested LLC/SNAP + 802.1Q frame', args: ['read', write('deep.pcap', W.pcapFile({ linkType: 1 }, [{ data: deepSnap }])), '--format', 'none'], code: 0, line: /^\{/, json: { packets: 1 } },
      { name: 'timestamp past year 275760, ndjson output', args: ['read', write('far-future.pcapng', huge), '--format', 'ndjson'], code: 0, line: /^\{/, json: { packets: 1 } },
    ];
    const runs = await Promise.all(cases.map((c) => runCli(c.args)));
    const problems: string[] = [];
    for (const [i, c] of cases.entries()) {
      const r = runs[i];
      const lines = r.stderr.split('\n').filter((l) => l.length > 0);
      const own = lines.filter((l) => l !== USAGE_HINT);
      const why: string[] = [];
      if (r.signal !== null) why.push(`killed by ${r.signal} after ${Math.round(r.ms)} ms`);
      if (r.code !== c.code) why.push(`exit code ${r.code}, expected ${c.code}`);
      if (STACK_FRAME.test(r.stderr)) why.push('stack trace on stderr');
      if (own.length !== 1) why.push(`${own.length} stderr lines`);
      if (own[0] !== undefined && !c.line.test(own[0])) why.push(`stderr line does not match ${c.line}`);
      if (c.json !== undefined && own.length === 1 && own[0].startsWith('{')) {
        const summary = JSON.parse(own[0]) as Record<string, unknown>;
        for (const [k, v] of Object.entries(c.json)) if (summary[k] !== v) why.push(`summary ${k} = ${JSON.stringify(summary[k])}, expected ${JSON.stringify(v)}`);
        if ((c.code === 0) !== (summary.error === undefined)) why.push(`summary error ${JSON.stringify(summary.error)} with exit code ${r.code}`);
      }
      if (c.args.includes('none') && r.stdout !== '') why.push('stdout not empty with --format none');
      if (why.length > 0) problems.push(`${c.name}: ${why.join('; ')}\n    stderr: ${r.stderr.slice(0, 400).replace(/\n/g, '\n            ')}`);
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });
});
