import { readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

const DEFAULT_CHUNK_BYTES = 1024 * 1024;
/** The largest single record or block the reader will hold; anything larger is damage, not data. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

/**
 * A file read in large chunks into one reused buffer. Parsers consume [pos, end) in a
 * synchronous loop and call `refill()` only when a record straddles the end, so the
 * per-packet path has no promises and no allocation.
 */
export class ChunkedFile {
  buf: Uint8Array;
  view: DataView;
  pos = 0;
  end = 0;
  eof = false;
  /** File offset of buf[0]. */
  base = 0;

  private constructor(private readonly fh: FileHandle, chunkBytes: number) {
    this.buf = new Uint8Array(chunkBytes);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  static async open(path: string, chunkBytes = DEFAULT_CHUNK_BYTES): Promise<ChunkedFile> {
    const fh = await open(path, 'r');
    const file = new ChunkedFile(fh, chunkBytes);
    try {
      await file.refill(0);
    } catch (err) {
      await fh.close();
      throw err;
    }
    return file;
  }

  get available(): number {
    return this.end - this.pos;
  }

  get offset(): number {
    return this.base + this.pos;
  }

  /**
   * Moves unread bytes to the front and reads more, so that at least `need` bytes are
   * available unless the file ends first. Returns false at end of file with fewer bytes.
   */
  async refill(need: number): Promise<boolean> {
    if (need > MAX_RECORD_BYTES) throw new RangeError(`record of ${need} bytes exceeds the ${MAX_RECORD_BYTES}-byte limit`);
    if (need > this.buf.length) this.grow(need);
    if (this.pos > 0) {
      this.buf.copyWithin(0, this.pos, this.end);
      this.base += this.pos;
      this.end -= this.pos;
      this.pos = 0;
    }
    while (!this.eof && this.end < this.buf.length && (this.end < need || this.end < this.buf.length / 2)) {
      // A synchronous read: an async one costs a thread-pool round trip per chunk (~15% of a
      // whole run, measured), and the parser could not use the time anyway.
      const bytesRead = readSync(this.fh.fd, this.buf, this.end, this.buf.length - this.end, this.base + this.end);
      if (bytesRead === 0) this.eof = true;
      this.end += bytesRead;
    }
    return this.end - this.pos >= need;
  }

  private grow(need: number): void {
    let size = this.buf.length;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(this.pos, this.end));
    this.end -= this.pos;
    this.base += this.pos;
    this.pos = 0;
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}
