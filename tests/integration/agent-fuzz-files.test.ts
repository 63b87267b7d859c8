/**
 * The agent against hostile capture files: pcap and pcapng files mutated by the thousand and
 * read with readCaptureFile into a FlowPipeline, plus precise damage with a precise outcome.
 * Nothing may throw except CaptureFormatError for files that are not captures, hang, or
 * leak a file descriptor.
 *
 * NTA_FUZZ_SEED=<seed> replays a run exactly (see tests/helpers/fuzz-samples.ts).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { FlowPipeline, readCaptureFile, type FileReadResult } from '../../packages/agent/src/index.js';
import { FlowRecord } from '../../packages/shared/src/index.js';
import * as W from '../helpers/pcap-writer.js';
import { Rng, SEED, samplesOf, useFuzzWorkspace } from '../helpers/fuzz-samples.js';
import { baseFiles, damageBytes, mutatePcap, mutatePcapng } from '../helpers/fuzz-file-mutations.js';

const ws = useFuzzWorkspace();

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
    for (const f of baseFiles(rng, ws.samples)) {
      const path = join(ws.workDir, `base-${f.name}.${f.format}`);
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
    const bases = baseFiles(rng, ws.samples);
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
    const frames = samplesOf(rng, ws.samples, 1, 5);
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
      const path = join(ws.workDir, `precise-${c.name.replace(/\W+/g, '-')}`);
      writeFileSync(path, c.bytes);
      const o = await readGuarded(path, rng.pick(CHUNK_SIZES));
      expect(unexpectedOutcome(o), c.name).toBeUndefined();
      expect({ name: c.name, packets: o.result?.packets, skippedBlocks: o.result?.skippedBlocks ?? 0 }).toEqual({ name: c.name, packets: c.packets, skippedBlocks: c.skippedBlocks ?? 0 });
      if (c.error) expect(o.result?.error, c.name).toMatch(c.error);
      else expect(o.result?.error, c.name).toBeUndefined();
    }
  });

  test('files - timestamps: µs, ns, if_tsresol and if_tsoffset are honoured', async () => {
    const frame = samplesOf(new Rng(SEED), ws.samples, 1, 1)[0];
    // Compared to the microsecond: a double near 1.7e12 holds no finer than ~0.24 µs anyway.
    const read = async (bytes: Buffer): Promise<number[]> => {
      const path = join(ws.workDir, 'timestamps');
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
      const path = join(ws.workDir, 'schema');
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
      const path = join(ws.workDir, name);
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
    const dir = join(ws.workDir, 'a-directory');
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
