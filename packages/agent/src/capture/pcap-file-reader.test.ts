import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureFormatError } from '@nta/shared';
import { describe, expect, it } from 'vitest';
import { readCaptureFile } from './pcap-file-reader.js';
import type { PacketSink } from './packet-sink.js';

const dir = mkdtempSync(join(tmpdir(), 'nta-reader-'));
let n = 0;
function file(bytes: Buffer): string {
  const path = join(dir, `f${n++}`);
  writeFileSync(path, bytes);
  return path;
}

interface Seen {
  linkType: number;
  tsMs: number;
  data: number[];
  wireLen: number;
}

async function readAll(path: string, chunkBytes?: number) {
  const seen: Seen[] = [];
  const sink: PacketSink = {
    packet(linkType, tsMs, buf, off, capLen, wireLen) {
      seen.push({ linkType, tsMs, data: [...buf.subarray(off, off + capLen)], wireLen });
    },
  };
  const result = await readCaptureFile(path, sink, chunkBytes ? { chunkBytes } : {});
  return { result, seen };
}

function classicPcap(opts: { le: boolean; nano: boolean; linkType: number; packets: Array<{ sec: number; frac: number; data: number[]; wireLen?: number }> }): Buffer {
  const w32 = (b: Buffer, v: number, o: number) => (opts.le ? b.writeUInt32LE(v >>> 0, o) : b.writeUInt32BE(v >>> 0, o));
  const w16 = (b: Buffer, v: number, o: number) => (opts.le ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o));
  const header = Buffer.alloc(24);
  w32(header, opts.nano ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  w16(header, 2, 4);
  w16(header, 4, 6);
  w32(header, 65535, 16);
  w32(header, opts.linkType, 20);
  const records = opts.packets.map((p) => {
    const r = Buffer.alloc(16 + p.data.length);
    w32(r, p.sec, 0);
    w32(r, p.frac, 4);
    w32(r, p.data.length, 8);
    w32(r, p.wireLen ?? p.data.length, 12);
    Buffer.from(p.data).copy(r, 16);
    return r;
  });
  return Buffer.concat([header, ...records]);
}

function block(type: number, body: Buffer): Buffer {
  const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
  const b = Buffer.alloc(12 + padded.length);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(b.length, 4);
  padded.copy(b, 8);
  b.writeUInt32LE(b.length, b.length - 4);
  return b;
}

function shb(): Buffer {
  const body = Buffer.alloc(16);
  body.writeUInt32LE(0x1a2b3c4d, 0);
  body.writeUInt16LE(1, 4);
  body.writeBigInt64LE(-1n, 8);
  return block(0x0a0d0d0a, body);
}

function idb(linkType: number, tsresol?: number): Buffer {
  const opts = tsresol === undefined ? Buffer.alloc(0) : Buffer.from([9, 0, 1, 0, tsresol, 0, 0, 0, 0, 0, 0, 0]);
  const body = Buffer.alloc(8 + opts.length);
  body.writeUInt16LE(linkType, 0);
  body.writeUInt32LE(65535, 4);
  opts.copy(body, 8);
  return block(1, body);
}

function epb(ifaceId: number, units: bigint, data: number[]): Buffer {
  const body = Buffer.alloc(20 + data.length);
  body.writeUInt32LE(ifaceId, 0);
  body.writeUInt32LE(Number(units >> 32n), 4);
  body.writeUInt32LE(Number(units & 0xffffffffn), 8);
  body.writeUInt32LE(data.length, 12);
  body.writeUInt32LE(data.length, 16);
  Buffer.from(data).copy(body, 20);
  return block(6, body);
}

describe('pcap-file-reader', () => {
  for (const le of [true, false]) {
    for (const nano of [false, true]) {
      it(`pcap-file-reader - classic pcap, ${le ? 'little' : 'big'}-endian, ${nano ? 'nano' : 'micro'}seconds`, async () => {
        const path = file(
          classicPcap({
            le, nano, linkType: 1,
            packets: [
              { sec: 1_700_000_000, frac: nano ? 123_456_789 : 123_456, data: [1, 2, 3], wireLen: 60 },
              { sec: 1_700_000_001, frac: 0, data: [4] },
            ],
          }),
        );
        const { result, seen } = await readAll(path);
        expect(result).toMatchObject({ format: 'pcap', packets: 2, linkTypes: [1] });
        expect(result.error).toBeUndefined();
        // 1.7e12 ms is held to about 0.25 µs, so compare to 3 decimals.
        expect(seen[0].tsMs).toBeCloseTo(nano ? 1_700_000_000_123.4568 : 1_700_000_000_123.456, 3);
        expect(seen[0].data).toEqual([1, 2, 3]);
        expect(seen[0].wireLen).toBe(60);
        expect(seen[1].tsMs).toBe(1_700_000_001_000);
      });
    }
  }

  it('pcap-file-reader - records straddling chunk boundaries arrive whole', async () => {
    const packets = Array.from({ length: 500 }, (_, i) => ({ sec: i, frac: 0, data: Array.from({ length: 1 + (i % 97) }, (_, j) => (i + j) & 255) }));
    const path = file(classicPcap({ le: true, nano: false, linkType: 101, packets }));
    const { result, seen } = await readAll(path, 64);
    expect(result.packets).toBe(500);
    expect(seen.map((s) => s.data)).toEqual(packets.map((p) => p.data));
  });

  it('pcap-file-reader - pcapng with two interfaces of different link types and resolutions', async () => {
    const path = file(
      Buffer.concat([
        shb(),
        idb(1), // default resolution: microseconds
        idb(101, 9), // nanoseconds
        epb(0, 1_700_000_000_000_001n, [0xaa]),
        block(4, Buffer.alloc(4)), // name resolution block: skipped
        epb(1, 1_700_000_000_500_000_000n, [0xbb, 0xcc]),
        epb(7, 0n, [0xdd]), // no such interface: skipped, counted
      ]),
    );
    const { result, seen } = await readAll(path);
    expect(result).toMatchObject({ format: 'pcapng', packets: 2, linkTypes: [1, 101], skippedBlocks: 1 });
    expect(seen.map((s) => s.linkType)).toEqual([1, 101]);
    expect(seen[0].tsMs).toBeCloseTo(1_700_000_000_000.001, 3);
    expect(seen[1].tsMs).toBeCloseTo(1_700_000_000_500, 3);
    expect(seen[1].data).toEqual([0xbb, 0xcc]);
  });

  it('pcap-file-reader - a record cut short ends the read with an error after the whole packets', async () => {
    const full = classicPcap({ le: true, nano: false, linkType: 1, packets: [{ sec: 1, frac: 0, data: [1, 2, 3, 4] }, { sec: 2, frac: 0, data: [5, 6, 7, 8] }] });
    const { result, seen } = await readAll(file(full.subarray(0, full.length - 2)));
    expect(seen).toHaveLength(1);
    expect(result.error).toMatch(/truncated last record/);
  });

  it('pcap-file-reader - an absurd capture length is reported as damage, not read', async () => {
    const bytes = classicPcap({ le: true, nano: false, linkType: 1, packets: [{ sec: 1, frac: 0, data: [1] }, { sec: 2, frac: 0, data: [2] }] });
    bytes.writeUInt32LE(0xfffffff0, 24 + 17 + 8);
    const { result, seen } = await readAll(file(bytes));
    expect(seen).toHaveLength(1);
    expect(result.error).toMatch(/capture length 4294967280 exceeds 262144/);
  });

  it('pcap-file-reader - non-captures get one clear error', async () => {
    await expect(readAll(file(Buffer.alloc(0)))).rejects.toThrow(/empty file/);
    await expect(readAll(file(Buffer.from('hello world, not a capture')))).rejects.toThrow(CaptureFormatError);
    await expect(readAll(join(dir, 'missing.pcap'))).rejects.toThrow(/no such file/);
    await expect(readAll(dir)).rejects.toThrow(/is a directory/);
  });
});
