import type { HostSecond, TopTalker } from '@nta/shared';
import { IpProto } from '../decode/transport.js';
import type { FlowTable } from './flow-table.js';
import { finalize, randomSeed } from './hash.js';
import { formatIpv4, formatIpv6 } from './ip-format.js';

const TOP_TALKERS = 10;
/**
 * Distinct addresses (per family) summed per second. Past this, new addresses in that second are
 * not ranked (counted in `talkersOverflowed`): a spoofed-source flood cannot grow memory, and
 * real heavy hitters have almost always appeared before the table fills.
 */
const MAX_TALKERS = 1 << 18;

interface Talker {
  packets: number;
  bytes: number;
}

/**
 * IPv4 talkers of one second in an open-addressing table of typed arrays: summing
 * per address allocates nothing (a Map keyed by 32-bit addresses boxes every key).
 */
class Ipv4TalkerTable {
  private mask = 1023;
  /** Secret, so crafted source addresses cannot pile into one probe run (the finalizer alone is invertible). */
  private readonly seed = randomSeed();
  private keys = new Uint32Array(1024);
  private used = new Uint8Array(1024);
  packets = new Uint32Array(1024);
  bytes = new Float64Array(1024);
  /** Occupied positions, in insertion order. */
  slots = new Int32Array(1024);
  count = 0;

  /** False when the table is full and `addr` is not in it. */
  add(addr: number, packets: number, bytes: number): boolean {
    if ((this.count + 1) * 2 > this.mask && this.mask + 1 < MAX_TALKERS * 2) this.grow();
    const i = this.position(addr);
    if (this.used[i] === 0) {
      if ((this.count + 1) * 2 > this.mask) return false; // full at its largest: only known addresses count
      this.used[i] = 1;
      this.keys[i] = addr;
      this.packets[i] = 0;
      this.bytes[i] = 0;
      this.slots[this.count++] = i;
    }
    this.packets[i] += packets;
    this.bytes[i] += bytes;
    return true;
  }

  /** Where `addr` is, or the empty position where it would go (linear probing). */
  private position(addr: number): number {
    let i = finalize((addr ^ this.seed) >>> 0) & this.mask;
    while (this.used[i] === 1 && this.keys[i] !== addr) i = (i + 1) & this.mask;
    return i;
  }

  key(i: number): number {
    return this.keys[i];
  }

  clear(): void {
    for (let n = 0; n < this.count; n++) this.used[this.slots[n]] = 0;
    this.count = 0;
  }

  private grow(): void {
    const old = { keys: this.keys, packets: this.packets, bytes: this.bytes, slots: this.slots, count: this.count };
    const size = (this.mask + 1) * 2;
    this.mask = size - 1;
    this.keys = new Uint32Array(size);
    this.used = new Uint8Array(size);
    this.packets = new Uint32Array(size);
    this.bytes = new Float64Array(size);
    this.slots = new Int32Array(size);
    this.count = 0;
    for (let n = 0; n < old.count; n++) {
      const i = old.slots[n];
      this.add(old.keys[i], old.packets[i], old.bytes[i]);
    }
  }
}

/**
 * Per-second counters for the whole host: packets, bytes, per protocol, and the top
 * talkers (bytes sent plus received per address). Talkers are summed from the flows
 * active in the second, so the per-packet path does no second lookup.
 */
export class HostCounters {
  /** Address additions not ranked because the second's talker table was full. */
  talkersOverflowed = 0;
  private second = -1;
  private packets = 0;
  private bytes = 0;
  private readonly protoPackets = new Float64Array(4); // tcp, udp, icmp, other
  private readonly protoBytes = new Float64Array(4);
  private readonly talkers4 = new Ipv4TalkerTable();
  private talkers6 = new Map<string, Talker>();
  private readonly fold = (table: FlowTable, slot: number, packets: number, bytes: number): void => {
    this.addTalkers(table, slot, packets, bytes);
  };

  constructor(
    private readonly table: FlowTable,
    private readonly onSecond: (second: HostSecond) => void,
  ) {
    table.onLeaveMidSecond = this.fold;
  }

  /** Moves to the second holding `tsMs`, emitting the previous one. Late packets count in the current second. */
  advance(tsMs: number): void {
    const second = Math.floor(tsMs / 1000);
    if (second > this.second) {
      if (this.second >= 0) this.emit();
      this.second = second;
    }
  }

  count(ipProto: number, wireLen: number): void {
    this.packets++;
    this.bytes += wireLen;
    const i = ipProto === IpProto.TCP ? 0 : ipProto === IpProto.UDP ? 1 : ipProto === IpProto.ICMP || ipProto === IpProto.ICMPV6 ? 2 : 3;
    this.protoPackets[i]++;
    this.protoBytes[i] += wireLen;
  }

  /** Emits the current second, if it saw anything (end of file, shutdown). */
  flush(): void {
    if (this.second >= 0) this.emit();
    this.second = -1;
  }

  private emit(): void {
    this.table.rollSecond(this.fold);
    if (this.packets === 0) return;
    const p = this.protoPackets;
    const b = this.protoBytes;
    this.onSecond({
      tsMs: this.second * 1000,
      packets: this.packets,
      bytes: this.bytes,
      protocols: {
        tcp: { packets: p[0], bytes: b[0] },
        udp: { packets: p[1], bytes: b[1] },
        icmp: { packets: p[2], bytes: b[2] },
        other: { packets: p[3], bytes: b[3] },
      },
      topTalkers: this.topTalkers(),
    });
    this.packets = 0;
    this.bytes = 0;
    p.fill(0);
    b.fill(0);
    this.talkers4.clear();
    this.talkers6 = new Map();
  }

  private addTalkers(table: FlowTable, slot: number, packets: number, bytes: number): void {
    if (table.family(slot) === 4) {
      if (!this.talkers4.add(table.addrA(slot), packets, bytes)) this.talkersOverflowed++;
      if (!this.talkers4.add(table.addrB(slot), packets, bytes)) this.talkersOverflowed++;
    } else {
      const w = table.v6Words;
      const p = table.addrA(slot) * 8;
      this.addTalker(formatIpv6(w[p], w[p + 1], w[p + 2], w[p + 3]), packets, bytes);
      this.addTalker(formatIpv6(w[p + 4], w[p + 5], w[p + 6], w[p + 7]), packets, bytes);
    }
  }

  private addTalker(key: string, packets: number, bytes: number): void {
    const t = this.talkers6.get(key);
    if (t === undefined) {
      if (this.talkers6.size >= MAX_TALKERS) this.talkersOverflowed++;
      else this.talkers6.set(key, { packets, bytes });
    } else {
      t.packets += packets;
      t.bytes += bytes;
    }
  }

  private topTalkers(): TopTalker[] {
    const top: TopTalker[] = [];
    // Keeps `top` sorted by bytes, largest first, holding at most TOP_TALKERS.
    const offer = (bytes: number, packets: number, addr: () => string): void => {
      if (top.length === TOP_TALKERS && bytes <= top[TOP_TALKERS - 1].bytes) return;
      let i = top.length < TOP_TALKERS ? top.length : TOP_TALKERS - 1;
      top[i] = { addr: addr(), packets, bytes };
      for (; i > 0 && top[i - 1].bytes < top[i].bytes; i--) [top[i - 1], top[i]] = [top[i], top[i - 1]];
    };
    const t4 = this.talkers4;
    for (let n = 0; n < t4.count; n++) {
      const i = t4.slots[n];
      offer(t4.bytes[i], t4.packets[i], () => formatIpv4(t4.key(i)));
    }
    for (const [addr, t] of this.talkers6) offer(t.bytes, t.packets, () => addr);
    return top;
  }
}
