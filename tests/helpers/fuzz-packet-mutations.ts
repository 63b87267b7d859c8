/**
 * Packet mutations for the FlowPipeline fuzzer: where a frame's length fields are (IP,
 * transport, DNS, TLS), and the mutators that bend them, flip bits, truncate, swap link
 * types, stack Ethernet shims or make up random packets.
 */
import { DecodedPacket, decodePacket } from '../../packages/agent/src/index.js';
import type { Rng, Sample } from './fuzz-samples.js';

// ------------------------------------------------------------------ where the length fields are

export interface Field {
  off: number;
  /** Bytes, big-endian; 0.5 = high nibble, -0.5 = low nibble. */
  width: 0.5 | -0.5 | 1 | 2 | 3;
  name: string;
}

const isDnsPort = (p: number): boolean => p === 53 || p === 5353 || p === 5355;

export interface Layout {
  fields: Field[];
  /** Where the client's port is, or -1: mutants of DNS/TLS fields get a fresh one, so each starts a
   * new flow and reaches the L7 parsers (which look only at the first packets of a flow). */
  clientPortOff: number;
  /** The transport payload [payloadOff, payloadEnd) when the frame decodes, else empty. */
  payloadOff: number;
  payloadEnd: number;
}

/** Finds the IP, transport, DNS and TLS length fields of a decodable frame. */
export function lengthFields(s: Sample): Layout {
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
export interface Mutant {
  linkType: number;
  data: Uint8Array;
  capLen: number;
  kind: string;
}

export function mutateFlip(rng: Rng, s: Sample): Mutant {
  const d = Uint8Array.from(s.data);
  for (let k = 1 + rng.int(8); k > 0; k--) {
    const i = rng.int(d.length);
    d[i] ^= 1 << rng.int(8);
  }
  return { linkType: s.linkType, data: d, capLen: d.length, kind: 'bit-flip' };
}

export function mutateOverwrite(rng: Rng, s: Sample): Mutant {
  const d = Uint8Array.from(s.data);
  for (let k = 1 + rng.int(16); k > 0; k--) d[rng.int(d.length)] = rng.chance(0.5) ? rng.pick(INTERESTING_BYTES) : rng.int(256);
  return { linkType: s.linkType, data: d, capLen: d.length, kind: 'byte-overwrite' };
}

export function mutateTruncate(rng: Rng, s: Sample): Mutant {
  return { linkType: s.linkType, data: s.data, capLen: rng.int(s.data.length + 1), kind: 'truncate' };
}

export function mutateLengthField(rng: Rng, s: Sample, layout: Layout): Mutant {
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
export function mutatePayload(rng: Rng, s: Sample, layout: Layout): Mutant {
  const d = Uint8Array.from(s.data);
  const span = layout.payloadEnd - layout.payloadOff;
  for (let k = 1 + rng.int(6); k > 0; k--) d[layout.payloadOff + rng.int(span)] = rng.chance(0.6) ? rng.pick(PAYLOAD_BYTES) : rng.int(256);
  if (layout.clientPortOff >= 0) writeField(d, { off: layout.clientPortOff, width: 2, name: 'port' }, 1024 + rng.int(64_512));
  const capLen = rng.chance(0.3) ? layout.payloadOff + rng.int(span + 1) : d.length;
  return { linkType: s.linkType, data: d, capLen, kind: 'l7-payload' };
}

export function mutateLinkType(rng: Rng, s: Sample): Mutant {
  const linkType = rng.chance(0.7) ? rng.pick(LINK_TYPES) : rng.chance(0.5) ? rng.pick(ODD_LINK_TYPES) : rng.int(300);
  return { linkType, data: s.data, capLen: s.data.length, kind: 'link-type' };
}

export function randomPacket(rng: Rng): Mutant {
  const data = rng.bytes(rng.int(rng.chance(0.9) ? 200 : 1600));
  const linkType = rng.chance(0.9) ? rng.pick(LINK_TYPES) : rng.int(300);
  if (data.length > 0 && rng.chance(0.5)) data[linkType === 1 ? Math.min(14, data.length - 1) : 0] = rng.pick([0x45, 0x46, 0x4f, 0x60, 0x6f]);
  return { linkType, data, capLen: data.length, kind: 'random-bytes' };
}

/** Ethernet shims stacked deep: VLAN tags, MPLS labels, PPPoE, LLC/SNAP nested in 802.1Q. */
export function mutateShim(rng: Rng, s: Sample): Mutant {
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
