/**
 * A bounded on-disk FIFO of messages waiting for NATS. One file per record, written to a
 * temporary name and renamed into place, so a crash never leaves a half-written record
 * under a real name; each record also carries a CRC-32, so a file damaged by a power loss
 * (rename without fsync) is detected, counted and skipped rather than sent.
 *
 * It is synchronous on purpose: it is used only while NATS is unreachable or slow, the
 * records are whole batches (tens of KB, a few per second), and synchronous calls keep
 * the order trivially right.
 *
 * Record layout (little-endian):
 *   magic "NTS1" | crc32 u32 (of everything after it) | items u32 | subjectLen u16 |
 *   msgIdLen u16 | payloadLen u32 | subject | msgId | payload
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { ErrorCode, NtaError } from '@nta/shared';
import type { Logger } from 'pino';

export const DEFAULT_SPOOL_MAX_BYTES = 256 * 1024 * 1024;

const MAGIC = 0x3153544e; // "NTS1" read as little-endian u32
const HEADER_BYTES = 20;
const RECORD_SUFFIX = '.rec';
const TEMP_SUFFIX = '.tmp';
const NAME_DIGITS = 16;

export interface SpoolRecord {
  subject: string;
  msgId: string;
  payload: Uint8Array;
  /** How many flows (or host seconds) the payload carries; counted when a record is dropped. */
  items: number;
}

export interface SpoolEntry extends SpoolRecord {
  /** Position in the spool, increasing in append order (also across restarts). */
  seq: number;
}

export interface SpoolStats {
  pendingBatches: number;
  pendingBytes: number;
  /** Records dropped, oldest first, to keep the spool under maxBytes. */
  droppedBatches: number;
  droppedItems: number;
  /** Records found damaged on read (torn write after a crash) and discarded. */
  corruptBatches: number;
}

export interface SpoolOptions {
  dir: string;
  /** Upper bound on the bytes of all records. Default 256 MiB. */
  maxBytes?: number;
  /** fsync each record before it is renamed into place: survives power loss, costs a disk flush per batch. */
  fsync?: boolean;
  log?: Logger;
}

export class SpoolError extends NtaError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(ErrorCode.SPOOL, message, options);
  }
}

interface IndexEntry {
  seq: number;
  bytes: number;
  items: number;
}

export class Spool {
  readonly dir: string;
  readonly maxBytes: number;
  readonly #fsync: boolean;
  readonly #log: Logger | undefined;
  /** Records in seq order. Removal is mostly from the head, so a head index avoids O(n) shifts. */
  #index: IndexEntry[] = [];
  #head = 0;
  #bySeq = new Map<number, IndexEntry>();
  #nextSeq = 1;
  #pendingBytes = 0;
  #droppedBatches = 0;
  #droppedItems = 0;
  #corruptBatches = 0;

  /** Opens (creating if needed) a spool directory and indexes the records a previous run left. */
  constructor(opts: SpoolOptions) {
    this.dir = opts.dir;
    this.maxBytes = opts.maxBytes ?? DEFAULT_SPOOL_MAX_BYTES;
    if (!(this.maxBytes > HEADER_BYTES)) throw new SpoolError(`spool maxBytes too small: ${this.maxBytes}`);
    this.#fsync = opts.fsync ?? false;
    this.#log = opts.log;
    try {
      mkdirSync(this.dir, { recursive: true });
      this.#load();
    } catch (err) {
      throw new SpoolError(`cannot open spool dir ${this.dir}`, { cause: err });
    }
  }

  #load(): void {
    const found: IndexEntry[] = [];
    for (const name of readdirSync(this.dir)) {
      const path = join(this.dir, name);
      if (name.endsWith(TEMP_SUFFIX)) {
        unlinkSync(path); // an append interrupted before its rename: never acknowledged as spooled
        continue;
      }
      if (!name.endsWith(RECORD_SUFFIX)) continue;
      const seq = Number(name.slice(0, -RECORD_SUFFIX.length));
      if (!Number.isSafeInteger(seq) || seq <= 0) continue;
      const bytes = statSync(path).size;
      found.push({ seq, bytes, items: 0 });
    }
    found.sort((a, b) => a.seq - b.seq);
    for (const e of found) this.#push(e);
    if (found.length > 0) {
      this.#nextSeq = found[found.length - 1].seq + 1;
      this.#log?.info({ dir: this.dir, pendingBatches: found.length, pendingBytes: this.#pendingBytes }, 'spool has records from a previous run');
    }
    // Respect a maxBytes smaller than what an earlier run left behind.
    this.#trim(0);
  }

  get size(): number {
    return this.#index.length - this.#head;
  }

  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  stats(): SpoolStats {
    return {
      pendingBatches: this.size,
      pendingBytes: this.#pendingBytes,
      droppedBatches: this.#droppedBatches,
      droppedItems: this.#droppedItems,
      corruptBatches: this.#corruptBatches,
    };
  }

  /** Sequence numbers of the records in order, oldest first. */
  seqs(): number[] {
    return this.#index.slice(this.#head).map((e) => e.seq);
  }

  /** The seq of the first record after `seq` (0: the oldest), or undefined. */
  nextAfter(seq: number): number | undefined {
    let lo = this.#head;
    let hi = this.#index.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#index[mid].seq <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.#index.length ? this.#index[lo].seq : undefined;
  }

  has(seq: number): boolean {
    return this.#bySeq.has(seq);
  }

  /**
   * Appends a record at the tail and returns its seq. When the spool would exceed maxBytes,
   * the oldest records are dropped (and counted) first; a record larger than maxBytes on its
   * own is dropped and counted, and -1 returned. Throws SpoolError when the disk write fails.
   */
  append(rec: SpoolRecord): number {
    const buf = encodeRecord(rec);
    if (buf.length > this.maxBytes) {
      this.#countDrop(1, rec.items, 'record larger than the spool');
      return -1;
    }
    this.#trim(buf.length);
    const seq = this.#nextSeq++;
    const path = this.#path(seq);
    const tmp = path + TEMP_SUFFIX;
    try {
      const fd = openSync(tmp, 'w');
      try {
        writeSync(fd, buf);
        if (this.#fsync) fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, path);
    } catch (err) {
      try {
        unlinkSync(tmp);
      } catch {
        // nothing to clean up
      }
      throw new SpoolError(`cannot write spool record ${path}`, { cause: err });
    }
    this.#push({ seq, bytes: buf.length, items: rec.items });
    return seq;
  }

  /** The oldest record, or undefined when empty. Damaged records are discarded on the way. */
  peek(): SpoolEntry | undefined {
    while (this.size > 0) {
      const entry = this.read(this.#index[this.#head].seq);
      if (entry) return entry;
    }
    return undefined;
  }

  /**
   * Reads one record. Returns undefined if it is not in the spool, or if it is damaged: then
   * it is removed and counted in corruptBatches.
   */
  read(seq: number): SpoolEntry | undefined {
    const e = this.#bySeq.get(seq);
    if (!e) return undefined;
    let rec: SpoolRecord | string;
    try {
      rec = decodeRecord(readFileSync(this.#path(seq)));
    } catch (err) {
      rec = `unreadable: ${(err as Error).message}`;
    }
    if (typeof rec === 'string') {
      this.#corruptBatches++;
      this.#log?.warn({ dir: this.dir, seq, reason: rec }, 'discarded a damaged spool record');
      this.remove(seq);
      return undefined;
    }
    e.items = rec.items;
    return { seq, ...rec };
  }

  /** Removes a record (after it was acknowledged). Unknown seqs are ignored. */
  remove(seq: number): void {
    const e = this.#bySeq.get(seq);
    if (!e) return;
    this.#bySeq.delete(seq);
    this.#pendingBytes -= e.bytes;
    try {
      unlinkSync(this.#path(seq));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.#log?.warn({ err, seq }, 'cannot delete spool record');
    }
    if (this.#index[this.#head] === e) {
      this.#head++;
    } else {
      const i = this.#index.indexOf(e, this.#head);
      if (i >= 0) this.#index.splice(i, 1);
    }
    // Compact the array now and then.
    if (this.#head > 1024 && this.#head * 2 > this.#index.length) {
      this.#index = this.#index.slice(this.#head);
      this.#head = 0;
    }
  }

  #push(e: IndexEntry): void {
    this.#index.push(e);
    this.#bySeq.set(e.seq, e);
    this.#pendingBytes += e.bytes;
  }

  /** Drops the oldest records until `incoming` more bytes fit. */
  #trim(incoming: number): void {
    let batches = 0;
    let items = 0;
    while (this.size > 0 && this.#pendingBytes + incoming > this.maxBytes) {
      const oldest = this.#index[this.#head];
      if (oldest.items === 0) this.#peekItems(oldest);
      batches++;
      items += oldest.items;
      this.remove(oldest.seq);
    }
    if (batches > 0) this.#countDrop(batches, items, 'spool full: dropped the oldest records');
  }

  /** Records loaded at start have an unknown item count until read: read just the header. */
  #peekItems(e: IndexEntry): void {
    try {
      const head = readFileSync(this.#path(e.seq)).subarray(0, HEADER_BYTES);
      if (head.length === HEADER_BYTES) e.items = head.readUInt32LE(8);
    } catch {
      // counted as a batch without a known item count
    }
  }

  #countDrop(batches: number, items: number, msg: string): void {
    this.#droppedBatches += batches;
    this.#droppedItems += items;
    this.#log?.warn(
      { dir: this.dir, batches, items, droppedBatches: this.#droppedBatches, droppedItems: this.#droppedItems },
      msg,
    );
  }

  #path(seq: number): string {
    return join(this.dir, String(seq).padStart(NAME_DIGITS, '0') + RECORD_SUFFIX);
  }
}

export function encodeRecord(rec: SpoolRecord): Buffer {
  const subject = Buffer.from(rec.subject, 'utf8');
  const msgId = Buffer.from(rec.msgId, 'utf8');
  if (subject.length > 0xffff || msgId.length > 0xffff) throw new SpoolError('subject or msgId too long for the spool');
  const buf = Buffer.allocUnsafe(HEADER_BYTES + subject.length + msgId.length + rec.payload.length);
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt32LE(rec.items >>> 0, 8);
  buf.writeUInt16LE(subject.length, 12);
  buf.writeUInt16LE(msgId.length, 14);
  buf.writeUInt32LE(rec.payload.length, 16);
  let off = HEADER_BYTES;
  off += subject.copy(buf, off);
  off += msgId.copy(buf, off);
  buf.set(rec.payload, off);
  buf.writeUInt32LE(crc32(buf.subarray(8)), 4);
  return buf;
}

/** The record, or a string saying why the bytes are not one. */
export function decodeRecord(buf: Buffer): SpoolRecord | string {
  if (buf.length < HEADER_BYTES) return 'truncated header';
  if (buf.readUInt32LE(0) !== MAGIC) return 'bad magic';
  const subjectLen = buf.readUInt16LE(12);
  const msgIdLen = buf.readUInt16LE(14);
  const payloadLen = buf.readUInt32LE(16);
  if (buf.length !== HEADER_BYTES + subjectLen + msgIdLen + payloadLen) return 'length mismatch';
  if (crc32(buf.subarray(8)) !== buf.readUInt32LE(4)) return 'checksum mismatch';
  let off = HEADER_BYTES;
  const subject = buf.toString('utf8', off, (off += subjectLen));
  const msgId = buf.toString('utf8', off, (off += msgIdLen));
  // A copy, so the record does not pin a larger pooled buffer.
  const payload = new Uint8Array(buf.subarray(off, off + payloadLen));
  return { subject, msgId, payload, items: buf.readUInt32LE(8) };
}
