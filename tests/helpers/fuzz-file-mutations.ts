/**
 * Capture-file mutations for the readCaptureFile fuzzer: well-formed pcap and pcapng files
 * built from sample frames, structural damage to one header, record or block, and damage
 * to the file's bytes as a whole.
 */
import * as W from './pcap-writer.js';
import { samplesOf, type Rng, type Sample } from './fuzz-samples.js';

/** A capture built from parts, so mutations can target one record or block. */
export interface BaseFile {
  name: string;
  format: 'pcap' | 'pcapng';
  le: boolean;
  header: Buffer; // pcap file header; empty for pcapng
  units: Buffer[]; // pcap records, or pcapng blocks
  packets: number;
}

export function baseFiles(rng: Rng, samples: readonly Sample[]): BaseFile[] {
  const out: BaseFile[] = [];
  const classic = (name: string, o: W.PcapHeaderOptions, n: number): void => {
    const le = o.littleEndian ?? true;
    const units = samplesOf(rng, samples, o.linkType, n).map((data, i) =>
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
  const eth = samplesOf(rng, samples, 1, 10);
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
  const sll = samplesOf(rng, samples, 113, 4);
  const raw = samplesOf(rng, samples, 101, 4);
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
export function mutatePcap(rng: Rng, f: BaseFile, header: Buffer, units: Buffer[]): string {
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
export function mutatePcapng(rng: Rng, f: BaseFile, units: Buffer[]): string {
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
export function damageBytes(rng: Rng, file: Buffer): { bytes: Buffer; what: string } {
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
