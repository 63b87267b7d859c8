import type { HostSecond, TopTalker } from '@nta/shared';
import { IpProto } from '../decode/transport.js';
import type { FlowTable } from './flow-table.js';
import { formatIpv4, formatIpv6 } from './ip-format.js';

const TOP_TALKERS = 10;

interface Talker {
  packets: number;
  bytes: number;
}

/**
 * Per-second counters for the whole host: packets, bytes, per protocol, and the top
 * talkers (bytes sent plus received per address). Talkers are summed from the flows
 * active in the second, so the per-packet path does no second lookup.
 */
export class HostCounters {
  private second = -1;
  private packets = 0;
  private bytes = 0;
  private readonly protoPackets = new Float64Array(4); // tcp, udp, icmp, other
  private readonly protoBytes = new Float64Array(4);
  private talkers = new Map<number | string, Talker>();
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
    this.talkers = new Map();
  }

  private addTalkers(table: FlowTable, slot: number, packets: number, bytes: number): void {
    if (table.family[slot] === 4) {
      this.addTalker(table.addrA[slot], packets, bytes);
      this.addTalker(table.addrB[slot], packets, bytes);
    } else {
      const w = table.v6Words;
      const p = table.addrA[slot] * 8;
      this.addTalker(formatIpv6(w[p], w[p + 1], w[p + 2], w[p + 3]), packets, bytes);
      this.addTalker(formatIpv6(w[p + 4], w[p + 5], w[p + 6], w[p + 7]), packets, bytes);
    }
  }

  private addTalker(key: number | string, packets: number, bytes: number): void {
    const t = this.talkers.get(key);
    if (t === undefined) this.talkers.set(key, { packets, bytes });
    else {
      t.packets += packets;
      t.bytes += bytes;
    }
  }

  private topTalkers(): TopTalker[] {
    const top: Array<[number | string, Talker]> = [];
    for (const entry of this.talkers) {
      if (top.length < TOP_TALKERS) {
        top.push(entry);
        if (top.length === TOP_TALKERS) top.sort((x, y) => y[1].bytes - x[1].bytes);
      } else if (entry[1].bytes > top[TOP_TALKERS - 1][1].bytes) {
        top[TOP_TALKERS - 1] = entry;
        top.sort((x, y) => y[1].bytes - x[1].bytes);
      }
    }
    if (top.length < TOP_TALKERS) top.sort((x, y) => y[1].bytes - x[1].bytes);
    return top.map(([key, t]) => ({
      addr: typeof key === 'number' ? formatIpv4(key) : key,
      packets: t.packets,
      bytes: t.bytes,
    }));
  }
}
