import type { HostSecond } from '@nta/shared';
import { describe, expect, it } from 'vitest';
import { DecodedPacket } from '../decode/packet.js';
import { FlowTable } from './flow-table.js';
import { HostCounters } from './host-counters.js';

describe('host-counters', () => {
  it('host-counters - a flood of distinct sources is bounded and the heavy hitter still ranks first', () => {
    const table = new FlowTable({}, () => undefined);
    const seconds: HostSecond[] = [];
    const host = new HostCounters(table, (s) => seconds.push(s));
    const pkt = new DecodedPacket();
    pkt.family = 4;
    pkt.ipProto = 17;
    pkt.dst0 = 0xc0000201; // 192.0.2.1, the target every source talks to
    pkt.dport = 53;
    const sources = 270_000;
    const t0 = 1_760_000_000_000;
    host.advance(t0);
    for (let i = 0; i < sources; i++) {
      pkt.src0 = (0x0a000000 + i) >>> 0;
      pkt.sport = 40000;
      host.count(17, 60);
      table.ingest(pkt, t0 + i / 1000, 60);
    }
    host.flush();
    expect(seconds).toHaveLength(1);
    // 270,001 distinct addresses against a table that ranks 262,143 (2^18 - 1, kept at most half
    // full): the rest are counted, not ranked.
    expect(host.talkersOverflowed).toBe(sources + 1 - ((1 << 18) - 1));
    expect(seconds[0].topTalkers[0]).toEqual({ addr: '192.0.2.1', packets: sources, bytes: sources * 60 });
    expect(seconds[0].packets).toBe(sources);
  });
});
