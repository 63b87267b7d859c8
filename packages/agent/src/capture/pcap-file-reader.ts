import { setTimeout as sleep } from 'node:timers/promises';
import { CaptureFormatError } from '@nta/shared';
import { ChunkedFile, MAX_RECORD_BYTES } from './chunked-file.js';
import type { PacketSink } from './packet-sink.js';
import { readPcapng } from './pcapng-reader.js';

/** Largest capture length libpcap accepts for any link type; beyond it a record is damage. */
export const MAX_CAPLEN = 262_144;

export interface FileReadResult {
  format: 'pcap' | 'pcapng';
  packets: number;
  /** Link types seen, as LINKTYPE_* numbers. */
  linkTypes: number[];
  /** pcapng blocks skipped because they are unknown, or refer to a missing interface. */
  skippedBlocks: number;
  /** Set when the file ended early or is damaged; everything before it was delivered. */
  error?: string;
}

export interface ReadOptions {
  chunkBytes?: number;
  /** Called between chunks; a returned promise holds the reader (backpressure, pacing). */
  onChunk?: () => void | Promise<void>;
  /** Checked between chunks: stop reading early (Ctrl-C). */
  shouldStop?: () => boolean;
  /**
   * Replay pacing: milliseconds to wait before delivering a packet stamped `tsMs`
   * (0 or less: deliver now). Only consulted when set, so a plain read pays nothing.
   */
  pace?: (tsMs: number) => number;
}


const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAP_MAGIC_MODIFIED = 0xa1b2cd34; // Alexey Kuznetsov's patched libpcap: 8 extra header bytes
const PCAPNG_SHB = 0x0a0d0d0a;

/** Reads a classic pcap or pcapng file, delivering every packet to `sink`. */
export async function readCaptureFile(path: string, sink: PacketSink, options: ReadOptions = {}): Promise<FileReadResult> {
  let file: ChunkedFile;
  try {
    file = await ChunkedFile.open(path, options.chunkBytes);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : String((err as Error).message);
    throw new CaptureFormatError(`${path}: cannot open: ${why}`, { cause: err });
  }
  try {
    if (file.available === 0) throw new CaptureFormatError(`${path}: empty file, not a pcap or pcapng capture`);
    if (file.available < 4) throw new CaptureFormatError(`${path}: only ${file.available} bytes, not a pcap or pcapng capture`);
    const magicBE = file.view.getUint32(0, false);
    const magicLE = file.view.getUint32(0, true);
    if (magicBE === PCAPNG_SHB) return await readPcapng(file, sink, options);
    for (const [magic, littleEndian] of [[magicLE, true], [magicBE, false]] as const) {
      if (magic === PCAP_MAGIC_US || magic === PCAP_MAGIC_NS || magic === PCAP_MAGIC_MODIFIED) {
        return await readClassic(file, sink, options, littleEndian, magic, path);
      }
    }
    throw new CaptureFormatError(`${path}: not a pcap or pcapng capture (starts with 0x${magicBE.toString(16).padStart(8, '0')})`);
  } finally {
    await file.close();
  }
}

async function readClassic(
  file: ChunkedFile,
  sink: PacketSink,
  options: ReadOptions,
  le: boolean,
  magic: number,
  path: string,
): Promise<FileReadResult> {
  const result: FileReadResult = { format: 'pcap', packets: 0, linkTypes: [], skippedBlocks: 0 };
  if (!(await file.refill(24))) {
    result.error = `${path}: truncated file header (${file.available} of 24 bytes)`;
    return result;
  }
  const fracPerMs = magic === PCAP_MAGIC_NS ? 1e6 : 1e3;
  const recordHeaderLen = magic === PCAP_MAGIC_MODIFIED ? 24 : 16;
  // The upper bits of the link-type field carry FCS information (pcap-linktype(7)).
  const linkType = file.view.getUint32(20, le) & 0x0fffffff & 0xffff;
  result.linkTypes.push(linkType);
  file.pos = 24;
  let packets = 0;
  const pace = options.pace;
  for (;;) {
    let waitMs = 0;
    // Synchronous inner loop over the records already in memory.
    const buf = file.buf;
    const view = file.view;
    let pos = file.pos;
    const end = file.end;
    while (end - pos >= recordHeaderLen) {
      const capLen = view.getUint32(pos + 8, le);
      if (capLen > MAX_CAPLEN) {
        file.pos = pos;
        result.packets = packets;
        result.error = `${path}: damaged record at byte ${file.offset}: capture length ${capLen} exceeds ${MAX_CAPLEN}`;
        return result;
      }
      if (end - pos < recordHeaderLen + capLen) break;
      const tsMs = view.getUint32(pos, le) * 1000 + view.getUint32(pos + 4, le) / fracPerMs;
      if (pace !== undefined && (waitMs = pace(tsMs)) > 0) break;
      const wireLen = view.getUint32(pos + 12, le);
      sink.packet(linkType, tsMs, buf, pos + recordHeaderLen, capLen, wireLen > capLen ? wireLen : capLen);
      packets++;
      pos += recordHeaderLen + capLen;
    }
    file.pos = pos;
    if (options.shouldStop?.()) break;
    if (waitMs > 0) {
      await sleep(Math.min(waitMs, 1000));
      continue;
    }
    if (file.eof) {
      if (file.available > 0) {
        result.error = `${path}: truncated last record (${file.available} bytes at byte ${file.offset})`;
      }
      break;
    }
    const need = file.available >= recordHeaderLen ? recordHeaderLen + file.view.getUint32(file.pos + 8, le) : recordHeaderLen;
    await file.refill(Math.min(need, MAX_RECORD_BYTES));
    const pending = options.onChunk?.();
    if (pending) await pending;
  }
  result.packets = packets;
  return result;
}
