import { setTimeout as sleep } from 'node:timers/promises';
import type { ChunkedFile } from './chunked-file.js';
import { MAX_RECORD_BYTES } from './chunked-file.js';
import type { FileReadResult, ReadOptions } from './pcap-file-reader.js';
import type { PacketSink } from './packet-sink.js';

const BLOCK_SHB = 0x0a0d0d0a;
const BLOCK_IDB = 1;
const BLOCK_PB = 2; // obsolete Packet Block
const BLOCK_SPB = 3;
const BLOCK_EPB = 6;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;
const MAX_INTERFACES = 65_536;

interface Iface {
  linkType: number;
  snapLen: number;
  /** Timestamp units per millisecond (if_tsresol), and seconds added to every timestamp (if_tsoffset). */
  unitsPerMs: number;
  offsetMs: number;
}

/**
 * pcapng (draft-ietf-opsawg-pcapng): sections with their own byte order, interfaces with
 * their own link type and timestamp resolution, enhanced/simple/obsolete packet blocks.
 * Unknown blocks are skipped by length; a broken block length ends the read with an error.
 */
export async function readPcapng(file: ChunkedFile, sink: PacketSink, options: ReadOptions): Promise<FileReadResult> {
  const result: FileReadResult = { format: 'pcapng', packets: 0, linkTypes: [], skippedBlocks: 0 };
  let le = true;
  let ifaces: Iface[] = [];
  let lastTsMs = 0;
  let packets = 0;
  /** Link types already in result.linkTypes: a file may hold millions of IDBs, so no linear search. */
  const seenLinkTypes = new Set<number>();

  const fail = (message: string): FileReadResult => {
    result.packets = packets;
    result.error = `damaged pcapng block at byte ${file.offset}: ${message}`;
    return result;
  };

  blocks: for (;;) {
    if (file.available < 12) {
      if (file.eof) {
        if (file.available > 0) result.error = `truncated last block (${file.available} bytes at byte ${file.offset})`;
        break;
      }
      await file.refill(12);
      continue;
    }
    const view = file.view;
    const pos = file.pos;
    const rawType = view.getUint32(pos, le);
    let type = rawType;
    if (view.getUint32(pos, false) === BLOCK_SHB) {
      type = BLOCK_SHB;
      const bom = view.getUint32(pos + 8, true);
      if (bom === BYTE_ORDER_MAGIC) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else return fail(`section header with unknown byte-order magic 0x${bom.toString(16)}`);
    }
    const blockLen = view.getUint32(pos + 4, le);
    if (blockLen < 12 || blockLen % 4 !== 0) return fail(`block length ${blockLen} is not a multiple of 4 of at least 12`);
    if (blockLen > MAX_RECORD_BYTES) return fail(`block length ${blockLen} exceeds ${MAX_RECORD_BYTES}`);
    if (file.available < blockLen) {
      if (file.eof) {
        result.error = `truncated last block (${file.available} of ${blockLen} bytes at byte ${file.offset})`;
        break;
      }
      await file.refill(blockLen);
      const pending = options.onChunk?.();
      if (pending) await pending;
      if (options.shouldStop?.()) break;
      continue;
    }
    const trailer = file.view.getUint32(pos + blockLen - 4, le);
    if (trailer !== blockLen) return fail(`trailing length ${trailer} differs from leading length ${blockLen}`);
    const buf = file.buf;
    const body = pos + 8;
    const bodyLen = blockLen - 12;
    switch (type) {
      case BLOCK_SHB:
        ifaces = [];
        break;
      case BLOCK_IDB: {
        if (bodyLen < 8) return fail('interface description block too short');
        if (ifaces.length >= MAX_INTERFACES) return fail('too many interfaces');
        const iface: Iface = {
          linkType: view.getUint16(body, le),
          snapLen: view.getUint32(body + 4, le),
          unitsPerMs: 1000,
          offsetMs: 0,
        };
        readIfaceOptions(view, body + 8, body + bodyLen, le, iface);
        ifaces.push(iface);
        if (!seenLinkTypes.has(iface.linkType)) {
          seenLinkTypes.add(iface.linkType);
          result.linkTypes.push(iface.linkType);
        }
        break;
      }
      case BLOCK_EPB:
      case BLOCK_PB: {
        if (bodyLen < 20) return fail('packet block too short');
        const ifaceId = type === BLOCK_EPB ? view.getUint32(body, le) : view.getUint16(body, le);
        const capLen = view.getUint32(body + 12, le);
        const wireLen = view.getUint32(body + 16, le);
        const iface = ifaces[ifaceId];
        if (iface === undefined || capLen > bodyLen - 20) {
          result.skippedBlocks++;
          break;
        }
        const units = view.getUint32(body + 4, le) * 4294967296 + view.getUint32(body + 8, le);
        const tsMs = units / iface.unitsPerMs + iface.offsetMs;
        const waitMs = options.pace?.(tsMs) ?? 0;
        if (waitMs > 0) {
          if (options.shouldStop?.()) break blocks;
          await sleep(Math.min(waitMs, 1000));
          continue blocks;
        }
        lastTsMs = tsMs;
        sink.packet(iface.linkType, lastTsMs, buf, body + 20, capLen, wireLen > capLen ? wireLen : capLen);
        packets++;
        break;
      }
      case BLOCK_SPB: {
        const iface = ifaces[0];
        if (bodyLen < 4 || iface === undefined) {
          result.skippedBlocks++;
          break;
        }
        const wireLen = view.getUint32(body, le);
        let capLen = Math.min(wireLen, bodyLen - 4);
        if (iface.snapLen > 0 && capLen > iface.snapLen) capLen = iface.snapLen;
        sink.packet(iface.linkType, lastTsMs, buf, body + 4, capLen, wireLen > capLen ? wireLen : capLen);
        packets++;
        break;
      }
      default:
        // Name resolution, statistics, decryption secrets, custom blocks: not packets.
        break;
    }
    file.pos = pos + blockLen;
  }
  result.packets = packets;
  return result;
}

function readIfaceOptions(view: DataView, p: number, end: number, le: boolean, iface: Iface): void {
  while (end - p >= 4) {
    const code = view.getUint16(p, le);
    const len = view.getUint16(p + 2, le);
    const value = p + 4;
    if (code === 0 || value + len > end) return;
    if (code === OPT_IF_TSRESOL && len >= 1) {
      const resol = view.getUint8(value);
      const exponent = resol & 0x7f;
      // MSB clear: 10^-n seconds; set: 2^-n seconds. Clamp so a hostile value stays finite.
      const unitsPerSecond = resol & 0x80 ? 2 ** Math.min(exponent, 63) : 10 ** Math.min(exponent, 18);
      iface.unitsPerMs = unitsPerSecond / 1000;
    } else if (code === OPT_IF_TSOFFSET && len >= 8) {
      const high = view.getInt32(value + (le ? 4 : 0), le);
      const low = view.getUint32(value + (le ? 0 : 4), le);
      iface.offsetMs = (high * 4294967296 + low) * 1000;
    }
    p = value + ((len + 3) & ~3);
  }
}
