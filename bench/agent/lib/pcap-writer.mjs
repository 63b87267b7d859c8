// Classic pcap writer (little-endian, microsecond timestamps, LINKTYPE_ETHERNET) that
// frames Ethernet / 802.1Q / IPv4 / IPv6 / TCP / UDP / ICMP packets straight into one
// large buffer and writes it out in big blocks. Checksums are computed and correct.
import { closeSync, openSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

export const LINKTYPE_ETHERNET = 1;
export const SNAPLEN = 262_144;
export const Proto = { ICMP: 1, TCP: 6, UDP: 17, ICMPV6: 58 };
export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 };

const POOL_BYTES = 1 << 20;

// A worker thread writes one buffer while the main thread fills the other. `state` holds,
// per buffer, the byte count waiting to be written (0: free, -1: stop), then an error flag.
const WRITER_THREAD = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const { fd, sabs, stateSab } = workerData;
const state = new Int32Array(stateSab);
const bufs = sabs.map((s) => new Uint8Array(s));
for (let i = 0; ; i ^= 1) {
  Atomics.wait(state, i, 0);
  const len = state[i];
  if (len < 0) break;
  try {
    for (let off = 0; off < len; ) off += writeSync(fd, bufs[i], off, len - off);
  } catch (err) {
    state[2] = 1;
  }
  Atomics.store(state, i, 0);
  Atomics.notify(state, i);
}
Atomics.store(state, 3, 1);
Atomics.notify(state, 3);
`;

/**
 * One bidirectional conversation; direction 0 is client to server, 1 is server to client.
 * @typedef {object} Flow
 * @property {boolean} v6
 * @property {number} proto       Proto.*
 * @property {number} vlan        802.1Q VLAN id, 0 for an untagged frame
 * @property {Uint8Array[]} macs  [client side, server side (or the router)]
 * @property {Uint8Array[]} ips   4 or 16 bytes each
 * @property {number[]} ports     [client, server]
 * @property {number[]} ttl
 * @property {number[]} ipId
 * @property {number[]} seq       next TCP sequence number each way
 * @property {number[]} tsBase    TCP timestamp clock offset each way
 * @property {number[]} tsLast    last TCP timestamp value sent each way (for TSecr)
 * @property {number[]} win
 * @property {number} flowLabel
 */

export class PcapWriter {
  /**
   * @param {string} path
   * @param {import('./rng.mjs').Rng} rng source of filler bytes
   * @param {number} [bufferBytes]
   */
  constructor(path, rng, bufferBytes = 16 << 20) {
    this.fd = openSync(path, 'w');
    const sabs = [new SharedArrayBuffer(bufferBytes), new SharedArrayBuffer(bufferBytes)];
    this.bufs = sabs.map((sab) => Buffer.from(sab));
    this.current = 0;
    this.buf = this.bufs[0];
    const stateSab = new SharedArrayBuffer(16);
    this.state = new Int32Array(stateSab);
    this.worker = new Worker(WRITER_THREAD, { eval: true, workerData: { fd: this.fd, sabs, stateSab } });
    this.worker.unref();
    this.pos = 0;
    this.packets = 0;
    this.bytes = 24;
    this.firstUs = -1;
    this.lastUs = 0;
    this.pool = Buffer.from(rng.fill(new Uint8Array(POOL_BYTES)));
    // poolPrefix[k]: sum of the pool's first k big-endian 16-bit words, so the checksum
    // of filler taken from an even pool offset costs two reads instead of a loop.
    this.poolPrefix = new Float64Array(POOL_BYTES / 2 + 1);
    for (let k = 0; k < POOL_BYTES / 2; k++) this.poolPrefix[k + 1] = this.poolPrefix[k] + ((this.pool[2 * k] << 8) | this.pool[2 * k + 1]);
    this.rng = rng;
    /** While true, frames are built (sessions advance) but not kept: a warm-up. */
    this.discarding = false;
    this.stats = newStats();
    const h = this.buf;
    h.writeUInt32LE(0xa1b2c3d4, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeInt32LE(0, 8);
    h.writeUInt32LE(0, 12);
    h.writeUInt32LE(SNAPLEN, 16);
    h.writeUInt32LE(LINKTYPE_ETHERNET, 20);
    this.pos = 24;
  }

  /** Ends the warm-up: frames from here on are kept and counted. */
  endWarmup() {
    this.discarding = false;
    this.stats = newStats();
  }

  /** Makes room for a frame of up to `frameLen` bytes; it starts at `this.pos + 16`. */
  ensure(frameLen) {
    if (this.pos + 16 + frameLen > this.buf.length) this.flush();
  }

  /** Appends the record header for the frame already written at `this.pos + 16`. */
  commit(tsUs, frameLen) {
    if (this.discarding) return;
    const b = this.buf;
    const p = this.pos;
    const sec = Math.floor(tsUs / 1e6);
    le32(b, p, sec);
    le32(b, p + 4, tsUs - sec * 1e6);
    le32(b, p + 8, frameLen);
    le32(b, p + 12, frameLen);
    this.pos = p + 16 + frameLen;
    this.packets++;
    this.bytes += 16 + frameLen;
    if (this.firstUs < 0) this.firstUs = tsUs;
    this.lastUs = tsUs;
  }

  /** Writes a frame given as bytes (ARP and other non-IP traffic). */
  writeRaw(tsUs, frame) {
    const len = Math.max(60, frame.length);
    this.ensure(len);
    const o = this.pos + 16;
    this.buf.set(frame, o);
    this.buf.fill(0, o + frame.length, o + len);
    this.stats.nonIp++;
    this.commit(tsUs, len);
  }

  /**
   * Frames one packet of `f`: Ethernet, optional 802.1Q tag, IPv4/IPv6, then TCP (with
   * options and tracked sequence numbers), UDP, or ICMP (the message is `head`), then the
   * payload: `head` followed by `fillLen` opaque bytes. Returns the frame length.
   * @param {number} tsUs @param {Flow} f @param {number} dir @param {number} flags TCP flags
   * @param {Uint8Array | null} head @param {number} fillLen
   */
  packet(tsUs, f, dir, flags, head, fillLen) {
    const src = dir;
    const dst = 1 - dir;
    const proto = f.proto;
    const tcp = proto === Proto.TCP;
    const tcpHdr = flags & TcpFlag.SYN ? 40 : flags & TcpFlag.RST ? 20 : 32;
    const l4Hdr = tcp ? tcpHdr : proto === Proto.UDP ? 8 : 0;
    const headLen = head === null ? 0 : head.length;
    const payloadLen = headLen + fillLen;
    const ipHdr = f.v6 ? 40 : 20;
    const ipLen = ipHdr + l4Hdr + payloadLen;
    const l2 = f.vlan ? 18 : 14;
    const frameLen = Math.max(60, l2 + ipLen);
    this.ensure(frameLen);
    const b = this.buf;
    const start = this.pos + 16;
    let o = start;
    b.set(f.macs[dst], o);
    b.set(f.macs[src], o + 6);
    o += 12;
    if (f.vlan) {
      b[o] = 0x81;
      b[o + 1] = 0x00;
      be16(b, o + 2, f.vlan & 0x0fff);
      o += 4;
      this.stats.vlan++;
    }
    be16(b, o, f.v6 ? 0x86dd : 0x0800);
    o += 2;
    const ipOff = o;
    if (f.v6) {
      be32(b, o, (0x60000000 | (f.flowLabel & 0xfffff)) >>> 0);
      be16(b, o + 4, l4Hdr + payloadLen);
      b[o + 6] = proto;
      b[o + 7] = f.ttl[src];
      b.set(f.ips[src], o + 8);
      b.set(f.ips[dst], o + 24);
      this.stats.ipv6++;
    } else {
      b[o] = 0x45;
      b[o + 1] = 0;
      be16(b, o + 2, ipLen);
      be16(b, o + 4, f.ipId[src]);
      f.ipId[src] = (f.ipId[src] + 1) & 0xffff;
      be16(b, o + 6, tcp ? 0x4000 : 0);
      b[o + 8] = f.ttl[src];
      b[o + 9] = proto;
      be16(b, o + 10, 0);
      b.set(f.ips[src], o + 12);
      b.set(f.ips[dst], o + 16);
      be16(b, o + 10, ~fold(sum16(b, o, o + 20)) & 0xffff);
    }
    o += ipHdr;
    const l4 = o;
    let csumAt;
    if (tcp) {
      writeTcpHeader(b, o, f, src, dst, flags, tcpHdr, tsUs);
      f.seq[src] = (f.seq[src] + payloadLen + (flags & TcpFlag.SYN ? 1 : 0) + (flags & TcpFlag.FIN ? 1 : 0)) >>> 0;
      csumAt = l4 + 16;
      this.stats.tcp++;
    } else if (proto === Proto.UDP) {
      be16(b, o, f.ports[src]);
      be16(b, o + 2, f.ports[dst]);
      be16(b, o + 4, 8 + payloadLen);
      be16(b, o + 6, 0);
      csumAt = l4 + 6;
      this.stats.udp++;
    } else {
      csumAt = l4 + 2; // ICMP and ICMPv6: the message, checksum at offset 2, comes in `head`
      if (proto === Proto.ICMP) this.stats.icmp++;
      else this.stats.icmpv6++;
    }
    o += l4Hdr;
    if (headLen) b.set(head, o);
    const fillAt = o + headLen;
    const end = o + payloadLen;
    b[csumAt] = 0;
    b[csumAt + 1] = 0;
    let sum;
    if (fillLen) {
      const from = 2 * this.rng.int((POOL_BYTES - fillLen) >> 1);
      this.pool.copy(b, fillAt, from, from + fillLen);
      if (((fillAt - l4) & 1) === 0) {
        const w0 = from >> 1;
        sum = sum16(b, l4, fillAt) + this.poolPrefix[w0 + (fillLen >> 1)] - this.poolPrefix[w0];
        if (fillLen & 1) sum += this.pool[from + fillLen - 1] << 8;
      } else {
        sum = sum16(b, l4, end);
      }
    } else {
      sum = sum16(b, l4, end);
    }
    if (proto !== Proto.ICMP) sum += pseudoHeaderSum(b, ipOff, f.v6, proto, end - l4);
    let csum = ~fold(sum) & 0xffff;
    if (csum === 0 && proto === Proto.UDP) csum = 0xffff; // 0 means "no checksum" in UDP
    be16(b, csumAt, csum);
    if (end - start < frameLen) b.fill(0, end, start + frameLen);
    this.commit(tsUs, frameLen);
    return frameLen;
  }

  /** Hands the filled buffer to the writer thread and continues in the other one. */
  flush() {
    if (this.pos > 0) {
      Atomics.store(this.state, this.current, this.pos);
      Atomics.notify(this.state, this.current);
      this.current ^= 1;
      this.buf = this.bufs[this.current];
      this.pos = 0;
    }
    this.awaitFree(this.current);
  }

  awaitFree(i) {
    for (let v = Atomics.load(this.state, i); v > 0; v = Atomics.load(this.state, i)) Atomics.wait(this.state, i, v);
    if (this.state[2]) throw new Error('pcap writer: write failed (disk full?)');
  }

  close() {
    this.flush();
    this.awaitFree(this.current ^ 1);
    Atomics.store(this.state, this.current, -1);
    Atomics.notify(this.state, this.current);
    while (Atomics.load(this.state, 3) === 0) Atomics.wait(this.state, 3, 0);
    closeSync(this.fd);
  }
}

function newStats() {
  return { tcp: 0, udp: 0, icmp: 0, icmpv6: 0, nonIp: 0, ipv6: 0, vlan: 0 };
}

/** @param {Buffer} b @param {number} o @param {Flow} f */
function writeTcpHeader(b, o, f, src, dst, flags, hdrLen, tsUs) {
  be16(b, o, f.ports[src]);
  be16(b, o + 2, f.ports[dst]);
  be32(b, o + 4, f.seq[src]);
  be32(b, o + 8, flags & TcpFlag.ACK ? f.seq[dst] : 0);
  b[o + 12] = (hdrLen / 4) << 4;
  b[o + 13] = flags;
  be16(b, o + 14, flags & TcpFlag.RST ? 0 : flags & TcpFlag.SYN ? (f.v6 ? 64800 : 64240) : f.win[src]);
  be32(b, o + 16, 0); // checksum (filled in later) and urgent pointer
  if (hdrLen === 20) return;
  const tsval = (f.tsBase[src] + Math.floor(tsUs / 1000)) >>> 0;
  const tsecr = flags & TcpFlag.ACK ? f.tsLast[dst] : 0;
  f.tsLast[src] = tsval;
  let p = o + 20;
  if (hdrLen === 40) {
    // MSS, SACK permitted, timestamps, NOP, window scale: what Linux sends.
    b[p] = 2;
    b[p + 1] = 4;
    be16(b, p + 2, f.v6 ? 1440 : 1460);
    b[p + 4] = 4;
    b[p + 5] = 2;
    p += 6;
  } else {
    b[p] = 1;
    b[p + 1] = 1;
    p += 2;
  }
  b[p] = 8;
  b[p + 1] = 10;
  be32(b, p + 2, tsval);
  be32(b, p + 6, tsecr);
  if (hdrLen === 40) {
    b[p + 10] = 1;
    b[p + 11] = 3;
    b[p + 12] = 3;
    b[p + 13] = 7;
  }
}

function pseudoHeaderSum(b, ipOff, v6, proto, l4Len) {
  if (v6) return sum16(b, ipOff + 8, ipOff + 40) + proto + l4Len;
  return sum16(b, ipOff + 12, ipOff + 20) + proto + l4Len;
}

/** Sum of big-endian 16-bit words over b[start, end), odd tail padded with zero. */
export function sum16(b, start, end) {
  let s = 0;
  let i = start;
  for (; i + 1 < end; i += 2) s += (b[i] << 8) | b[i + 1];
  if (i < end) s += b[i] << 8;
  return s;
}

/** Folds a sum into 16 bits, one's-complement style. */
export function fold(s) {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return s;
}

export function be16(b, o, v) {
  b[o] = v >>> 8;
  b[o + 1] = v;
}

export function be32(b, o, v) {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

function le32(b, o, v) {
  b[o] = v;
  b[o + 1] = v >>> 8;
  b[o + 2] = v >>> 16;
  b[o + 3] = v >>> 24;
}
