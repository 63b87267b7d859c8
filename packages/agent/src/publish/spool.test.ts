import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { Spool, decodeRecord, encodeRecord } from './spool.js';
import type { SpoolRecord } from './spool.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nta-spool-test-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function rec(i: number, payloadBytes = 100): SpoolRecord {
  const payload = Buffer.alloc(payloadBytes, i % 251);
  payload.write(`#${i}#`);
  return { subject: `nta.v1.flows.agent-${i % 3}`, msgId: `agent.run.${i}`, payload, items: i + 1 };
}

/** Drains a spool in order, removing each record as if it had been acknowledged. */
function drain(spool: Spool): SpoolRecord[] {
  const out: SpoolRecord[] = [];
  for (let e = spool.peek(); e; e = spool.peek()) {
    out.push({ subject: e.subject, msgId: e.msgId, payload: Buffer.from(e.payload), items: e.items });
    spool.remove(e.seq);
  }
  return out;
}

describe('spool', () => {
  test('spool - reads records back in append order and removes them', () => {
    const spool = new Spool({ dir });
    const records = Array.from({ length: 50 }, (_, i) => rec(i));
    for (const r of records) spool.append(r);
    expect(spool.stats().pendingBatches).toBe(50);
    expect(spool.stats().pendingBytes).toBeGreaterThan(50 * 100);
    expect(drain(spool)).toEqual(records);
    expect(spool.stats()).toMatchObject({ pendingBatches: 0, pendingBytes: 0, droppedBatches: 0 });
    expect(readdirSync(dir)).toEqual([]);
  });

  test('spool - removal out of order keeps the rest in order', () => {
    const spool = new Spool({ dir });
    const seqs = Array.from({ length: 10 }, (_, i) => spool.append(rec(i)));
    spool.remove(seqs[3]);
    spool.remove(seqs[7]);
    spool.remove(seqs[0]);
    spool.remove(12345); // unknown: ignored
    expect(spool.seqs()).toEqual([1, 2, 4, 5, 6, 8, 9].map((i) => seqs[i]));
    expect(spool.nextAfter(0)).toBe(seqs[1]);
    expect(spool.nextAfter(seqs[2])).toBe(seqs[4]);
    expect(spool.nextAfter(seqs[9])).toBeUndefined();
    expect(drain(spool).map((r) => r.msgId)).toEqual([1, 2, 4, 5, 6, 8, 9].map((i) => `agent.run.${i}`));
  });

  test('spool - survives a restart: a new instance on the same dir sees the records, new ones follow', () => {
    const first = new Spool({ dir });
    for (let i = 0; i < 5; i++) first.append(rec(i));
    first.remove(first.seqs()[0]);
    const bytes = first.stats().pendingBytes;

    const second = new Spool({ dir });
    expect(second.stats()).toMatchObject({ pendingBatches: 4, pendingBytes: bytes });
    second.append(rec(5));
    expect(drain(second).map((r) => r.msgId)).toEqual([1, 2, 3, 4, 5].map((i) => `agent.run.${i}`));
  });

  test('spool - bounded by maxBytes: drops the oldest and counts batches and items', () => {
    const size = encodeRecord(rec(0, 1000)).length;
    const spool = new Spool({ dir, maxBytes: size * 10 + size / 2 });
    for (let i = 0; i < 25; i++) spool.append(rec(i, 1000));
    const st = spool.stats();
    expect(st.pendingBatches).toBe(10);
    expect(st.pendingBytes).toBeLessThanOrEqual(spool.maxBytes);
    expect(st.droppedBatches).toBe(15);
    expect(st.droppedItems).toBe(Array.from({ length: 15 }, (_, i) => i + 1).reduce((a, b) => a + b, 0));
    expect(drain(spool).map((r) => r.msgId)).toEqual(Array.from({ length: 10 }, (_, i) => `agent.run.${i + 15}`));
  });

  test('spool - a record larger than the whole spool is dropped and counted, the rest kept', () => {
    const spool = new Spool({ dir, maxBytes: 4096 });
    spool.append(rec(0));
    expect(spool.append(rec(1, 10_000))).toBe(-1);
    expect(spool.stats()).toMatchObject({ pendingBatches: 1, droppedBatches: 1, droppedItems: 2 });
  });

  test('spool - a smaller bound on restart trims what an earlier run left', () => {
    const big = new Spool({ dir });
    for (let i = 0; i < 10; i++) big.append(rec(i, 1000));
    const size = encodeRecord(rec(0, 1000)).length;
    const small = new Spool({ dir, maxBytes: size * 4 });
    expect(small.stats()).toMatchObject({ pendingBatches: 4, droppedBatches: 6, droppedItems: 1 + 2 + 3 + 4 + 5 + 6 });
    expect(drain(small).map((r) => r.msgId)).toEqual([6, 7, 8, 9].map((i) => `agent.run.${i}`));
  });

  test('spool - torn writes: a leftover temp file is ignored, a truncated or corrupted record is skipped and counted', () => {
    const first = new Spool({ dir });
    for (let i = 0; i < 4; i++) first.append(rec(i));
    const files = readdirSync(dir).sort();
    // A crash mid-append leaves a temp file; a power loss can leave a short or damaged record.
    writeFileSync(join(dir, '0000000000000099.rec.tmp'), Buffer.from('partial'));
    truncateSync(join(dir, files[1]), 30);
    const damaged = encodeRecord(rec(2));
    damaged[damaged.length - 1] ^= 0xff;
    writeFileSync(join(dir, files[2]), damaged);

    const second = new Spool({ dir });
    expect(readdirSync(dir).some((f) => f.endsWith('.tmp'))).toBe(false);
    expect(second.stats().pendingBatches).toBe(4);
    expect(drain(second).map((r) => r.msgId)).toEqual(['agent.run.0', 'agent.run.3']);
    expect(second.stats()).toMatchObject({ pendingBatches: 0, corruptBatches: 2, droppedBatches: 0 });
  });

  test('spool - record codec rejects damage of every kind', () => {
    const buf = encodeRecord(rec(7));
    const { payload, ...meta } = rec(7);
    const back = decodeRecord(buf);
    expect(back).toMatchObject(meta);
    expect(Buffer.from((back as SpoolRecord).payload).equals(payload)).toBe(true);
    expect(decodeRecord(buf.subarray(0, 10))).toBe('truncated header');
    expect(decodeRecord(buf.subarray(0, buf.length - 1))).toBe('length mismatch');
    const badMagic = Buffer.from(buf);
    badMagic[0] = 0;
    expect(decodeRecord(badMagic)).toBe('bad magic');
    const badCrc = Buffer.from(buf);
    badCrc[30] ^= 1;
    expect(decodeRecord(badCrc)).toBe('checksum mismatch');
  });
});
