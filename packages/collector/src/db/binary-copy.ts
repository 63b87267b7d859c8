/**
 * PostgreSQL's binary COPY format, written by hand: it loads about a third faster than
 * text COPY (see the brief) and needs no escaping, so no value can break out of its field.
 * One encoder per batch; `finish()` returns the whole payload.
 */
import { writeIpv4Bytes, writeIpv6Bytes } from '@nta/shared';

const UNSPECIFIED_V4 = new Uint8Array(4);
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const PG_EPOCH_MS = 946_684_800_000;
const TWO_32 = 4_294_967_296;
const PGSQL_AF_INET = 2;
const PGSQL_AF_INET6 = 3;

export class BinaryCopyEncoder {
  private buf: Buffer;
  private pos = 0;

  constructor(initialBytes = 1 << 20) {
    this.buf = Buffer.allocUnsafe(Math.max(initialBytes, 64));
    SIGNATURE.copy(this.buf, 0);
    this.pos = SIGNATURE.length;
    this.buf.writeInt32BE(0, this.pos); // flags
    this.buf.writeInt32BE(0, this.pos + 4); // header extension length
    this.pos += 8;
  }

  private ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + bytes));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  startRow(fields: number): void {
    this.ensure(2);
    this.buf.writeInt16BE(fields, this.pos);
    this.pos += 2;
  }

  null(): void {
    this.ensure(4);
    this.buf.writeInt32BE(-1, this.pos);
    this.pos += 4;
  }

  int16(v: number): void {
    this.ensure(6);
    this.buf.writeInt32BE(2, this.pos);
    this.buf.writeInt16BE(v, this.pos + 4);
    this.pos += 6;
  }

  int32(v: number): void {
    this.ensure(8);
    this.buf.writeInt32BE(4, this.pos);
    this.buf.writeInt32BE(v, this.pos + 4);
    this.pos += 8;
  }

  /** Non-negative integers up to 2^53 (counters). */
  int64(v: number): void {
    this.ensure(12);
    this.buf.writeInt32BE(8, this.pos);
    this.buf.writeUInt32BE(Math.floor(v / TWO_32), this.pos + 4);
    this.buf.writeUInt32BE(v % TWO_32, this.pos + 8);
    this.pos += 12;
  }

  float32(v: number): void {
    this.ensure(8);
    this.buf.writeInt32BE(4, this.pos);
    this.buf.writeFloatBE(v, this.pos + 4);
    this.pos += 8;
  }

  float64(v: number): void {
    this.ensure(12);
    this.buf.writeInt32BE(8, this.pos);
    this.buf.writeDoubleBE(v, this.pos + 4);
    this.pos += 12;
  }

  /** timestamptz from epoch milliseconds (fractions kept to the microsecond). */
  timestampMs(ms: number): void {
    const micros = Math.round((ms - PG_EPOCH_MS) * 1000);
    this.ensure(12);
    this.buf.writeInt32BE(8, this.pos);
    const hi = Math.floor(micros / TWO_32);
    this.buf.writeInt32BE(hi, this.pos + 4);
    this.buf.writeUInt32BE(micros - hi * TWO_32, this.pos + 8);
    this.pos += 12;
  }

  text(v: string): void {
    const maxBytes = v.length * 3;
    this.ensure(4 + maxBytes);
    const written = this.buf.write(v, this.pos + 4, 'utf8');
    this.buf.writeInt32BE(written, this.pos);
    this.pos += 4 + written;
  }

  optionalText(v: string | undefined | null): void {
    if (v === undefined || v === null) this.null();
    else this.text(v);
  }

  /** A canonical 8-4-4-4-12 UUID string (validated upstream by the wire schema). */
  uuid(v: string): void {
    this.ensure(20);
    this.buf.writeInt32BE(16, this.pos);
    let out = this.pos + 4;
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i);
      if (c === 45) continue; // '-'
      const hi = hexValue(c);
      const lo = hexValue(v.charCodeAt(++i));
      this.buf[out++] = (hi << 4) | lo;
    }
    this.pos += 20;
  }

  /** inet from address text, parsed straight into the buffer (no allocation per address). */
  inetText(text: string): void {
    this.ensure(24);
    const v6 = text.includes(':');
    const ok = v6 ? writeIpv6Bytes(text, this.buf, this.pos + 8) : writeIpv4Bytes(text, this.buf, this.pos + 8);
    if (!ok) {
      // The wire schema admits only valid addresses; should one slip through, store 0.0.0.0 rather than fail the batch.
      this.inet(UNSPECIFIED_V4);
      return;
    }
    const length = v6 ? 16 : 4;
    this.buf.writeInt32BE(4 + length, this.pos);
    this.buf[this.pos + 4] = v6 ? PGSQL_AF_INET6 : PGSQL_AF_INET;
    this.buf[this.pos + 5] = v6 ? 128 : 32;
    this.buf[this.pos + 6] = 0;
    this.buf[this.pos + 7] = length;
    this.pos += 8 + length;
  }

  /** inet from a bytes array of 4 or 16 (host address, full prefix). */
  inet(addr: Uint8Array): void {
    const v6 = addr.length === 16;
    this.ensure(8 + addr.length);
    this.buf.writeInt32BE(4 + addr.length, this.pos);
    this.buf[this.pos + 4] = v6 ? PGSQL_AF_INET6 : PGSQL_AF_INET;
    this.buf[this.pos + 5] = v6 ? 128 : 32;
    this.buf[this.pos + 6] = 0;
    this.buf[this.pos + 7] = addr.length;
    this.buf.set(addr, this.pos + 8);
    this.pos += 8 + addr.length;
  }

  finish(): Buffer {
    this.ensure(2);
    this.buf.writeInt16BE(-1, this.pos);
    this.pos += 2;
    return this.buf.subarray(0, this.pos);
  }
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  throw new Error('invalid hex digit in uuid');
}
